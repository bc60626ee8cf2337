"""Parsed pages: written to storage many at a time (segments), found through an index in Redis.

A segment is the JSON of several pages, one per line, stored as one object (`jobs/<id>/pages/<name>`). The index
(a Redis hash, page number -> "segment:offset:length") is what makes a page exist: a page is indexed once, by
the first run that stored it, so a page parsed twice (SAQ can run a job twice, saq #277; a resumed chunk) is
counted once and readers never see two versions. The number of stored pages is the index's length, which is
the job's progress. Pages that failed are kept beside it (page number -> code and message) until one is stored.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import msgspec
from redis.asyncio import Redis

from docparse.jobs.records import (
    JobRecord,
    PageError,
    RecordStore,
    hash_from_reply,
    record_and_password,
    record_from_hash,
    reply,
)
from docparse.storage.base import Storage, segment_key

# KEYS: the index, the failures, the job's record. ARGV: the document's page count to record ("" for none: only
# while the job is live, as state.progress would), "1" to return the job's summary too, the segment's name, then
# number, offset, length for each page. Returns how many pages were new, -1 when the job was deleted (a late write
# must not bring keys back); with the summary, {new pages, pages stored, the failures, the record} (see summary()).
_INDEX = """
if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
if ARGV[1] ~= '' then
  local status = redis.call('HGET', KEYS[3], 'status')
  if not status or status == 'queued' or status == 'processing' then
    redis.call('HSET', KEYS[3], 'pages_total', ARGV[1])
  end
end
local added = 0
for i = 4, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[3] .. ':' .. ARGV[i + 1] .. ':' .. ARGV[i + 2]) == 1 then
    added = added + 1
    redis.call('HDEL', KEYS[2], ARGV[i])
  end
end
if ARGV[2] == '1' then
  return {added, redis.call('HLEN', KEYS[1]), redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3])}
end
return added
"""

Summary = tuple[JobRecord | None, list[PageError], int]  # the job's record, its failed pages, pages stored

# KEYS: the index, the failures, the record. ARGV: number, the failure as JSON. A page stored by another run
# stays stored.
_FAIL = """
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""

_READ_BATCH = 256  # index entries read per round trip when reading many pages


class PageStore:
    """The pages of every job: segments in `storage`, their index and the failed pages in Redis."""

    def __init__(self, records: RecordStore, storage: Storage) -> None:
        self.redis: Redis = records.redis
        self.records = records
        self.storage = storage
        self._index = self.redis.register_script(_INDEX)
        self._fail = self.redis.register_script(_FAIL)

    def index_key(self, job_id: str) -> str:
        return self.records.job_keys(job_id).pages

    def failures_key(self, job_id: str) -> str:
        return self.records.job_keys(job_id).failed

    def keys(self, job_id: str) -> list[str]:
        """Every Redis key of the job's pages (deleted and expired with its record)."""
        return [self.index_key(job_id), self.failures_key(job_id)]

    async def store(
        self, job_id: str, pages: list[tuple[int, bytes]], pages_total: int | None = None, *, summary: bool = False
    ) -> tuple[int, Summary | None]:
        """Write `pages` (number, JSON) as one segment and index them, and record the document's `pages_total`
        in the same step. Returns how many pages were new, and with `summary` the job's summary after the write,
        read in the same round trip (None when the job is gone)."""
        if not pages and pages_total is None and not summary:
            return 0, None
        name = f"{pages[0][0]}-{pages[-1][0]}-{uuid.uuid4().hex[:12]}.jsonl" if pages else ""
        entries: list[Any] = ["" if pages_total is None else pages_total, "1" if summary else "", name]
        offset = 0
        for number, data in pages:
            entries += [number, offset, len(data)]
            offset += len(data) + 1
        if pages:
            await self.storage.put(segment_key(job_id, name), b"\n".join(data for _, data in pages) + b"\n")
        answer = await self._index(keys=[*self.keys(job_id), self.records.key(job_id)], args=entries)
        if not isinstance(answer, list):
            if answer < 0:  # the job was deleted while these pages were parsed
                await self.storage.delete_job(job_id)
                return 0, None
            return int(answer), None
        added, stored, failures, record = answer
        job = record_and_password(hash_from_reply(record))[0]
        return int(added), (job, _errors(hash_from_reply(failures)), int(stored))

    async def fail(self, job_id: str, error: PageError) -> None:
        keys = [*self.keys(job_id), self.records.key(job_id)]
        await self._fail(keys=keys, args=[error.number, msgspec.json.encode(error)])

    async def copy(self, from_job: str, to_job: str) -> None:
        """Index another job's pages and failures for `to_job` (whose storage holds copies of the segments under
        the same names: see Storage.copy_results)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.index_key(from_job))
            pipe.hgetall(self.failures_key(from_job))
            index, failures = await pipe.execute()
        async with self.redis.pipeline(transaction=True) as pipe:
            if index:
                pipe.hset(self.index_key(to_job), mapping=index)
            if failures:
                pipe.hset(self.failures_key(to_job), mapping=failures)
            await pipe.execute()

    async def stored_numbers(self, job_id: str) -> list[int]:
        names: list[bytes] = await reply(self.redis.hkeys(self.index_key(job_id)))
        return sorted(int(n) for n in names)

    async def count(self, job_id: str) -> int:
        """Pages stored so far: the job's progress."""
        return int(await reply(self.redis.hlen(self.index_key(job_id))))

    async def stored_among(self, job_id: str, numbers: list[int]) -> list[int]:
        if not numbers:
            return []
        entries: list[bytes | None] = await reply(self.redis.hmget(self.index_key(job_id), numbers))
        return [n for n, e in zip(numbers, entries, strict=True) if e is not None]

    async def summary(self, job_id: str) -> Summary:
        """The job's record, its failed pages and the number stored, in one round trip (for the job's ending)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.records.key(job_id))
            pipe.hgetall(self.failures_key(job_id))
            pipe.hlen(self.index_key(job_id))
            record, raw, stored = await pipe.execute()
        return (record_from_hash(record) if record else None), _errors(raw), int(stored)

    async def failures(self, job_id: str) -> list[PageError]:
        return _errors(await reply(self.redis.hgetall(self.failures_key(job_id))))

    async def clear_failures(self, job_id: str) -> None:
        await reply(self.redis.delete(self.failures_key(job_id)))

    async def page(self, job_id: str, number: int) -> bytes | None:
        entry: bytes | None = await reply(self.redis.hget(self.index_key(job_id), str(number)))
        if entry is None:
            return None
        name, offset, length = entry.decode().rsplit(":", 2)
        try:
            return await self.storage.get_range(segment_key(job_id, name), int(offset), int(length))
        except FileNotFoundError:  # deleted meanwhile
            return None

    async def pages(self, job_id: str, numbers: Iterable[int]) -> AsyncIterator[tuple[int, bytes]]:
        """The stored pages among `numbers`, in the order given, reading neighbours of one segment in one request
        and holding at most one batch of pages in memory."""
        wanted = list(numbers)
        for start in range(0, len(wanted), _READ_BATCH):
            batch = wanted[start : start + _READ_BATCH]
            entries: list[bytes | None] = await reply(self.redis.hmget(self.index_key(job_id), batch))
            runs: list[tuple[str, int, list[tuple[int, int, int]]]] = []  # segment, start, [(number, offset, length)]
            for number, entry in zip(batch, entries, strict=True):
                if entry is None:
                    continue
                name, offset_text, length_text = entry.decode().rsplit(":", 2)
                offset, length = int(offset_text), int(length_text)
                last = runs[-1] if runs else None
                if last and last[0] == name and last[2][-1][1] + last[2][-1][2] + 1 == offset:
                    last[2].append((number, offset, length))
                else:
                    runs.append((name, offset, [(number, offset, length)]))
            for name, first, members in runs:
                end = members[-1][1] + members[-1][2]
                try:
                    data = await self.storage.get_range(segment_key(job_id, name), first, end - first)
                except FileNotFoundError:  # deleted meanwhile
                    return
                for number, offset, length in members:
                    yield number, data[offset - first : offset - first + length]


def _errors(raw: dict[bytes, bytes]) -> list[PageError]:
    return sorted((msgspec.json.decode(v, type=PageError) for v in raw.values()), key=lambda e: e.number)


class SegmentBuffer:
    """Pages on their way to storage: written when the oldest has waited `max_age` seconds or `max_bytes` have
    gathered, so a 2,000-page text document costs tens of writes while a page is readable soon after it is
    parsed, and a slow page (OCR) is written alone, at once. The document's page count waits the same way (a
    one-page document records it with its page, in one round trip)."""

    def __init__(self, store: PageStore, job_id: str, *, max_age: float, max_bytes: int) -> None:
        self.store, self.job_id = store, job_id
        self.max_age, self.max_bytes = max_age, max_bytes
        self.pages: list[tuple[int, bytes]] = []
        self.pages_total: int | None = None  # to record with the next write
        self.size = 0
        self.since = 0.0  # monotonic time the oldest buffered page arrived
        self.writes = 0

    def add(self, number: int, data: bytes) -> None:
        if not self.pages:
            self.since = time.monotonic()
        self.pages.append((number, data))
        self.size += len(data)

    def add_total(self, pages_total: int) -> None:
        if not self.pages and self.pages_total is None:
            self.since = time.monotonic()
        self.pages_total = pages_total

    def due(self) -> bool:
        waiting = bool(self.pages) or self.pages_total is not None
        return waiting and (self.size >= self.max_bytes or time.monotonic() - self.since >= self.max_age)

    async def flush(self) -> int:
        """Write what is buffered; returns the pages that were new."""
        return (await self.store.store(self.job_id, *self._take()))[0]

    async def flush_and_summarise(self) -> tuple[int, Summary | None]:
        """The last flush of a run: what is buffered, and the job's summary after it, in one round trip."""
        return await self.store.store(self.job_id, *self._take(), summary=True)

    def _take(self) -> tuple[list[tuple[int, bytes]], int | None]:
        pages, total, self.pages, self.pages_total, self.size = self.pages, self.pages_total, [], None, 0
        self.writes += bool(pages)
        return pages, total
