"""Our own job records in Redis: what SAQ does not keep (file, options, pages, typed errors) and the history."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import msgspec
from redis.asyncio import Redis

from docparse.errors import InvalidRequest


class PageError(msgspec.Struct):
    number: int
    code: str
    message: str


class JobRecord(msgspec.Struct, kw_only=True):
    """One job as stored in its Redis hash. `status` is what the job's own code last wrote; the public status
    merges it with SAQ's view (see status.py), because a dead worker cannot write anything."""

    job_id: str
    filename: str
    file_type: str
    size: int
    sha256: str
    created_at: float
    options: dict[str, Any] = {}
    status: str = "queued"
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


_JSON_FIELDS = {"options", "failed_pages"}


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
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name, text = key.decode(), value.decode()
        if name in _JSON_FIELDS:
            values[name] = msgspec.json.decode(text)
        elif name == "password":
            continue
        elif text == "":
            values[name] = None if name != "cancel_requested" else False
        else:
            values[name] = text
    values = {k: v for k, v in values.items() if k in JobRecord.__struct_fields__ and v is not None}
    return msgspec.convert(values, JobRecord, strict=False)


# Lua: whether the record at KEYS[1] has finished (completed, failed or cancelled).
_FINISHED = """
local function finished()
  local s = redis.call('HGET', KEYS[1], 'status')
  return s == 'completed' or s == 'failed' or s == 'cancelled'
end
"""

# Writes to an existing record only: a worker finishing a job that was deleted meanwhile must not bring its
# record back to life (without an expiry, it would never go away). ARGV: ttl, live ("1": only while the record
# is not finished, so a late or duplicate run cannot bring a finished job back), then fields and values.
_GUARDED_WRITE = f"""{_FINISHED}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] == '1' and finished() then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
local ttl = tonumber(ARGV[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) elseif ttl < 0 then redis.call('PERSIST', KEYS[1]) end
return 1
"""

# The start of a run, as one check-and-set: a finished record (-1) or a deleted one (0) is left alone; otherwise
# the fields are written and the attempt counted in the same step (returns the attempt number).
_START = f"""{_FINISHED}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if finished() then return -1 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return redis.call('HINCRBY', KEYS[1], 'attempts', 1)
"""


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
        self._write = redis.register_script(_GUARDED_WRITE)
        self._start = redis.register_script(_START)

    def key(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    def owner_history_key(self, owner: str) -> str:
        return f"{self.prefix}:history:owner:{owner or 'public'}"  # owner ids are hex: "public" is no one's

    async def create(self, record: JobRecord, *, password: str | None) -> None:
        fields = _to_hash(msgspec.structs.asdict(record))
        if password is not None:
            fields["password"] = password  # read only by the worker; deleted when the job ends
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key(record.job_id), mapping=fields)
            pipe.zadd(self.history_key, {record.job_id: record.created_at})
            pipe.zadd(self.owner_history_key(record.owner), {record.job_id: record.created_at})
            pipe.hset(self.owners_key, record.job_id, record.owner)
            pipe.sadd(self.live_key, record.job_id)
            await pipe.execute()

    async def get(self, job_id: str) -> JobRecord | None:
        raw = await self.redis.hgetall(self.key(job_id))
        return record_from_hash(raw) if raw else None

    async def get_with_password(self, job_id: str) -> tuple[JobRecord | None, str | None]:
        """The record and its password in one read (the worker needs both to start)."""
        raw = await self.redis.hgetall(self.key(job_id))
        if not raw:
            return None, None
        password = raw.get(b"password")
        return record_from_hash(raw), password.decode() if password is not None else None

    async def password(self, job_id: str) -> str | None:
        value = await self.redis.hget(self.key(job_id), "password")
        return value.decode() if value is not None else None

    async def _guarded(
        self,
        job_id: str,
        values: dict[str, Any],
        *,
        ttl: int = 0,
        live: bool = False,
        extra: dict[str, str] | None = None,
    ) -> bool:
        fields = {**_to_hash(values), **(extra or {})}
        args: list[str] = [str(ttl), "1" if live else ""]
        for name, value in fields.items():
            args += [name, value]
        return bool(await self._write(keys=[self.key(job_id)], args=args))

    async def update(self, job_id: str, **values: Any) -> bool:
        """Set some fields of an existing record (separate fields: concurrent writers never clobber each other)."""
        return await self._guarded(job_id, values)

    async def update_live(self, job_id: str, **values: Any) -> bool:
        """Like update(), but only while the job has not finished: progress of a run that ended, or a "queued"
        written after another worker finished the job, must not bring it back. False when refused."""
        return await self._guarded(job_id, values, live=True)

    async def start(self, job_id: str, **values: Any) -> int:
        """Begin a run: write `values` and count the attempt, unless the job has finished (-1; only reopen()
        makes a finished job live again) or was deleted (0). Returns the attempt number otherwise."""
        args = [item for name, value in _to_hash(values).items() for item in (name, value)]
        return int(await self._start(keys=[self.key(job_id)], args=args))

    async def finish(self, job_id: str, ttl: int, **values: Any) -> bool:
        """Write the final state and let the record expire with the results; the first final state written
        stays (False when one was already there). The password stays as long as the extracted text does (page
        pictures of an encrypted document need it); it is never shown."""
        values.setdefault("finished_at", time.time())
        await self.redis.srem(self.live_key, job_id)
        return await self._guarded(job_id, values, ttl=ttl, live=True)

    async def reopen(self, job_id: str, password: str | None, **values: Any) -> bool:
        """Make a finished record live again (for a retry): no expiry, optionally a new password."""
        extra = {"password": password} if password is not None else None
        await self.redis.sadd(self.live_key, job_id)
        return await self._guarded(job_id, values, ttl=-1, extra=extra)

    async def delete(self, job_id: str) -> None:
        owner = await self.redis.hget(self.owners_key, job_id)  # an owner never changes: no need to watch it
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key(job_id))
            pipe.zrem(self.history_key, job_id)
            if owner is not None:
                pipe.zrem(self.owner_history_key(owner.decode()), job_id)
            pipe.hdel(self.owners_key, job_id)
            pipe.srem(self.live_key, job_id)
            await pipe.execute()

    async def live(self) -> list[str]:
        return [m.decode() for m in await self.redis.smembers(self.live_key)]

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
