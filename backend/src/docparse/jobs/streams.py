"""Status event streams: every change of a job's status, pushed by SAQ's pub/sub, for GET /jobs/{id}/events."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from saq import Status
from saq.queue.redis import RedisQueue

from docparse.errors import Unavailable
from docparse.jobs.state import TERMINAL
from docparse.jobs.status import JobStatus

STREAM_READ_TRIES = 6  # failed status reads in a row after which an event stream gives up


class StatusStreams:
    """The event streams of one API process: at most `limit` at once."""

    def __init__(self, queue: RedisQueue, status: Callable[[str], Awaitable[JobStatus]], limit: int) -> None:
        self.queue = queue
        self.status = status
        self.limit = limit
        self.open_count = 0

    def open(self, job_id: str, *, reread: float = 5.0) -> AsyncIterator[JobStatus]:
        """The job's status now and on every change, until a terminal one.

        Each stream holds one of the `limit` places from this call on (Unavailable when none is left): taken before
        the caller's first await, so a burst of streams cannot all slip past the limit. The place is given back as
        soon as the stream ends or its client leaves (the stream is cancelled, so its `finally` runs at once), and,
        for a stream dropped before it started, when the stream object is gone."""
        if self.open_count >= self.limit:
            raise Unavailable(f"This server already serves {self.limit} event streams; try again shortly, or poll.")
        self.open_count += 1
        place = _Place(self)
        stream = self._stream(job_id, reread, place)
        weakref.finalize(stream, place.give_back)
        return stream

    async def _stream(self, job_id: str, reread: float, place: _Place) -> AsyncIterator[JobStatus]:
        """Changes are signalled by SAQ's pub/sub (one shared connection per process, no polling per client); a
        periodic re-read means a missed message delays an update by at most `reread` seconds."""
        wake = asyncio.Event()

        def signal(_key: str, _status: Status) -> bool:
            wake.set()
            return False

        listener = asyncio.create_task(self.queue.listen([job_id], signal, timeout=None))
        try:
            last: JobStatus | None = None
            misses = 0
            while True:
                wake.clear()
                try:
                    current = await self.status(job_id)
                except (RedisConnectionError, RedisTimeoutError):
                    # The pool was busy for a moment (a burst of streams) or Redis blinked: an open stream waits and
                    # reads again rather than dropping its client; only a lasting outage ends it.
                    misses += 1
                    if misses > STREAM_READ_TRIES:
                        raise
                    await asyncio.sleep(min(reread, 0.5 * misses))
                    continue
                misses = 0
                if current != last:
                    yield current
                    last = current
                if current.status in TERMINAL:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), reread)
        finally:
            place.give_back()
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)


class _Place:
    """One place of StatusStreams, given back exactly once."""

    def __init__(self, streams: StatusStreams) -> None:
        self.streams: StatusStreams | None = streams

    def give_back(self) -> None:
        if self.streams is not None:
            self.streams.open_count -= 1
            self.streams = None
