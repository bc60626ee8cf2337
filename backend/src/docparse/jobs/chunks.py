"""Chunks: one document's pages parsed by many workers, and the one Redis hash that knows when they are all done.

A job's first run (unit 0, the SAQ job keyed by the job id) parses pages until a short time budget is used up.
A document that is done by then never hears of chunks. Otherwise the run measures its pace, splits the pages
left into units of about DOCPARSE_CHUNK_SECONDS of work each, and ends; every unit is a SAQ job of its own on
the same queue, which any worker on any machine takes. A unit that overruns its budget (the pages got harder)
splits its own rest the same way, so a unit stays a few seconds of work whatever the estimate said.

Fairness: at most DOCPARSE_CHUNK_WINDOW units of one job wait in the queue at a time; the next is queued when one
starts. A 10,000-page upload then holds at most that many places ahead of other users' jobs, while as many
workers as are free still work on it.

The plan (a Redis hash per job) is changed only by the scripts below, each one step, so concurrent units, a
cancel and a duplicate run (saq #277) agree: a unit ends once, and the run that ends the last unit is the one
that writes the job's ending — exactly once, with no polling.

Fields: attempt, n (units so far, unit 0 included), open (units not ended), next (first unit not yet queued),
queued (queued, not started), running (started, not ended), c<k> (unit k's pages, "first-last,..."),
s<k> (unit k started), e<k> (unit k ended).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from docparse.jobs.records import RecordStore, reply

# Queue units while fewer than the window wait. Shared tail of the scripts below (needs `plan`, `window`).
_FILL = """
local pushed = {}
local n = tonumber(redis.call('HGET', plan, 'n'))
local nxt = tonumber(redis.call('HGET', plan, 'next'))
local queued = tonumber(redis.call('HGET', plan, 'queued'))
while queued < window and nxt < n do
  table.insert(pushed, nxt)
  nxt = nxt + 1
  queued = queued + 1
end
redis.call('HSET', plan, 'next', nxt, 'queued', queued)
"""

# KEYS: plan. ARGV: unit, window, attempt, the new units' pages... Adds units and ends `unit` (the one that split).
_SPLIT = (
    """
local plan, unit, window, attempt = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
if redis.call('EXISTS', plan) == 0 then
  redis.call('HSET', plan, 'attempt', attempt, 'n', 1, 'open', 1, 'next', 1, 'queued', 0, 'running', 1, 's0', 1)
elseif redis.call('HGET', plan, 'attempt') ~= attempt then return {-2} end
if redis.call('HEXISTS', plan, 'e' .. unit) == 1 then return {-1} end
local n = tonumber(redis.call('HGET', plan, 'n'))
for i = 4, #ARGV do
  redis.call('HSET', plan, 'c' .. n, ARGV[i])
  n = n + 1
end
redis.call('HSET', plan, 'n', n)
redis.call('HINCRBY', plan, 'open', #ARGV - 3)
redis.call('HSET', plan, 'e' .. unit, 1)
local open = redis.call('HINCRBY', plan, 'open', -1)
redis.call('HINCRBY', plan, 'running', -1)
"""
    + _FILL
    + "return {open, unpack(pushed)}"
)

# KEYS: plan. ARGV: unit, window, attempt. Returns {0, units to queue...}, {-1} when the unit has ended (a
# duplicate or late run), {-2} when the plan is gone or belongs to another attempt.
_START = (
    """
local plan, unit, window, attempt = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
if redis.call('HGET', plan, 'attempt') ~= attempt then return {-2} end
if redis.call('HEXISTS', plan, 'e' .. unit) == 1 then return {-1} end
if redis.call('HSETNX', plan, 's' .. unit, 1) == 1 then
  redis.call('HINCRBY', plan, 'queued', -1)
  redis.call('HINCRBY', plan, 'running', 1)
end
"""
    + _FILL
    + "return {0, unpack(pushed)}"
)

# KEYS: plan. ARGV: unit, window, attempt. Ends the unit: {units still open, units to queue...}; {0} without a
# plan (a job that never split: its only unit just ended); {-1} ended already; {-2} another attempt's plan.
_END = (
    """
local plan, unit, window, attempt = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
if redis.call('EXISTS', plan) == 0 then return {0} end
if attempt ~= '' and redis.call('HGET', plan, 'attempt') ~= attempt then return {-2} end
if redis.call('HEXISTS', plan, 'e' .. unit) == 1 then return {-1} end
redis.call('HSET', plan, 'e' .. unit, 1)
local open = redis.call('HINCRBY', plan, 'open', -1)
if redis.call('HEXISTS', plan, 's' .. unit) == 1 then redis.call('HINCRBY', plan, 'running', -1)
else redis.call('HINCRBY', plan, 'queued', -1) end
"""
    + _FILL
    + "return {open, unpack(pushed)}"
)

# KEYS: plan. Ends every unit never queued (a cancelled or failed job queues nothing more). Returns {open, the
# attempt, then unit, started (1/0) for each unit queued or running (those still to end)}, or {-1} without a plan.
_STOP = """
local plan = KEYS[1]
if redis.call('EXISTS', plan) == 0 then return {-1} end
local n = tonumber(redis.call('HGET', plan, 'n'))
local nxt = tonumber(redis.call('HGET', plan, 'next'))
local open = tonumber(redis.call('HGET', plan, 'open'))
for u = nxt, n - 1 do
  redis.call('HSET', plan, 'e' .. u, 1)
  open = open - 1
end
redis.call('HSET', plan, 'next', n, 'open', open)
local live = {}
for u = 0, nxt - 1 do
  if redis.call('HEXISTS', plan, 'e' .. u) == 0 then
    table.insert(live, u)
    table.insert(live, redis.call('HEXISTS', plan, 's' .. u))
  end
end
return {open, redis.call('HGET', plan, 'attempt'), unpack(live)}
"""


@dataclass(frozen=True)
class Step:
    """What a plan script said: `open` units left (0: the caller ends the job), units the caller must queue."""

    open: int
    enqueue: list[int]

    @property
    def refused(self) -> bool:
        return self.open < 0


@dataclass(frozen=True)
class Stopped:
    """A plan after stop(): units still open, its attempt, and the units queued or running (still to end)."""

    open: int
    attempt: int
    running: list[int]
    waiting: list[int]


@dataclass(frozen=True)
class Progress:
    """The plan as the status shows it."""

    total: int
    running: int
    done: int


class Plans:
    """The chunk plans of a queue's jobs, at `docparse:<queue>:plan:<job_id>`."""

    def __init__(self, records: RecordStore, window: int) -> None:
        self.redis: Redis = records.redis
        self.records = records
        self.window = window
        self._split = self.redis.register_script(_SPLIT)
        self._start = self.redis.register_script(_START)
        self._end = self.redis.register_script(_END)
        self._stop = self.redis.register_script(_STOP)

    def key(self, job_id: str) -> str:
        return self.records.job_keys(job_id).plan

    async def split(self, job_id: str, unit: int, attempt: int, parts: Sequence[Sequence[int]]) -> Step:
        """Add a unit for each of `parts` (1-based page numbers) and end `unit`."""
        args: list[str | int] = [unit, self.window, attempt, *(page_spec(p) for p in parts)]
        return _step(await self._split(keys=[self.key(job_id)], args=args))

    async def start(self, job_id: str, unit: int, attempt: int) -> Step:
        return _step(await self._start(keys=[self.key(job_id)], args=[unit, self.window, attempt]))

    async def end(self, job_id: str, unit: int, attempt: int | None) -> Step:
        args = [unit, self.window, "" if attempt is None else attempt]
        return _step(await self._end(keys=[self.key(job_id)], args=args))

    async def stop(self, job_id: str) -> Stopped | None:
        """End the units never queued; None without a plan."""
        raw = await self._stop(keys=[self.key(job_id)])
        if int(raw[0]) < 0:
            return None
        live = [int(v) for v in raw[2:]]
        pairs = list(zip(live[0::2], live[1::2], strict=True))
        return Stopped(int(raw[0]), int(raw[1]), [u for u, s in pairs if s], [u for u, s in pairs if not s])

    async def live_units(self, job_id: str) -> tuple[int, list[int]] | None:
        """(attempt, units queued or running) of a split job; None for a job that never split."""
        raw: dict[bytes, bytes] = await reply(self.redis.hgetall(self.key(job_id)))
        if not raw or b"next" not in raw:
            return None
        ended = {int(k[1:]) for k in raw if k.startswith(b"e")}
        return int(raw[b"attempt"]), [u for u in range(int(raw[b"next"])) if u not in ended]

    async def size(self, job_id: str) -> tuple[int, int] | None:
        """(attempt, units so far) of a split job; None for a job that never split."""
        attempt, n = await reply(self.redis.hmget(self.key(job_id), ["attempt", "n"]))
        return None if attempt is None or n is None else (int(attempt), int(n))

    async def ended(self, job_id: str, unit: int) -> bool:
        return bool(await reply(self.redis.hexists(self.key(job_id), f"e{unit}")))

    async def pages(self, job_id: str, unit: int) -> list[int] | None:
        spec: bytes | None = await reply(self.redis.hget(self.key(job_id), f"c{unit}"))
        return None if spec is None else parse_spec(spec.decode())

    async def progress(self, job_id: str) -> Progress | None:
        fields: list[bytes | None] = await reply(self.redis.hmget(self.key(job_id), ["n", "open", "running"]))
        return progress_from(fields)

    async def delete(self, job_id: str) -> None:
        await reply(self.redis.delete(self.key(job_id)))


def progress_from(fields: Sequence[bytes | None]) -> Progress | None:
    """Progress from the plan's n, open and running fields (HMGET order); None for a job that never split."""
    n, open_, running = fields
    if n is None or open_ is None:
        return None
    return Progress(total=int(n), running=int(running or 0), done=int(n) - int(open_))


def _step(raw: list[int]) -> Step:
    return Step(int(raw[0]), [int(u) for u in raw[1:]])


def chunk_key(job_id: str, attempt: int, unit: int) -> str:
    """SAQ key of a unit (unit 0 is the job's own SAQ job, keyed by the job id)."""
    return job_id if unit == 0 else f"{job_id}:{attempt}:{unit}"


def split_pages(numbers: Sequence[int], seconds_per_page: float, chunk_seconds: float) -> list[list[int]]:
    """`numbers` cut into consecutive runs of about `chunk_seconds` of work each (at least one page each); the
    last run is about half as long, so the document's end is not one worker's alone while the others wait."""
    work = len(numbers) * seconds_per_page
    parts = max(1, min(len(numbers), math.ceil(work / chunk_seconds + 0.5)))
    if parts == 1:
        return [list(numbers)]
    size = len(numbers) / (parts - 0.5)  # parts - 1 runs of `size` pages and one of size / 2
    bounds = [round(size * i) for i in range(parts)] + [len(numbers)]
    return [list(numbers[a:b]) for a, b in itertools.pairwise(bounds) if b > a]


def page_spec(numbers: Sequence[int]) -> str:
    """Ascending page numbers as "1-5,9,12-13"."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ",".join(f"{a}-{b}" if a != b else str(a) for a, b in runs)


def parse_spec(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return out
