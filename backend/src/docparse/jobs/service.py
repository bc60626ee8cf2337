"""The Orchestrator on SAQ, Redis and local storage: what the API asks of the jobs layer (see orchestrator.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import structlog
from saq import Status
from saq.job import ABORT_ID_PREFIX
from saq.queue.redis import RedisQueue

from docparse.errors import CallbackRefused, JobCancelled, JobConflict, JobNotFound, JobNotReady
from docparse.jobs import chunks, state
from docparse.jobs.cancels import announce_cancel
from docparse.jobs.chunks import Plans, progress_from
from docparse.jobs.idempotency import IdempotencyKeys, IdempotentReply
from docparse.jobs.intake import Intake
from docparse.jobs.metrics import Snapshot, read_snapshot
from docparse.jobs.orchestrator import Orchestrator, StoredUpload, UploadSink
from docparse.jobs.pagestore import PageStore
from docparse.jobs.pictures import RenderPool
from docparse.jobs.queue import build_parse_job
from docparse.jobs.records import RecordStore, history_cursor, record_from_hash, reply
from docparse.jobs.state import TERMINAL, JobState
from docparse.jobs.status import ChunkCounts, JobStatus, LiveCounts, build_status
from docparse.jobs.streams import StatusStreams
from docparse.jobs.tasks import finish_job
from docparse.jobs.webhooks import CallbackPolicy, Deliveries, delivery_id_of, summarise
from docparse.pageranges import parse_page_ranges
from docparse.settings import Settings
from docparse.storage import Storage, document_key, image_key

log = structlog.get_logger(__name__)

_SETTLED = frozenset({Status.COMPLETE, Status.FAILED, Status.ABORTED})  # SAQ's last states of a job


class JobService(Orchestrator):
    """Jobs on a SAQ queue in Redis, their records beside them, files in local storage: the Orchestrator."""

    def __init__(self, queue: RedisQueue, settings: Settings, storage: Storage) -> None:
        self.queue = queue
        self.settings = settings
        self.storage = storage
        self.records = RecordStore(queue.redis, settings.queue_name)
        self.pages = PageStore(self.records, storage)
        self.plans = Plans(self.records, settings.chunk_window)
        self.intake = Intake(queue, settings, storage, self.records, self.pages)
        self._callbacks = CallbackPolicy(settings.webhook_allowed_hosts)
        self._idempotency = IdempotencyKeys(queue.redis, settings.queue_name, settings.idempotency_hours)
        self._render_pool: RenderPool | None = None  # started on the first picture asked for
        self.streams = StatusStreams(queue, self.status, settings.max_event_streams)

    async def startup(self) -> None:
        await self.storage.ensure()
        await self.queue.connect()
        await self.records.index_owners()  # once per queue: jobs recorded before per-owner histories

    async def close(self) -> None:
        try:
            if self._render_pool is not None:
                await self._render_pool.close()
        finally:
            await self.queue.disconnect()
            await self.storage.close()

    def open_upload(self, job_id: str) -> UploadSink:
        return self.intake.open_upload(job_id)

    async def metrics_snapshot(self) -> Snapshot:
        """The service-wide counters, with the queue's depth and the workers alive now."""
        snap = await read_snapshot(self.queue.redis, self.settings.queue_name)
        info = await self.queue.info()
        snap.queued, snap.active, snap.workers = info["queued"], info["active"], len(info["workers"])
        return snap

    async def submit(
        self,
        upload: StoredUpload,
        *,
        password: str | None,
        options: dict[str, Any],
        owner: str = "",
        callback_url: str | None = None,
        reuse: bool = True,
    ) -> str | None:
        return await self.intake.submit(
            upload, password=password, options=options, owner=owner, callback_url=callback_url, reuse=reuse
        )

    async def check_callback(self, url: str) -> None:
        if not self.settings.webhook_secret:
            raise CallbackRefused(
                "This server does not send webhooks: DOCPARSE_WEBHOOK_SECRET is not set (deliveries are signed)."
            )
        await self._callbacks.check(url)

    async def deliveries(self, job_id: str, owner: str | None = None) -> Deliveries:
        record = await self.records.get(job_id)
        if record is None or (owner is not None and record.owner != owner):
            raise JobNotFound()
        due = None
        if record.callback_url and record.status in TERMINAL:
            due = (delivery_id_of(job_id, record.attempts), f"job.{record.status.value}")
        return summarise(record.callback_url, await self.records.deliveries(job_id), due)

    async def claim_idempotency(self, owner: str, key: str, job_id: str) -> IdempotentReply | None:
        return await self._idempotency.claim(owner, key, job_id)

    async def finish_idempotency(self, owner: str, key: str, job_id: str, reply: IdempotentReply | None) -> None:
        await self._idempotency.finish(owner, key, job_id, reply)

    async def check_room(self) -> None:
        await self.intake.check_room()

    async def status(self, job_id: str, owner: str | None = None) -> JobStatus:
        """The job's status; with `owner`, a job of another owner is as unknown as a missing one."""
        status = (await self.statuses([job_id], owner))[0]
        if status is None:
            raise JobNotFound()
        return status

    async def statuses(self, job_ids: list[str], owner: str | None = None) -> list[JobStatus | None]:
        """Statuses of several jobs (None for unknown ones) in one round trip.

        One transaction, so a record and its SAQ job are read at the same instant: a fast job can finish between
        two separate reads, and the merge would then see SAQ's "complete" beside a stale record."""
        queued_key = self.queue.namespace("queued")
        async with self.queue.redis.pipeline(transaction=True) as pipe:
            for job_id in job_ids:
                saq_id = self.queue.job_id(job_id)
                pipe.hgetall(self.records.key(job_id))
                pipe.get(saq_id)
                pipe.lpos(queued_key, saq_id)  # BLMOVE takes from the left: the index is the number of jobs ahead
                keys = self.records.job_keys(job_id)
                pipe.hlen(keys.pages)  # pages stored: the progress of every chunk at once
                pipe.hkeys(keys.failed)
                pipe.hmget(keys.plan, ["n", "open", "running"])
            replies = await pipe.execute()
        out: list[JobStatus | None] = []
        for i in range(0, len(replies), 6):
            raw_record, raw_job, position, stored, failed, plan_fields = replies[i : i + 6]
            record = record_from_hash(raw_record) if raw_record else None
            if record is None or (owner is not None and record.owner != owner):
                out.append(None)
                continue
            out.append(
                build_status(
                    record,
                    self.queue.deserialize(raw_job),
                    queue_position=position,
                    ttl=self.settings.result_ttl,
                    heartbeat=self.settings.heartbeat,
                    live=LiveCounts(stored, sorted(int(n) for n in failed), _chunk_counts(plan_fields)),
                )
            )
        return out

    async def list_jobs(
        self, *, status: JobState | None, limit: int, cursor: str | None, owner: str | None = None
    ) -> tuple[list[JobStatus], str | None]:
        """A page of `owner`'s history (everyone's with None), newest first. With a status filter a page may hold
        fewer than `limit` jobs (at most 10 pages' worth of history is read per call); `next_cursor` is None only
        at the end. Reading the owner's own history keeps others' job ids out of pages and cursors alike."""
        found: list[JobStatus] = []
        next_cursor = cursor
        for _ in range(10):
            rows = await self.records.history_page(next_cursor, limit, owner)
            if not rows:
                return found, None
            statuses = await self.statuses([job_id for job_id, _ in rows], owner)
            for (job_id, created), job_status in zip(rows, statuses, strict=True):
                next_cursor = history_cursor(created, job_id)
                if job_status is not None and (status is None or job_status.status == status):
                    found.append(job_status)
                    if len(found) == limit:
                        return found, next_cursor
            if len(rows) < limit:
                return found, None
        return found, next_cursor

    async def cancel(self, job_id: str, owner: str | None = None) -> JobStatus:
        """A queued job is cancelled at once; a processing one is stopped by its workers within moments (the
        parse processes are killed, not asked). Finished jobs cannot be cancelled."""
        status = await self.status(job_id, owner)
        if status.status in TERMINAL:
            raise JobConflict(f"The job is already {status.status.value}; there is nothing to cancel.")
        await self.records.update(job_id, cancel_requested=True)
        await announce_cancel(self.queue.redis, self.settings.queue_name, job_id)  # its workers stop it at once
        stopped = await self.plans.stop(job_id)  # a split job: no more of its chunks are queued
        if stopped is not None:
            await self._cancel_units(job_id, stopped)
            return await self.status(job_id)
        job = await self.queue.job(job_id)
        if job is not None and job.status not in (Status.ABORTING, Status.ABORTED):
            # SAQ's abort writes back this copy of the job: its progress may be stale, which is why the
            # public status reads progress from our record, never from SAQ's job.
            await self.queue.abort(job, JobCancelled.code)
        if status.status == JobState.QUEUED and (job is None or job.status == Status.ABORTED):
            await state.cancel(self.records, job_id, self.settings.result_ttl)
            await self._notify(job_id)
        return await self.status(job_id)

    async def _cancel_units(self, job_id: str, stopped: chunks.Stopped) -> None:
        """Abort the chunks of a split job that are queued or running. A running one ends itself (its worker
        hears the abort); one that never started is ended here, and whoever ends the last writes "cancelled"."""
        for unit in stopped.running + stopped.waiting:
            job = await self.queue.job(chunks.chunk_key(job_id, stopped.attempt, unit))
            if job is not None and job.status in (Status.NEW, Status.QUEUED, Status.ACTIVE):
                await self.queue.abort(job, JobCancelled.code)
        last = stopped.open == 0
        for unit in stopped.waiting:
            step = await self.plans.end(job_id, unit, stopped.attempt)
            last = last or step.open == 0
        if last:
            await finish_job(self.records, self.pages, self.plans, self.settings, job_id)
        await self._notify(job_id)

    async def retry(
        self, job_id: str, *, password: str | None = None, owner: str | None = None, wait: float = 10.0
    ) -> JobStatus:
        """Run a failed or cancelled job again, under the same id, on the stored file; `attempts` keeps counting.
        Pages already stored are kept: the new run parses only the pages that failed or were never reached."""
        status = await self.status(job_id, owner)
        if status.status not in (JobState.FAILED, JobState.CANCELLED):
            raise JobConflict(f"Only failed or cancelled jobs can be retried; this one is {status.status.value}.")
        # The task writes its ending before SAQ lets go of the attempt, and SAQ refuses to queue a job it still
        # holds: a retry asked for at once waits for that moment (a job that ended long ago does not wait).
        await self._wait_settled(job_id, wait)
        await self.pages.clear_failures(job_id)
        await self.plans.delete(job_id)
        await state.reopen(self.records, job_id, password=password)
        job = build_parse_job(job_id, self.settings)
        await self.queue.redis.delete(job.abort_id)  # a stale abort marker would make SAQ refuse the new job
        if await self.queue.enqueue(job) is None:  # its worker died while settling: the sweep frees it later
            log.warning("retry not queued: SAQ still holds the last attempt", job_id=job_id)
        await self._notify(job_id)
        return await self.status(job_id)

    async def delete(self, job_id: str, *, owner: str | None = None, wait: float = 10.0) -> None:
        """Remove the job's record, SAQ job, stored file and results. A live job is cancelled first, and its
        workers given `wait` seconds to stop, so nothing is written back after the files are gone (a chunk that
        writes later finds the record gone and removes what it wrote)."""
        status = await self.status(job_id, owner)
        if status.status not in TERMINAL:
            await self.cancel(job_id)
        await self._wait_settled(job_id, wait)
        keys = [job_id]
        if (plan := await self.plans.size(job_id)) is not None:  # and the SAQ jobs of its chunks
            attempt, units = plan
            keys += [chunks.chunk_key(job_id, attempt, unit) for unit in range(1, units)]
        async with self.queue.redis.pipeline(transaction=True) as pipe:
            for key in keys:
                saq_id = self.queue.job_id(key)
                pipe.delete(saq_id, f"{ABORT_ID_PREFIX}{key}")  # SAQ's job and its abort marker (Job.abort_id)
                pipe.zrem(self.queue.namespace("incomplete"), saq_id)
                for name in ("queued", "active"):
                    pipe.lrem(self.queue.namespace(name), 0, saq_id)
            await pipe.execute()
        await self.records.delete(job_id)
        await self.storage.delete_job(job_id)

    def watch(self, job_id: str, *, reread: float = 5.0) -> AsyncIterator[JobStatus]:
        """The job's status now and on every change, until a terminal one (see streams.py)."""
        return self.streams.open(job_id, reread=reread)

    async def _wait_settled(self, job_id: str, timeout: float) -> None:
        """Until the job is terminal and the worker of its last attempt is done with it (see record_outcome),
        or `timeout` (a dead worker never settles). Polls: this runs only when a live job is deleted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = await self.records.get(job_id)
            if record is None:
                return
            started = record.started_at
            settled = record.status in TERMINAL and (
                started is None or (record.settled_at or 0) >= started or await self._completed_by_saq(job_id, started)
            )
            if settled and await self._units_settled(job_id):
                return
            await asyncio.sleep(0.05)

    async def _completed_by_saq(self, job_id: str, started: float) -> bool:
        """Whether SAQ has written its job complete since `started`: its last write of a run that completed (the
        worker writes no settled_at then)."""
        job = await self.queue.job(job_id)
        return job is not None and job.status == Status.COMPLETE and job.completed / 1000 >= started

    async def _units_settled(self, job_id: str) -> bool:
        """Whether SAQ is done with every chunk of a split job (a chunk ends its unit before SAQ's last write of
        it, and the first run's settled_at predates them all)."""
        plan = await self.plans.size(job_id)
        if plan is None:
            return True
        attempt, units = plan
        jobs = await self.queue.jobs([chunks.chunk_key(job_id, attempt, unit) for unit in range(1, units)])
        return all(job is None or job.status in _SETTLED for job in jobs)

    async def _notify(self, job_id: str) -> None:
        """Wake SSE listeners after a change made here rather than by SAQ."""
        job = await self.queue.job(job_id)
        if job is not None:
            await self.queue.notify(job)

    async def completed_status(self, job_id: str, owner: str | None = None) -> JobStatus:
        status = await self.status(job_id, owner)
        if status.status != JobState.COMPLETED:
            raise JobNotReady(f"The job is {status.status.value}, not completed: {status.message}.")
        return status

    async def document_json(self, job_id: str) -> bytes:
        data = await self.storage.get(document_key(job_id))
        if data is None:
            raise JobNotReady("The document has not been opened yet.")
        return data

    async def page_json(self, job_id: str, number: int) -> bytes | None:
        return await self.pages.page(job_id, number)

    async def stored_pages(self, job_id: str, spec: str | None = None) -> AsyncIterator[tuple[int, bytes]]:
        """Stored pages (those selected by `spec`, e.g. `1-5,9`), ascending, read a segment's worth at a time so
        a huge result never sits whole in memory."""
        wanted = await self.pages.stored_numbers(job_id)
        if spec:
            keep = {i + 1 for i in parse_page_ranges(spec, wanted[-1] if wanted else 0, strict=False)}
            wanted = [n for n in wanted if n in keep]
        async for number, data in self.pages.pages(job_id, wanted):
            yield number, data

    async def page_image(self, job_id: str, number: int, width: int, owner: str | None = None) -> bytes:
        """A PNG of page `number`, `width` pixels wide (rounded up to a multiple of 100, at most 3000; narrower
        where width x height would pass DOCPARSE_RENDER_MAX_PIXELS), rendered once in a render process (this
        process never loads PyMuPDF) from the source (its local copy on S3) and then served from storage."""
        width = min(3000, max(100, -(-width // 100) * 100))
        record = await self.records.get(job_id)
        if record is None or (owner is not None and record.owner != owner):
            raise JobNotFound()
        key = image_key(job_id, number, width)
        cached = await self.storage.get(key)
        if cached is not None:  # only pages that exist were ever drawn
            return cached
        document = msgspec.json.decode(await self.document_json(job_id))
        if not 1 <= number <= document["page_count"]:
            raise JobNotFound(f"The document has no page {number}; it has {document['page_count']}.")
        try:
            source = await self.storage.local_source(job_id)
        except FileNotFoundError:
            raise JobNotFound() from None
        if self._render_pool is None:
            self._render_pool = RenderPool(
                self.settings.render_processes,
                timeout=self.settings.render_timeout,
                max_jobs=self.settings.child_max_jobs,
                memory_mb=self.settings.child_memory_mb,
            )
        data = await self._render_pool.render(
            {"key": key, "path": str(source), "file_type": record.file_type,
             "password": await self.records.password(job_id), "number": number, "width": width,
             "max_pixels": self.settings.render_max_pixels,
             "max_image_pixels": self.settings.render_max_image_pixels}
        )  # fmt: skip
        await self.storage.put(key, data)
        if not await self.queue.redis.exists(self.records.key(job_id)):  # deleted while it was drawn
            await self.storage.delete_job(job_id)
        return data

    async def failed_pages_json(self, job_id: str) -> list[dict[str, Any]]:
        record = await self.records.get(job_id)
        pages = record.failed_pages if record else []
        return [{"number": p.number, "code": p.code, "message": p.message} for p in pages]

    async def ready(self) -> dict[str, Any]:
        """Redis answers and at least one worker wrote its heartbeat recently."""
        try:
            async with asyncio.timeout(2):  # a probe polled every second must not hang on a lost connection
                await reply(self.queue.redis.ping())
                info = await self.queue.info()
        except Exception as exc:  # any Redis failure means not ready, with the reason
            return {"ready": False, "redis": False, "workers": 0, "reason": f"Redis: {exc}"}
        workers = len(info.get("workers", {}))
        reason = None if workers else "no worker has reported in the last few seconds"
        return {
            "ready": workers > 0,
            "redis": True,
            "workers": workers,
            "queued": info["queued"],
            "active": info["active"],
            "reason": reason,
        }


def _chunk_counts(fields: list[bytes | None]) -> ChunkCounts | None:
    plan = progress_from(fields)
    return None if plan is None else ChunkCounts(total=plan.total, running=plan.running, done=plan.done)
