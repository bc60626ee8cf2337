"""Our own job records in Redis: what SAQ does not keep (file, options, pages, typed errors) and the history."""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Mapping, Set
from typing import Any, NamedTuple, TypedDict, Unpack

import msgspec
import structlog
from redis.asyncio import Redis

from docparse.errors import InvalidRequest
from docparse.jobs.metrics import metrics_key
from docparse.jobs.state import TERMINAL as _TERMINAL
from docparse.jobs.state import JobState

log = structlog.get_logger(__name__)


async def reply(answer: Awaitable[Any] | Any) -> Any:
    """A command's reply. redis-py types each command for its sync and async clients at once, and for decoded
    strings, so the caller states the type (this client answers bytes)."""
    return await answer


class PageError(msgspec.Struct):
    number: int
    code: str
    message: str


class JobRecord(msgspec.Struct, kw_only=True):
    """One job as stored in its Redis hash. `status` is what the job's own code last wrote; the public status
    merges it with SAQ's view (see status.py), because a dead worker cannot write anything. Only the operations
    of state.py write `status`."""

    job_id: str
    filename: str
    file_type: str
    size: int
    sha256: str
    created_at: float
    options: dict[str, Any] = {}
    status: JobState = JobState.QUEUED
    pages_done: int = 0
    pages_total: int | None = None
    failed_pages: list[PageError] = []
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0
    error_code: str | None = None
    error_message: str | None = None
    cancel_requested: bool = False
    owner: str = ""  # the API key's owner id when keys are on; "" when they are off
    settled_at: float | None = None  # when a worker last finished with the job (SAQ writes nothing after it)
    callback_url: str = ""  # where the job's ending is POSTed (see webhooks.py); "" for none
    reused_from: str | None = None  # the job whose result this one copied instead of parsing (same file, options)
    reused_parsed_at: float | None = None  # when that job finished


class JobKeys(NamedTuple):
    """A job's Redis keys besides its record."""

    pages: str  # the index of stored pages (pagestore.py)
    failed: str  # pages that failed (pagestore.py)
    plan: str  # the chunk plan (chunks.py)
    deliveries: str  # webhook tries (webhooks.py)


class RecordUpdate(TypedDict, total=False):
    """The fields of a record a writer may set, by name and type (a misspelt field is a type error). `status`
    is not one of them: it changes only through the operations of state.py."""

    pages_done: int
    pages_total: int | None
    failed_pages: list[PageError]
    started_at: float | None
    finished_at: float | None
    error_code: str | None
    error_message: str | None
    cancel_requested: bool
    settled_at: float | None


_JSON_FIELDS = {"options", "failed_pages"}
_KNOWN_FIELDS = {*JobRecord.__struct_fields__, "password"}
_unknown_logged: set[str] = set()  # unknown field names already logged by this process


def _to_hash(values: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in values.items():
        if key in _JSON_FIELDS:
            out[key] = msgspec.json.encode(value).decode()
        elif isinstance(value, bool):
            out[key] = "1" if value else ""
        elif value is None:
            out[key] = ""
        else:
            out[key] = str(value)
    return out


def record_from_hash(raw: dict[bytes, bytes]) -> JobRecord:
    """The record in a Redis hash. A field this code does not know (written by a newer or older version, or
    misspelt) is left out and logged, once per name per process, rather than dropped without a trace."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name, text = key.decode(), value.decode()
        if name not in _KNOWN_FIELDS:
            if name not in _unknown_logged:
                _unknown_logged.add(name)
                log.warning("unknown field in a job record", field=name)
            continue
        if name in _JSON_FIELDS:
            values[name] = msgspec.json.decode(text)
        elif name == "password":
            continue
        elif text == "":
            values[name] = None if name != "cancel_requested" else False
        else:
            values[name] = text
    values = {k: v for k, v in values.items() if v is not None}
    return msgspec.convert(values, JobRecord, strict=False)


def hash_from_reply(flat: list[bytes]) -> dict[bytes, bytes]:
    """A hash as a Lua script returns it (HGETALL's flat list of fields and values)."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def record_and_password(raw: dict[bytes, bytes]) -> tuple[JobRecord | None, str | None]:
    """The record in a hash and its password (None, None when the hash is gone)."""
    if not raw:
        return None, None
    password = raw.get(b"password")
    return record_from_hash(raw), password.decode() if password is not None else None


def _flat(values: Mapping[str, object]) -> list[Any]:
    """Field, value, field, value... as HSET and our scripts take them."""
    return [item for pair in values.items() for item in pair]


# Writes to an existing record only: a worker finishing a job that was deleted meanwhile must not bring its
# record back to life (without an expiry, it would never go away). ARGV: fields and values.
_WRITE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

# Every change of state, as one check-and-set (see state.py). KEYS: the record, the live set, the webhook outbox,
# the metrics hash, the owner's remembered results, then the keys that expire with the record (job_keys). ARGV:
# the states it may change from (space-separated), ttl (>0 expire, <0 persist, 0 leave), "1" to count the attempt,
# what becomes of the job in the live set ("add", "remove" or ""), the job id, the number of field/value arguments
# that follow, the fields and values, then what an applied change also does, in threes: "incr"/"incrf" field
# amount (the metrics), "remember" fingerprint ttl (a result a later upload may reuse); "read" - - returns the
# record as it was before. An ending of a job with a callback URL goes on the outbox in the same step
# ("<job id>:<attempt>"), so no ending loses its webhook. Returns {result, state it was in, the record before
# (with "read")}: result 0 when the record is gone, -1 when refused, else 1 or the attempt number.
_TRANSITION = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, '', {}} end
local n = tonumber(ARGV[6])
local before = {}
for i = 7 + n, #ARGV, 3 do
  if ARGV[i] == 'read' then before = redis.call('HGETALL', KEYS[1]) end
end
local state = redis.call('HGET', KEYS[1], 'status') or 'queued'
if not string.find(' ' .. ARGV[1] .. ' ', ' ' .. state .. ' ', 1, true) then return {-1, state, before} end
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 7, 6 + n)) end
local result = 1
if ARGV[3] == '1' then result = redis.call('HINCRBY', KEYS[1], 'attempts', 1) end
local ttl = tonumber(ARGV[2])
for i = 1, #KEYS do
  if i == 1 or i > 5 then
    if ttl > 0 then redis.call('EXPIRE', KEYS[i], ttl) elseif ttl < 0 then redis.call('PERSIST', KEYS[i]) end
  end
end
if ARGV[4] == 'remove' and (redis.call('HGET', KEYS[1], 'callback_url') or '') ~= '' then
  redis.call('RPUSH', KEYS[3], ARGV[5] .. ':' .. (redis.call('HGET', KEYS[1], 'attempts') or '0'))
end
if ARGV[4] == 'add' then redis.call('SADD', KEYS[2], ARGV[5]) elseif ARGV[4] == 'remove' then
  redis.call('SREM', KEYS[2], ARGV[5]) end
for i = 7 + n, #ARGV, 3 do
  local what = ARGV[i]
  if what == 'incr' then redis.call('HINCRBY', KEYS[4], ARGV[i + 1], ARGV[i + 2])
  elseif what == 'incrf' then redis.call('HINCRBYFLOAT', KEYS[4], ARGV[i + 1], ARGV[i + 2])
  elseif what == 'remember' then
    redis.call('HSET', KEYS[5], ARGV[i + 1], ARGV[5])
    redis.call('EXPIRE', KEYS[5], ARGV[i + 2])
  end
end
return {result, state, before}
"""


# KEYS: the deliveries list, the record. ARGV: the entry. Only while the record exists, expiring with it.
_ADD_DELIVERY = """
local ttl = redis.call('PTTL', KEYS[2])
if ttl == -2 then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
"""


# A new job's record, its place in the histories and the live set, and its upload counted, all in one step: the
# only way a record is created. KEYS: the record, the history, the owner's history, the owners, the live set, the
# metrics hash, SAQ's queued list, the owner's remembered results. ARGV: the most jobs that may wait ("" for no
# check), a fingerprint to look up among the remembered results ("" for none), the job id, created_at, the owner,
# the number of field/value arguments that follow, the fields and values, then metric fields and amounts.
# Returns {0} when the queue is full, {2, job id} when a remembered result may do instead (nothing written
# either way), else {1}.
_ADMIT = """
if ARGV[1] ~= '' and redis.call('LLEN', KEYS[7]) >= tonumber(ARGV[1]) then return {0} end
if ARGV[2] ~= '' then
  local remembered = redis.call('HGET', KEYS[8], ARGV[2])
  if remembered then return {2, remembered} end
end
local n = tonumber(ARGV[6])
redis.call('HSET', KEYS[1], unpack(ARGV, 7, 6 + n))
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[5])
redis.call('SADD', KEYS[5], ARGV[3])
for i = 7 + n, #ARGV, 2 do redis.call('HINCRBY', KEYS[6], ARGV[i], ARGV[i + 1]) end
return {1}
"""


class Admission(NamedTuple):
    """What RecordStore.admit did: created the record (`admitted`), refused it (the queue is full), or left it
    for `remembered`, a job of the same owner that parsed the same file with the same options."""

    admitted: bool
    remembered: str | None = None


_CURSOR = re.compile(r"(\d+(?:\.\d+)?):([\w-]{1,64})")


def history_cursor(created: float, job_id: str) -> str:
    """The opaque position after one job in a history: the caller passes it back as it came."""
    return base64.urlsafe_b64encode(f"{created!r}:{job_id}".encode()).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[str, str]:
    """(created_at, job id) of a cursor made by history_cursor(); anything else is an invalid request."""
    try:
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except ValueError:  # not base64, not ASCII, or not UTF-8 inside
        text = ""
    if (match := _CURSOR.fullmatch(text)) is None:
        raise InvalidRequest("cursor: not one this server gave out; pass next_cursor back as it came.")
    return match.group(1), match.group(2)


class RecordStore:
    """Job hashes at `docparse:<queue>:job:<id>`, the history of all jobs and of each owner's, ordered by creation
    time. A caller pages through its owner's history only, so a page or its cursor never names another's job."""

    def __init__(self, redis: Redis, queue_name: str) -> None:
        self.redis = redis
        self.prefix = f"docparse:{queue_name}"
        self.history_key = f"{self.prefix}:history"  # every job: what retention walks
        # job id -> owner; outlives the record (which expires), so retention still finds the owner's history
        self.owners_key = f"{self.prefix}:owners"
        self.live_key = f"{self.prefix}:live"  # jobs not finished yet: what the orphan rescue looks at
        self.outbox_key = f"{self.prefix}:outbox"  # endings whose webhook is still to be queued (webhooks.py)
        self.metrics_key = metrics_key(queue_name)  # the service's counters (metrics.py)
        self._write = redis.register_script(_WRITE)
        self._transition = redis.register_script(_TRANSITION)
        self._add_delivery = redis.register_script(_ADD_DELIVERY)
        self._admit = redis.register_script(_ADMIT)

    def key(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    def job_keys(self, job_id: str) -> JobKeys:
        """The keys beside the record that live and die with it (expire, persist and are deleted with it)."""
        return JobKeys(*(f"{self.prefix}:{kind}:{job_id}" for kind in JobKeys._fields))

    def owner_history_key(self, owner: str) -> str:
        return f"{self.prefix}:history:owner:{owner or 'public'}"  # owner ids are hex: "public" is no one's

    async def create(self, record: JobRecord, *, password: str | None) -> None:
        """The job's record, in its histories and the live set (admit without its checks or counts)."""
        await self.admit(record, password=password)

    async def admit(
        self,
        record: JobRecord,
        *,
        password: str | None,
        room: tuple[str, int] | None = None,
        lookup: str | None = None,
        counts: Mapping[str, int] | None = None,
    ) -> Admission:
        """Create the job's record as `create` does and add `counts` to the metrics, in one step, unless `room`
        (SAQ's queued list, the most jobs that may wait) says the queue is full, or `lookup` (a fingerprint, see
        idempotency.fingerprint) finds a result the owner may reuse instead. One round trip for the upload path."""
        fields = _to_hash(msgspec.structs.asdict(record))
        if password is not None:
            fields["password"] = password  # read only by the worker; deleted when the job ends
        pairs = _flat(fields)
        queued, most = room if room is not None else ("", "")
        args: list[str | int] = [
            most, lookup or "", record.job_id, repr(record.created_at), record.owner, len(pairs), *pairs,
            *_flat(counts or {}),
        ]  # fmt: skip
        # (without `room`, the queued list's place holds a key of ours the script does not read)
        keys = [
            self.key(record.job_id), self.history_key, self.owner_history_key(record.owner), self.owners_key,
            self.live_key, self.metrics_key, queued or self.live_key, self.seen_key(record.owner),
        ]  # fmt: skip
        result = await self._admit(keys=keys, args=args)
        return Admission(result[0] == 1, result[1].decode() if len(result) > 1 else None)

    async def get(self, job_id: str) -> JobRecord | None:
        raw: dict[bytes, bytes] = await reply(self.redis.hgetall(self.key(job_id)))
        return record_from_hash(raw) if raw else None

    async def get_with_password(self, job_id: str) -> tuple[JobRecord | None, str | None]:
        """The record and its password in one read (the worker needs both to start)."""
        raw: dict[bytes, bytes] = await reply(self.redis.hgetall(self.key(job_id)))
        return record_and_password(raw)

    async def password(self, job_id: str) -> str | None:
        value: bytes | None = await reply(self.redis.hget(self.key(job_id), "password"))
        return value.decode() if value is not None else None

    async def update(self, job_id: str, **values: Unpack[RecordUpdate]) -> bool:
        """Set some fields of an existing record (separate fields: concurrent writers never clobber each other).
        False when the record is gone. The status is not among them: see state.py."""
        if "status" in values:
            raise TypeError("the status changes only through state.py")
        args = _flat(_to_hash(dict(values)))
        return bool(await self._write(keys=[self.key(job_id)], args=args))

    async def transition(
        self,
        job_id: str,
        to: JobState | None,
        sources: Set[JobState],
        values: RecordUpdate,
        *,
        ttl: int = 0,
        count_attempt: bool = False,
        password: str | None = None,
        counts: Mapping[str, int | float] | None = None,
        remember: tuple[str, str] | None = None,
    ) -> tuple[int, JobState | None]:
        """The check-and-set behind every operation of state.py: when the record's state is one of `sources`,
        set it to `to` (None: leave it) with `values`, in one step. A live target keeps the job in the live set
        (what the orphan rescue walks), a terminal one takes it out. Returns (0 when the record is gone, -1 when
        refused, else 1 or the attempt number when `count_attempt`; the state the record was in). The `ttl`
        applies to the keys beside the record too (job_keys): results expire with it, and live again with it.
        Once applied, the same step adds `counts` to the service's metrics and, with `remember` (owner,
        fingerprint), remembers the job as that owner's result for the file and options (for `ttl` seconds)."""
        keys, args = self._transition_call(job_id, to, sources, values, ttl, count_attempt, password, counts, remember)
        result, state, *_ = await self._transition(keys=keys, args=args)
        return int(result), JobState(state.decode()) if state else None

    async def read_and_transition(
        self, job_id: str, to: JobState, sources: Set[JobState], values: RecordUpdate, *, count_attempt: bool = False
    ) -> tuple[int, JobState | None, JobRecord | None, str | None]:
        """transition(), and the record as it was just before with its password, in one round trip (how a run
        starts)."""
        keys, args = self._transition_call(job_id, to, sources, values, 0, count_attempt, None, None, None)
        result, state, flat = await self._transition(keys=keys, args=[*args, "read", "-", "-"])
        record, password = record_and_password(hash_from_reply(flat))
        return int(result), JobState(state.decode()) if state else None, record, password

    def _transition_call(
        self,
        job_id: str,
        to: JobState | None,
        sources: Set[JobState],
        values: RecordUpdate,
        ttl: int,
        count_attempt: bool,
        password: str | None,
        counts: Mapping[str, int | float] | None,
        remember: tuple[str, str] | None,
    ) -> tuple[list[str], list[str | int | float]]:
        """The keys and arguments of _TRANSITION."""
        fields = _to_hash(dict(values))
        if to is not None:
            fields["status"] = to.value
        if password is not None:
            fields["password"] = password  # read only by the worker; never shown
        live = "" if to is None else ("remove" if to in _TERMINAL else "add")
        pairs = _flat(fields)
        head = [" ".join(sorted(sources)), str(ttl), "1" if count_attempt else "", live, job_id, len(pairs)]
        args: list[str | int | float] = [*head, *pairs]
        for name, amount in (counts or {}).items():
            args += ["incrf" if isinstance(amount, float) else "incr", name, amount]
        owner = ""
        if remember is not None:
            owner, fingerprint = remember
            args += ["remember", fingerprint, ttl]
        keys = [
            self.key(job_id), self.live_key, self.outbox_key, self.metrics_key, self.seen_key(owner),
            *self.job_keys(job_id),
        ]  # fmt: skip
        return keys, args

    def seen_key(self, owner: str) -> str:
        """Completed jobs of `owner` by what they parsed (file and options; see idempotency.fingerprint)."""
        return f"{self.prefix}:seen:{owner or 'public'}"

    async def add_delivery(self, job_id: str, entry: bytes) -> None:
        """Record one webhook try; the list expires with the record."""
        await self._add_delivery(keys=[self.job_keys(job_id).deliveries, self.key(job_id)], args=[entry])

    async def deliveries(self, job_id: str) -> list[bytes]:
        entries: list[bytes] = await reply(self.redis.lrange(self.job_keys(job_id).deliveries, 0, -1))
        return entries

    async def delete(self, job_id: str) -> None:
        # an owner never changes: no need to watch it
        owner: bytes | None = await reply(self.redis.hget(self.owners_key, job_id))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key(job_id), *self.job_keys(job_id))
            pipe.zrem(self.history_key, job_id)
            if owner is not None:
                pipe.zrem(self.owner_history_key(owner.decode()), job_id)
            pipe.hdel(self.owners_key, job_id)
            pipe.srem(self.live_key, job_id)
            await pipe.execute()

    async def live(self) -> list[str]:
        members: set[bytes] = await reply(self.redis.smembers(self.live_key))
        return [m.decode() for m in members]

    async def history_page(self, cursor: str | None, count: int, owner: str | None = None) -> list[tuple[str, float]]:
        """Up to `count` (job id, created_at) pairs of `owner`'s history (everyone's with None), newest first,
        after `cursor` (from history_cursor())."""
        key = self.history_key if owner is None else self.owner_history_key(owner)
        start = 0
        if cursor:
            created, after = _read_cursor(cursor)
            # Not in this history (gone, or another owner's cursor): continue below its creation time.
            rank = await self.redis.zrevrank(key, after)
            if rank is None:
                rows = await self.redis.zrevrangebyscore(
                    key, f"({created}", "-inf", start=0, num=count, withscores=True
                )
                return [(m.decode(), score) for m, score in rows]
            start = rank + 1
        rows = await self.redis.zrevrange(key, start, start + count - 1, withscores=True)
        return [(m.decode(), score) for m, score in rows]

    async def history_before(self, created_before: float, count: int, offset: int = 0) -> list[str]:
        """The oldest job ids created before `created_before` (for the retention clean-up)."""
        rows = await self.redis.zrangebyscore(self.history_key, "-inf", f"({created_before}", start=offset, num=count)
        return [m.decode() for m in rows]

    async def index_owners(self, batch: int = 500) -> int:
        """Add jobs recorded before the per-owner histories existed to their owner's (read from their record).
        Runs once per queue (a marker key says it is done); safe to run twice at once. Returns the jobs added."""
        marker = f"{self.prefix}:owners-indexed"
        if await self.redis.exists(marker):
            return 0
        added, start = 0, 0
        while rows := await self.redis.zrange(self.history_key, start, start + batch - 1, withscores=True):
            start += len(rows)
            async with self.redis.pipeline(transaction=False) as pipe:
                for member, _ in rows:
                    pipe.hexists(self.owners_key, member)
                    pipe.hget(self.key(member.decode()), "owner")
                replies = await pipe.execute()
            async with self.redis.pipeline(transaction=True) as pipe:
                for (member, created), known, owner in zip(rows, replies[::2], replies[1::2], strict=True):
                    if known or owner is None:  # indexed already, or expired (retention removes it)
                        continue
                    pipe.zadd(self.owner_history_key(owner.decode()), {member: created})
                    pipe.hset(self.owners_key, member, owner)
                    added += 1
                await pipe.execute()
        await self.redis.set(marker, "1")
        return added
