"""Idempotent uploads: an `Idempotency-Key` makes a retried POST /upload return the first upload's reply.

Semantics of the IETF httpapi draft "The Idempotency-Key HTTP Header Field": keys are per owner (an API key's
jobs), remembered for DOCPARSE_IDEMPOTENCY_HOURS; the same key with another payload — another file (sha256) or
other options — is a 422; a request arriving while the first is still under way waits for it (and gets its
reply), or hears 409 with Retry-After if it does not end in time. One Redis key per idempotency key, taken with
SET NX, so concurrent requests create one job.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import msgspec
from redis.asyncio import Redis

from docparse.errors import IdempotencyInFlight, IdempotencyKeyReused
from docparse.jobs.records import reply

WAIT_SECONDS = 60.0  # how long a request waits for the first request under its key to end


class IdempotentReply(msgspec.Struct, kw_only=True):
    """What the first upload under a key answered, and what it was asked (to refuse another payload)."""

    fingerprint: str
    """sha256 of the file's sha256 and the options: a second request must send the same."""
    job_id: str
    body: bytes
    """The 202 body, as sent."""


class _Entry(msgspec.Struct, kw_only=True):
    job_id: str
    reply: IdempotentReply | None = None  # None while the first upload is under way


# KEYS: the entry. ARGV: the job id that took it. Frees the key only if that upload still holds it.
_RELEASE = """
local raw = redis.call('GET', KEYS[1])
if raw and string.find(raw, ARGV[1], 1, true) and not string.find(raw, '"reply":{', 1, true) then
  redis.call('DEL', KEYS[1])
end
return 0
"""


def fingerprint(sha256: str, options: dict[str, Any]) -> str:
    """What identifies an upload's payload: the file's bytes and every option that changes the job."""
    canonical = msgspec.json.encode(dict(sorted(options.items())))
    return hashlib.sha256(sha256.encode() + b"|" + canonical).hexdigest()


class IdempotencyKeys:
    def __init__(self, redis: Redis, queue_name: str, hours: float) -> None:
        self.redis = redis
        self.prefix = f"docparse:{queue_name}:idempotency"
        self.ttl = int(hours * 3600)
        self._release = redis.register_script(_RELEASE)

    def key(self, owner: str, idempotency_key: str) -> str:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()  # any length or characters, fixed-size key
        return f"{self.prefix}:{owner or 'public'}:{digest}"

    async def claim(self, owner: str, idempotency_key: str, job_id: str) -> IdempotentReply | None:
        key = self.key(owner, idempotency_key)
        taken = await reply(self.redis.set(key, msgspec.json.encode(_Entry(job_id=job_id)), nx=True, ex=self.ttl))
        if taken:
            return None
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            raw: bytes | None = await reply(self.redis.get(key))
            if raw is None:  # the first upload failed and freed the key: this one may go ahead
                return await self.claim(owner, idempotency_key, job_id)
            entry = msgspec.json.decode(raw, type=_Entry)
            if entry.reply is not None:
                return entry.reply
            if time.monotonic() >= deadline:
                raise IdempotencyInFlight()
            await asyncio.sleep(0.1)

    async def finish(self, owner: str, idempotency_key: str, job_id: str, answer: IdempotentReply | None) -> None:
        key = self.key(owner, idempotency_key)
        if answer is None:
            await self._release(keys=[key], args=[job_id])
            return
        await reply(self.redis.set(key, msgspec.json.encode(_Entry(job_id=job_id, reply=answer)), ex=self.ttl))


def check_same(first: IdempotentReply, print_: str) -> None:
    """IdempotencyKeyReused unless the payload is the first one's."""
    if first.fingerprint != print_:
        raise IdempotencyKeyReused()
