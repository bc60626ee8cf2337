"""Our own job records in Redis: what SAQ does not keep (file, options, pages, typed errors) and the history."""

from __future__ import annotations

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


# Writes to an existing record only: a worker finishing a job that was deleted meanwhile must not bring its
# record back to life (without an expiry, it would never go away).
_GUARDED_WRITE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
local ttl = tonumber(ARGV[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) elseif ttl < 0 then redis.call('PERSIST', KEYS[1]) end
return 1
"""


class RecordStore:
    """Job hashes at `docparse:<queue>:job:<id>` plus a history index ordered by creation time."""

    def __init__(self, redis: Redis, queue_name: str) -> None:
        self.redis = redis
        self.prefix = f"docparse:{queue_name}"
        self.history_key = f"{self.prefix}:history"
        self.live_key = f"{self.prefix}:live"  # jobs not finished yet: what the orphan rescue looks at
        self._write = redis.register_script(_GUARDED_WRITE)

    def key(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    async def create(self, record: JobRecord, *, password: str | None) -> None:
        fields = _to_hash(msgspec.structs.asdict(record))
        if password is not None:
            fields["password"] = password  # read only by the worker; deleted when the job ends
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key(record.job_id), mapping=fields)
            pipe.zadd(self.history_key, {record.job_id: record.created_at})
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
        forget_password: bool = False,
        extra: dict[str, str] | None = None,
    ) -> bool:
        fields = {**_to_hash(values), **(extra or {})}
        args: list[str] = [str(ttl)]
        for name, value in fields.items():
            args += [name, value]
        return bool(await self._write(keys=[self.key(job_id)], args=args))

    async def update(self, job_id: str, **values: Any) -> bool:
        """Set some fields of an existing record (separate fields: concurrent writers never clobber each other)."""
        return await self._guarded(job_id, values)

    async def finish(self, job_id: str, ttl: int, **values: Any) -> bool:
        """Write the final state and let the record expire with the results. The password stays as long as the
        extracted text does (page pictures of an encrypted document need it); it is never shown."""
        values.setdefault("finished_at", time.time())
        await self.redis.srem(self.live_key, job_id)
        return await self._guarded(job_id, values, ttl=ttl)

    async def reopen(self, job_id: str, password: str | None, **values: Any) -> bool:
        """Make a finished record live again (for a retry): no expiry, optionally a new password."""
        extra = {"password": password} if password is not None else None
        await self.redis.sadd(self.live_key, job_id)
        return await self._guarded(job_id, values, ttl=-1, extra=extra)

    async def delete(self, job_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key(job_id))
            pipe.zrem(self.history_key, job_id)
            pipe.srem(self.live_key, job_id)
            await pipe.execute()

    async def live(self) -> list[str]:
        return [m.decode() for m in await self.redis.smembers(self.live_key)]

    async def history_page(self, cursor: str | None, count: int) -> list[tuple[str, float]]:
        """Up to `count` (job id, created_at) pairs, newest first, after `cursor` ("<created_at>:<job id>")."""
        start = 0
        if cursor:
            created, _, after = cursor.partition(":")
            if not re.fullmatch(r"\d+(\.\d+)?", created):
                raise InvalidRequest("cursor: not one this server gave out; pass next_cursor back as it came.")
            rank = await self.redis.zrevrank(self.history_key, after)
            if rank is None:  # the cursor's job is gone: continue below its creation time
                rows = await self.redis.zrevrangebyscore(
                    self.history_key, f"({created}", "-inf", start=0, num=count, withscores=True
                )
                return [(m.decode(), score) for m, score in rows]
            start = rank + 1
        rows = await self.redis.zrevrange(self.history_key, start, start + count - 1, withscores=True)
        return [(m.decode(), score) for m, score in rows]

    async def history_before(self, created_before: float, count: int, offset: int = 0) -> list[str]:
        """The oldest job ids created before `created_before` (for the retention clean-up)."""
        rows = await self.redis.zrangebyscore(self.history_key, "-inf", f"({created_before}", start=offset, num=count)
        return [m.decode() for m in rows]
