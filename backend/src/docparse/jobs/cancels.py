"""How a worker hears that a job it runs was cancelled: one subscription per worker, to the queue's cancel channel.

The API publishes a cancelled job's id there (after recording the request in the job's record and aborting its
SAQ jobs). Listening per job on SAQ's own channel cost every job a subscribe and an unsubscribe (two round trips),
and received every other job's updates while it listened. A message is only a hint: the watcher reads the record
to be sure, and reads it anyway every few seconds, and SAQ's own abort check (every second) stops a job aborted
from the SAQ monitor, so a lost message delays a cancel, never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)


def cancel_channel(queue_name: str) -> str:
    return f"docparse:{queue_name}:cancel"


async def announce_cancel(redis: Redis, queue_name: str, job_id: str) -> None:
    await redis.publish(cancel_channel(queue_name), job_id)


class CancelWatch:
    """The worker's subscription to the cancel channel, and the jobs its runs watch."""

    def __init__(self, redis_url: str, queue_name: str) -> None:
        # Its own connection: a subscribed connection can do nothing else.
        self.redis = Redis.from_url(redis_url, socket_keepalive=True, client_name="docparse-cancels")
        self.channel = cancel_channel(queue_name)
        self._watching: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.redis.aclose()

    @contextlib.contextmanager
    def watching(self, job_id: str) -> Iterator[asyncio.Event]:
        """An event set when a cancel of `job_id` may have been announced, while the `with` lasts."""
        event = asyncio.Event()
        self._watching.setdefault(job_id, set()).add(event)
        try:
            yield event
        finally:
            events = self._watching.get(job_id, set())
            events.discard(event)
            if not events:
                self._watching.pop(job_id, None)

    def _wake(self, job_id: str | None) -> None:
        """Wake the watchers of `job_id`, or of every job (None: messages may have been missed)."""
        for watched, events in self._watching.items():
            if job_id is None or watched == job_id:
                for event in events:
                    event.set()

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._wake(None)  # (re)subscribed: what was announced meanwhile is read from the records
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._wake(message["data"].decode())
            except (RedisError, OSError) as exc:
                log.warning("cancel channel lost; resubscribing", error=str(exc) or type(exc).__name__)
                self._wake(None)
                await asyncio.sleep(1)
