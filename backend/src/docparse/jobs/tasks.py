"""The SAQ task: a thin adapter that runs the parse in a child process, reports progress, and records the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import structlog
from saq import Job, Status

from docparse.errors import DocparseError, JobCancelled, JobNotFound, JobTimeout, error_for_code
from docparse.jobs import state
from docparse.jobs.metrics import count_finished
from docparse.jobs.records import PageError, RecordStore, RecordUpdate
from docparse.jobs.runner import ChildPool, Opened, PageDone, PageFailed, ParseRequest, Waiting
from docparse.jobs.state import TERMINAL, JobState
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

    async def report(self, *, force: bool = False, heartbeat: bool = True) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        handled = self.done + len(self.failed)
        await state.progress(self.records, self.job_id, **self.fields())
        if heartbeat:  # SAQ's update is 3 round trips; the job was just marked active, so skip it when asked
            await self.job.update(progress=handled / self.total if self.total else 0.0)

    async def heartbeat(self) -> None:
        await self.job.update()

    def fields(self) -> RecordUpdate:
        """The counts, for the record's progress and final writes."""
        return {"pages_done": self.done, "pages_total": self.total, "failed_pages": self.failed}


async def parse_document(ctx: dict[str, Any], *, job_id: str) -> dict[str, Any]:
    """Parse the stored upload of `job_id` page by page; pages land in storage as they are done.

    The task writes the job's final state itself, before SAQ settles the job, so whoever is told the job ended
    reads why. Errors that would repeat (a bad file, a wrong password, a cancel) are not retried."""
    job: Job = ctx["job"]
    deps: WorkerDeps = ctx["docparse"]
    bound = log.bind(job_id=job_id, attempt=job.attempts)
    ttl = deps.settings.result_ttl
    progress = Progress(job, deps.records, job_id, deps.settings.progress_interval)
    started = time.perf_counter()
    try:
        await _parse(job, deps, job_id, progress, bound)
    except _AlreadyFinished:
        # A second run of a finished job: SAQ ran it twice (a worker that paused with a job dequeued, saq #277)
        # or a stray enqueue. The first run's outcome stands; nothing is parsed or written.
        ctx["duplicate_run"] = True
        bound.info("duplicate run skipped")
        return {"skipped": "the job had already finished"}
    except DocparseError as exc:
        job.retries = job.attempts  # the same input would fail the same way
        ending = state.cancel if isinstance(exc, JobCancelled) else state.fail
        outcome = JobState.CANCELLED if isinstance(exc, JobCancelled) else JobState.FAILED
        bound.info("parse ended", status=outcome, code=exc.code, error=exc.message)
        await ending(deps.records, job_id, ttl, exc, **progress.fields())
        await _count(deps, outcome, progress, started)
        raise
    await state.complete(deps.records, job_id, ttl, **progress.fields())
    seconds = await _count(deps, JobState.COMPLETED, progress, started)
    summary = {"pages_done": progress.done, "pages_failed": len(progress.failed), "seconds": round(seconds, 3)}
    bound.info("parse finished", **summary)
    return summary


async def _count(deps: WorkerDeps, outcome: JobState, progress: Progress, started: float) -> float:
    seconds = time.perf_counter() - started
    await count_finished(
        deps.records.redis, deps.settings.queue_name, status=outcome, pages_parsed=progress.done,
        pages_failed=len(progress.failed), seconds=seconds,
    )  # fmt: skip
    return seconds


class _AlreadyFinished(Exception):
    """The job's record is completed, failed or cancelled: this run must not start."""


async def _parse(job: Job, deps: WorkerDeps, job_id: str, progress: Progress, bound: Any) -> None:
    record, password = await deps.records.get_with_password(job_id)
    if record is None:
        raise JobNotFound("The job was deleted before it could run.")
    if record.status in TERMINAL:
        raise _AlreadyFinished
    if record.cancel_requested:  # cancelled between dequeue and start: SAQ's abort cannot see this window
        raise JobCancelled()
    # A re-run after a dead or stopped worker resumes: the parse process skips pages already stored (it writes
    # them atomically), so running a live job twice (SAQ's sweep can do that) is harmless. A finished job is
    # not run again: the start is one check-and-set, so a run that read the record before another finished it
    # is refused too. A retry asked for through the API reopens the record and clears the results first.
    attempt = await state.start(deps.records, job_id)
    if attempt < 0:
        raise _AlreadyFinished
    if attempt == 0:
        raise JobNotFound("The job was deleted before it could run.")
    request = ParseRequest(
        job_id=job_id,
        path=str(deps.storage.source_path(job_id)),
        file_type=record.file_type,
        size=record.size,
        sha256=record.sha256,
        storage_root=str(deps.storage.root),
        max_pages=deps.settings.max_pages,
        options=record.options,
        password=password,
    )
    bound.info("parse started", file_type=record.file_type, size=record.size)
    parse = asyncio.create_task(_consume(deps, request, progress, bound))
    stop_watching = asyncio.Event()
    cancel = asyncio.create_task(_wait_for_cancel(job, deps.records, job_id, stop_watching))
    try:
        async with asyncio.timeout(deps.settings.job_timeout):
            await asyncio.wait([parse, cancel], return_when=asyncio.FIRST_COMPLETED)
    except TimeoutError:
        raise JobTimeout(f"Parsing took longer than {deps.settings.job_timeout} s and was stopped.") from None
    finally:
        cancelled = cancel.done()
        # The watcher is told to stop, not awaited: on Python 3.11 a cancel can be lost inside SAQ's listener
        # (wait_for, CPython gh-86296), and waiting for it held a job "processing" until the sweep.
        stop_watching.set()
        cancel.cancel()
        cancel.add_done_callback(lambda t: t.cancelled() or t.exception())
        parse.cancel()  # kills the parse process at once if it is still working
        await asyncio.gather(parse, return_exceptions=True)
        # The real pages_done, whatever ended the parse: a stopped parse process finishes its page after we
        # stopped listening, and storage is what readers see. (The caller writes it with the final state.)
        progress.done = len(deps.storage.page_numbers(job_id))
    if cancelled:
        raise JobCancelled(f"The job was cancelled after {progress.done} of {progress.total or '?'} pages.")
    if (error := parse.exception()) is not None:
        raise error
    if progress.failed and not progress.done:
        # Nothing could be read: the document failed, for the reason its first page gave.
        first = progress.failed[0]
        raise error_for_code(
            first.code, first.message if len(progress.failed) == 1 else f"{first.message} No page could be read."
        )


async def _consume(deps: WorkerDeps, request: ParseRequest, progress: Progress, bound: Any) -> None:
    events = deps.pool.parse(
        request,
        page_timeout=deps.settings.page_timeout,
        ocr_page_timeout=deps.settings.ocr_page_timeout,
        tick=max(1.0, deps.settings.heartbeat / 3),
    )
    # aclosing: when this task is cancelled, the parse's clean-up (stop the process, free its slot) runs here and
    # now, not whenever the garbage collector finalises the generator.
    async with contextlib.aclosing(events):
        async for event in events:
            if isinstance(event, PageDone):
                progress.done += 1
                await progress.report()
            elif isinstance(event, Opened):
                progress.total = len(event.numbers)
                await progress.report(force=True, heartbeat=False)
            elif isinstance(event, PageFailed):
                progress.failed.append(PageError(event.number, event.code, event.message))
                bound.warning("page failed", page=event.number, code=event.code)
                await progress.report(force=True)
            elif isinstance(event, Waiting):
                await progress.heartbeat()


async def _wait_for_cancel(job: Job, records: RecordStore, job_id: str, stop: asyncio.Event) -> None:
    """Returns as soon as the job is cancelled. SAQ's abort publishes on the job's channel, which lets us kill
    the parse within milliseconds instead of at SAQ's next abort check. A wake-up is only a hint: SAQ's listener
    also returns when its shared subscription is reset, so the record and SAQ's job say whether it really was.
    The task read the record just before, so the first look goes straight to listening."""
    queue = job.get_queue()

    def aborted(_key: str, status: Status) -> bool:
        return status in (Status.ABORTING, Status.ABORTED)

    first = True
    while not stop.is_set():
        try:
            if not first:
                record = await records.get(job_id)
                if record is None or record.cancel_requested or state.aborted_by_operator(await queue.job(job.key)):
                    return
            first = False
            await queue.listen([job.key], aborted, timeout=5)
        except TimeoutError:
            continue
        except Exception:  # Redis trouble must not pass for a cancel; the parse goes on meanwhile
            log.warning("cancel watch failed; retrying", job_id=job_id, exc_info=True)
            await asyncio.sleep(1)


async def record_outcome(ctx: dict[str, Any]) -> None:
    """SAQ's after_process hook. Writes the endings the task could not write itself — an unexpected error (SAQ
    retries it or gives up) or SAQ's own abort — and, always, `settled_at`: SAQ has made its last write for this
    attempt, so the job can now be deleted without a late write bringing a key back."""
    job: Job | None = ctx.get("job")
    if job is None or job.function != "parse_document" or ctx.get("duplicate_run"):
        return
    deps: WorkerDeps = ctx["docparse"]
    exc = ctx.get("exception")
    ttl = deps.settings.result_ttl
    records = deps.records
    settled: RecordUpdate = {"settled_at": time.time()}
    # Every change of state below is refused once the job has finished (another run may have finished it);
    # settled_at is written in any case.
    if isinstance(exc, DocparseError):
        done = False  # the outcome was written by the task
    elif job.status in (Status.QUEUED, Status.NEW):
        done = await state.requeue(records, job.key, **settled)
    elif job.status == Status.FAILED:
        log.error("unexpected job failure", job_id=job.key, exc_info=exc)
        error = JobTimeout() if isinstance(exc, TimeoutError) else DocparseError()
        done = await state.fail(records, job.key, ttl, error, **settled)
    elif job.status == Status.ABORTED:
        if state.cancelled(await records.get(job.key), await job.get_queue().job(job.key)):
            done = await state.cancel(records, job.key, ttl, **settled)
        else:
            # Aborted by SAQ's sweep: it re-queues the job, or finishes it as given up, and the public status
            # follows SAQ's job until our next run writes again. Nothing final to write here.
            done = await state.requeue(records, job.key, **settled)
    else:
        done = False
    if not done:
        await records.update(job.key, **settled)
