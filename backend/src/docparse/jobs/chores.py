"""Worker chores: retention (remove what expired jobs leave behind) and the rescue of jobs SAQ lost track of.

Every worker runs each chore on a timer and a short Redis lock lets one of them do it each time. Not SAQ
CronJobs, though SAQ 0.26 has them (croniter takes a seconds field): a cron job is a job on the parse queue, so
it would wait behind the parses for one of the worker's `concurrency` slots — and the rescue matters most when
every slot is held by a stuck job — and it would count as a queued job in the 429 admission check, the queue
depth metric and the monitor. A cron expression also cannot say "every 45 s" (DOCPARSE_HEARTBEAT is any number).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from saq import Job, Status
from saq.queue.redis import RedisQueue

from docparse.errors import WorkerLost
from docparse.jobs import state
from docparse.jobs.chunks import Plans, chunk_key
from docparse.jobs.queue import build_chunk_job, enqueue_parse
from docparse.jobs.records import RecordStore, reply
from docparse.jobs.state import TERMINAL
from docparse.jobs.status import now_ms
from docparse.settings import Settings
from docparse.storage import Storage

log = structlog.get_logger(__name__)

SWEEP_ABORT_WAIT_MS = 10_000  # SAQ's sweep waits up to 5 s for an abort to land; twice that, to be sure


class Chores:
    def __init__(self, queue: RedisQueue, settings: Settings, storage: Storage) -> None:
        self.queue = queue
        self.settings = settings
        self.storage = storage
        self.records = RecordStore(queue.redis, settings.queue_name)
        self.plans = Plans(self.records, settings.chunk_window)

    def start(self) -> list[asyncio.Task[None]]:
        """The chores' loops, for the worker to cancel when it stops."""
        return [
            asyncio.create_task(self._now_and_then("retention", self.settings.cleanup_interval, self.purge_expired)),
            asyncio.create_task(self._now_and_then("rescue", self.settings.heartbeat, self.rescue_orphans)),
        ]

    async def _now_and_then(self, name: str, interval: float, chore: Callable[[], Awaitable[Any]]) -> None:
        """Run `chore` every `interval` seconds, on one worker at a time. Failures (Redis away) are logged and
        tried again next time."""
        lock = f"docparse:{self.settings.queue_name}:{name}-lock"
        while True:
            await asyncio.sleep(interval)
            try:
                if await self.queue.redis.set(lock, "1", nx=True, ex=max(1, int(interval))):
                    done = await chore()
                    if done:
                        log.info(f"{name}: {done} job(s)")
            except Exception:
                log.warning(f"{name} failed", exc_info=True)

    async def purge_expired(self, *, orphan_age: float = 3600.0) -> int:
        """Retention: finished records expire in Redis by themselves (TTL); this removes what they leave behind —
        their history entries and stored files — and files no record refers to. Returns the jobs removed."""
        removed, offset = 0, 0
        cutoff = time.time() - self.settings.result_ttl
        while ids := await self.records.history_before(cutoff, 500, offset=offset):
            async with self.queue.redis.pipeline(transaction=False) as pipe:
                for job_id in ids:
                    pipe.exists(self.records.key(job_id))
                alive = await pipe.execute()
            gone = [job_id for job_id, exists in zip(ids, alive, strict=True) if not exists]
            offset += len(ids) - len(gone)
            for job_id in gone:
                await self.records.delete(job_id)
                await self.storage.delete_job(job_id)
            removed += len(gone)
        async for job_id, written in self.storage.jobs():
            if time.time() - written <= orphan_age:
                continue  # e.g. a slow upload: its folder is old, but its file is still being written
            if not await self.queue.redis.exists(self.records.key(job_id)):
                await self.storage.delete_job(job_id)
                removed += 1
        return removed

    async def rescue_orphans(self) -> int:
        """Re-queue jobs that SAQ lost track of. SAQ's sweep only looks at its active list, but its abort takes a
        job off that list, and a worker that marks the job active just after (saq #277) and then dies leaves it
        'active' on no list at all: no sweep would ever find it. Returns the jobs re-queued, given up or dropped."""
        stale_ms = 2 * self.settings.heartbeat * 1000
        rescued = 0
        for job_id in await self.records.live():
            job = await self.queue.job(job_id)
            record = await self.records.get(job_id)
            if record is None or record.status in TERMINAL:
                await reply(self.queue.redis.srem(self.records.live_key, job_id))
                continue
            units = await self.plans.live_units(job_id)
            if units is not None:  # split into chunks: each unit has a SAQ job of its own
                attempt, live = units
                for unit in live:
                    key = job_id if unit == 0 else chunk_key(job_id, attempt, unit)
                    rescued += await self._rescue(job_id, key, await self.queue.job(key), unit, attempt, stale_ms)
                continue
            rescued += await self._rescue(job_id, job_id, job, 0, 0, stale_ms)
        return rescued

    async def _rescue(self, job_id: str, key: str, job: Job | None, unit: int, attempt: int, stale_ms: int) -> int:
        """Rescue one SAQ job (a job's first run or one of its chunks) if SAQ lost it; 1 if it did something."""
        if job is None:
            if unit:  # a chunk whose enqueue never happened (its enqueuer died) or that Redis lost
                await self.queue.enqueue(build_chunk_job(job_id, attempt, unit, self.settings))
            elif await self.storage.has_source(job_id):  # its SAQ job vanished (e.g. Redis lost it)
                await enqueue_parse(self.queue, job_id, self.settings)
            else:  # never queued: its upload failed after the record was written, and took the file with it
                log.warning("dropping the record of a job that was never queued", job_id=job_id)
                await self.records.delete(job_id)
            return 1
        if now_ms() - job.touched < stale_ms:
            return 0
        if job.status == Status.ABORTING and now_ms() - job.touched < stale_ms + SWEEP_ABORT_WAIT_MS:
            return 0  # SAQ's sweep is aborting it (and waits a while for that to land) before it re-queues it
        if job.status in (Status.COMPLETE, Status.FAILED, Status.ABORTED):  # SAQ settled it; the status says how
            if unit or await self.plans.live_units(job_id) is not None:
                # A unit SAQ gave up on without our hook ending it (its worker died on the last try): the job
                # cannot complete, and says why.
                await self.plans.stop(job_id)
                await state.fail(self.records, job_id, self.settings.result_ttl, WorkerLost())
                return 1
            await reply(self.queue.redis.srem(self.records.live_key, job_id))
            return 0
        if await self._on_a_list(job):
            return 0
        log.warning("rescuing a job SAQ lost", job_id=job_id, key=key, saq_status=job.status.value)
        if job.retryable:
            await self.queue.retry(job, WorkerLost.code)
        else:
            await self.queue.finish(job, Status.ABORTED, error=WorkerLost.code)
        return 1

    async def _on_a_list(self, job: Job) -> bool:
        """Whether SAQ still tracks the job: waiting, running, or scheduled for later."""
        redis, saq_id = self.queue.redis, job.id
        async with redis.pipeline(transaction=False) as pipe:
            pipe.lpos(self.queue.namespace("queued"), saq_id)
            pipe.lpos(self.queue.namespace("active"), saq_id)
            pipe.zscore(self.queue.namespace("incomplete"), saq_id)
            queued, active, scheduled = await pipe.execute()
        return queued is not None or active is not None or (scheduled or 0) > 0
