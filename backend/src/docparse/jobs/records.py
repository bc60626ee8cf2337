"""Our own job records in Redis: what SAQ does not keep (file, options, pages, typed errors) and the history."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from redis.asyncio import Redis


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


class RecordStore:
    """Job hashes at `docparse:<queue>:job:<id>` plus a history index ordered by creation time."""

    def __init__(self, redis: Redis, queue_name: str) -> None:
        self.redis = redis
        self.prefix = f"docparse:{queue_name}"
        self.history_key = f"{self.prefix}:history"

    def key(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    async def create(self, record: JobRecord, *, password: str | None) -> None:
        fields = _to_hash(msgspec.structs.asdict(record))
        if password is not None:
            fields["password"] = password  # read only by the worker; deleted when the job ends
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key(record.job_id), mapping=fields)
            pipe.zadd(self.history_key, {record.job_id: record.created_at})
            await pipe.execute()

    async def get(self, job_id: str) -> JobRecord | None:
        raw = await self.redis.hgetall(self.key(job_id))
        return record_from_hash(raw) if raw else None

    async def password(self, job_id: str) -> str | None:
        value = await self.redis.hget(self.key(job_id), "password")
        return value.decode() if value is not None else None

    async def update(self, job_id: str, **values: Any) -> None:
        """Set some fields. HSET on separate fields never overwrites what another writer set elsewhere."""
        await self.redis.hset(self.key(job_id), mapping=_to_hash(values))

    async def finish(self, job_id: str, ttl: int, **values: Any) -> None:
        """Write the final state, forget the password, and let the record expire with the results."""
        values.setdefault("finished_at", time.time())
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key(job_id), mapping=_to_hash(values))
            pipe.hdel(self.key(job_id), "password")
            pipe.expire(self.key(job_id), ttl)
            await pipe.execute()

    async def delete(self, job_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key(job_id))
            pipe.zrem(self.history_key, job_id)
            await pipe.execute()
