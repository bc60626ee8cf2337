"""The SAQ task: a thin adapter that runs the parse in a child process, reports progress, and records the outcome."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import structlog
from saq import Job, Status

from docparse.errors import DocparseError, JobNotFound, JobTimeout, error_for_code
from docparse.jobs.records import PageError, RecordStore
from docparse.jobs.runner import ChildPool, Opened, PageDone, PageFailed, ParseRequest, Waiting
from docparse.settings import Settings
from docparse.storage import LocalStorage

log = structlog.get_logger(__name__)


@dataclass
class WorkerDeps:
    """What the task needs, built once per worker process (see worker.py) and kept in SAQ's context."""

    settings: Settings
    records: RecordStore
    storage: LocalStorage
    pool: ChildPool


@dataclass
class Progress:
    """Progress of one attempt, written to Redis at most every `interval` seconds (a 400 pages/s document
    must not cost 400 writes a second). Each write is also the job's heartbeat and wakes SSE listeners."""

    job: Job
    records: RecordStore
    job_id: str
    interval: float
    total: int | None = None
    done: int = 0
    failed: list[PageError] = field(default_factory=list)
    _last: float = 0.0

    async def report(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        handled = self.done + len(self.failed)
        await self.records.update(self.job_id, pages_done=self.done, pages_total=self.total, failed_pages=self.failed)
        await self.job.update(progress=handled / self.total if self.total else 0.0)

    async def heartbeat(self) -> None:
        await self.job.update()


async def parse_document(ctx: dict[str, Any], *, job_id: str) -> dict[str, Any]:
    """Parse the stored upload of `job_id` page by page; pages land in storage as they are done."""
    job: Job = ctx["job"]
    deps: WorkerDeps = ctx["docparse"]
    bound = log.bind(job_id=job_id, attempt=job.attempts)
    record = await deps.records.get(job_id)
    if record is None:
        _no_retry(job)
        raise JobNotFound("The job was deleted before it could run.")
    # A re-run (retry, or a sweep after a dead worker) starts from a clean slate: the task is idempotent.
    deps.storage.clear_results(job_id)
    await deps.records.update(
        job_id, status="processing", started_at=time.time(), attempts=job.attempts, pages_done=0,
        pages_total=None, failed_pages=[], error_code=None, error_message=None, finished_at=None,
    )  # fmt: skip
    request = ParseRequest(
        job_id=job_id,
        path=str(deps.storage.source_path(job_id)),
        file_type=record.file_type,
        size=record.size,
        sha256=record.sha256,
        storage_root=str(deps.storage.root),
        max_pages=deps.settings.max_pages,
        options=record.options,
        password=await deps.records.password(job_id),
    )
    progress = Progress(job, deps.records, job_id, deps.settings.progress_interval)
    bound.info("parse started", file_type=record.file_type, size=record.size)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(deps.settings.job_timeout):
            await _run(deps, request, progress, bound)
    except TimeoutError:
        _no_retry(job)
        raise JobTimeout(f"Parsing took longer than {deps.settings.job_timeout} s and was stopped.") from None
    except DocparseError as exc:
        _no_retry(job)  # the same file would fail the same way
        bound.info("parse failed", code=exc.code, error=exc.message)
        raise
    finally:
        await progress.report(force=True)
    if progress.failed and not progress.done:
        # Nothing could be read: the document failed, for the reason its first page gave.
        _no_retry(job)
        first = progress.failed[0]
        raise error_for_code(first.code, first.message if len(progress.failed) == 1 else
                             f"{first.message} No page could be read.")  # fmt: skip
    seconds = time.perf_counter() - started
    bound.info("parse finished", pages=progress.done, failed=len(progress.failed), seconds=round(seconds, 3))
    return {"pages_done": progress.done, "pages_failed": len(progress.failed), "seconds": round(seconds, 3)}


async def _run(deps: WorkerDeps, request: ParseRequest, progress: Progress, bound: Any) -> None:
    async for event in deps.pool.parse(
            request, page_timeout=deps.settings.page_timeout, tick=max(1.0, deps.settings.heartbeat / 3)
        ):
            if isinstance(event, PageDone):
                progress.done += 1
                await progress.report()
            elif isinstance(event, Opened):
                progress.total = len(event.numbers)
                await progress.report(force=True)
            elif isinstance(event, PageFailed):
                progress.failed.append(PageError(event.number, event.code, event.message))
                bound.warning("page failed", page=event.number, code=event.code)
                await progress.report(force=True)
            elif isinstance(event, Waiting):
                await progress.heartbeat()


def _no_retry(job: Job) -> None:
    job.retries = job.attempts


async def record_outcome(ctx: dict[str, Any]) -> None:
    """SAQ's after_process hook: write the final state into our record once SAQ has settled the job."""
    job: Job | None = ctx.get("job")
    if job is None or job.function != "parse_document":
        return
    deps: WorkerDeps = ctx["docparse"]
    job_id = job.key
    ttl = deps.settings.result_ttl
    if job.status == Status.COMPLETE:
        await deps.records.finish(job_id, ttl, status="completed")
    elif job.status in (Status.QUEUED, Status.NEW):
        await deps.records.update(job_id, status="queued")  # SAQ will retry it
    elif job.status == Status.FAILED:
        error = _error_of(ctx.get("exception"))
        await deps.records.finish(job_id, ttl, status="failed", error_code=error.code, error_message=error.message)
    elif job.status == Status.ABORTED:
        record = await deps.records.get(job_id)
        if record and record.cancel_requested:
            await deps.records.finish(job_id, ttl, status="cancelled", error_code="cancelled",
                                      error_message="The job was cancelled.")  # fmt: skip


def _error_of(exc: BaseException | None) -> DocparseError:
    if isinstance(exc, DocparseError):
        return exc
    if isinstance(exc, TimeoutError):
        return JobTimeout()
    log.error("unexpected job failure", exc_info=exc)
    return DocparseError()
