"""The SAQ tasks: a thin adapter that runs a parse in a child process, stores its pages, and records the outcome.

`parse_document` is a job's first run (unit 0); `parse_chunk` runs one unit of a job that was split (see
chunks.py). Both go through `_run`: begin (is this run still wanted?), parse with a time budget, then split
what is left, or end the unit — and the run that ends a job's last unit writes the job's ending.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import structlog
from saq import Job, Status
from saq.queue.redis import RedisQueue

from docparse.errors import DocparseError, JobCancelled, JobNotFound, JobTimeout, error_for_code
from docparse.jobs import state
from docparse.jobs.cancels import CancelWatch
from docparse.jobs.chunks import Plans, split_pages
from docparse.jobs.idempotency import fingerprint
from docparse.jobs.metrics import finished_counts
from docparse.jobs.pagestore import PageStore, SegmentBuffer, Summary
from docparse.jobs.queue import CHUNK_FUNCTION, PARSE_FUNCTION, build_chunk_job
from docparse.jobs.records import JobRecord, PageError, RecordStore, RecordUpdate
from docparse.jobs.runner import ChildPool, Opened, PageDone, PageFailed, ParseRequest, Stopped
from docparse.jobs.state import TERMINAL, JobState
from docparse.settings import Settings
from docparse.storage.base import Storage, document_key

log = structlog.get_logger(__name__)

HEARTBEAT_EVERY = 1.0  # seconds between SAQ heartbeats while pages flow (each costs SAQ two round trips)
CANCEL_RECHECK = 5.0  # seconds between looks at a running job's record for a cancel no message announced


@dataclass
class WorkerDeps:
    """What the tasks need, built once per worker process (see worker.py) and kept in SAQ's context."""

    settings: Settings
    records: RecordStore
    storage: Storage
    pool: ChildPool
    cancels: CancelWatch | None = None  # None: a cancel is found by looking at the record every few seconds
    pages: PageStore = field(init=False)
    plans: Plans = field(init=False)

    def __post_init__(self) -> None:
        self.pages = PageStore(self.records, self.storage)
        self.plans = Plans(self.records, self.settings.chunk_window)


@dataclass
class Unit:
    """One run of one unit of a job."""

    job: Job  # SAQ's job of this unit
    deps: WorkerDeps
    job_id: str
    number: int  # 0: the job's first run
    attempt: int = 0  # the job's attempt the unit belongs to
    done: int = 0  # pages this run stored (new ones)
    failed: int = 0
    handled: int = 0  # pages this run went through
    seconds: float = 0.0  # spent parsing pages in this run (from the document's opening on: the pace of pages)
    opened_at: float = 0.0  # monotonic time the current request's document was open
    leftover: list[int] = field(default_factory=list)  # pages a budget left unparsed
    split: bool = False
    cancel_hint: asyncio.Event = field(default_factory=asyncio.Event)  # set when a cancel may have been announced
    summary: Summary | None = None  # the job's summary, read with this run's last pages

    @property
    def settings(self) -> Settings:
        return self.deps.settings

    @property
    def pace(self) -> float:
        """Seconds per page so far in this run (what a split sizes its units by)."""
        return max(self.seconds, 0.001) / max(self.handled, 1)


class _Skip(Exception):
    """This run must not parse: the job or the unit has ended (a duplicate or late run), or was deleted."""


async def parse_document(ctx: dict[str, Any], *, job_id: str) -> dict[str, Any]:
    """A job's first run: parse the stored upload page by page; pages land in storage as they are done.

    The task writes the job's final state itself, before SAQ settles the job, so whoever is told the job ended
    reads why. Errors that would repeat (a bad file, a wrong password, a cancel) are not retried."""
    return await _run(ctx, Unit(ctx["job"], ctx["docparse"], job_id, 0))


async def parse_chunk(ctx: dict[str, Any], *, job_id: str, unit: int, attempt: int) -> dict[str, Any]:
    """One unit of a split job: its pages, stored as they are done."""
    return await _run(ctx, Unit(ctx["job"], ctx["docparse"], job_id, unit, attempt))


async def _run(ctx: dict[str, Any], unit: Unit) -> dict[str, Any]:
    bound = log.bind(job_id=unit.job_id, unit=unit.number, attempt=unit.job.attempts)
    started = time.perf_counter()
    try:
        with contextlib.ExitStack() as watching:
            if unit.deps.cancels is not None:  # from before the start: a cancel announced meanwhile is not missed
                unit.cancel_hint = watching.enter_context(unit.deps.cancels.watching(unit.job_id))
            record, password = await _begin(unit)
            await _parse(unit, record, password, bound)
    except _Skip as skip:
        # SAQ ran a finished unit twice (a worker that paused with a job dequeued, saq #277), a stray enqueue, or a
        # unit of a job that ended meanwhile. The first run's outcome stands; nothing is parsed or written.
        ctx["duplicate_run"] = True
        bound.info("run skipped", reason=str(skip))
        return {"skipped": str(skip)}
    except DocparseError as exc:
        unit.job.retries = unit.job.attempts  # the same input would fail the same way
        if isinstance(exc, JobCancelled):
            await _end_unit(unit, bound)
        else:
            await _fail_job(unit, exc, bound)
        raise
    if unit.leftover:
        await _split(unit, bound)
    else:
        await _end_unit(unit, bound)
    summary = {
        "pages_done": unit.done,  # stored by this run (a page another run stored first is not counted)
        "pages_parsed": unit.handled,
        "pages_failed": unit.failed,
        "seconds": round(time.perf_counter() - started, 3),
    }
    bound.info("unit finished" if unit.number or unit.split else "parse finished", **summary)
    return summary


async def _begin(unit: Unit) -> tuple[JobRecord, str | None]:
    """Whether this run goes ahead: the record and password, or _Skip / a DocparseError."""
    deps, job_id = unit.deps, unit.job_id
    if unit.number == 0:
        # A finished job is not run again: the start is one check-and-set, so a run that read the record before
        # another finished it is refused too. A re-run after a dead or stopped worker resumes: pages already
        # indexed are not parsed again. A retry asked for through the API reopens the record first. The record
        # is read in the same round trip.
        attempt, record, password = await state.start_run(deps.records, job_id)
        if record is None or attempt == 0:
            raise JobNotFound("The job was deleted before it could run.")
        if attempt < 0:
            raise _Skip("the job had already finished")
        unit.attempt = attempt
        if record.cancel_requested:  # cancelled between dequeue and start: SAQ's abort cannot see this window
            raise JobCancelled()  # (the run ends the job as cancelled at once)
        return record, password
    record, password = await deps.records.get_with_password(job_id)
    if record is None:
        raise _Skip("the job was deleted")
    if record.status in TERMINAL:
        raise _Skip("the job had already finished")
    step = await deps.plans.start(job_id, unit.number, unit.attempt)
    if step.refused:
        raise _Skip("the unit had already ended" if step.open == -1 else "the job was retried or deleted")
    await _enqueue(unit, step.enqueue)
    if not record.cancel_requested and state.aborted_by_operator(await unit.job.get_queue().job(job_id)):
        # The SAQ monitor aborted the job's first run, which had handed its pages to chunks: a cancel all the same.
        record.cancel_requested = await deps.records.update(job_id, cancel_requested=True)
    if record.cancel_requested:
        raise JobCancelled()
    return record, password


async def _parse(unit: Unit, record: JobRecord, password: str | None, bound: Any) -> None:
    deps, job_id, settings = unit.deps, unit.job_id, unit.settings
    if unit.number == 0:
        indices = None
        # (A job's first attempt has stored nothing yet: no need to ask.)
        skip = await deps.pages.stored_numbers(job_id) if unit.attempt > 1 else []
        # A first run that split the job ended there; if SAQ runs it again (its worker died before SAQ heard),
        # the chunks have its pages. (It stored pages before splitting, so a job with none never split.)
        if skip and await deps.plans.ended(job_id, 0):
            raise _Skip("the job's first run had already handed its pages to chunks")
        budget = settings.chunk_probe if settings.chunk_seconds > 0 else None
    else:
        numbers = await deps.plans.pages(job_id, unit.number) or []
        stored = set(await deps.pages.stored_among(job_id, numbers))
        indices = [n - 1 for n in numbers if n not in stored]
        skip = []
        budget = 2 * settings.chunk_seconds  # a unit that overruns this much splits its rest again
        if not indices:
            return
    try:
        source = await deps.storage.local_source(job_id)
    except FileNotFoundError:
        raise JobNotFound("The uploaded file is gone; the job was probably deleted.") from None
    request = ParseRequest(
        job_id=job_id, path=str(source), file_type=record.file_type, size=record.size, sha256=record.sha256,
        max_pages=settings.max_pages, options=record.options, password=password, indices=indices, skip=skip,
        info=unit.number == 0, budget=budget,
    )  # fmt: skip
    bound.info("parse started", file_type=record.file_type, size=record.size, pages=len(indices or ()) or None)
    while True:
        await _parse_pages(unit, request, bound)
        if not unit.leftover or not settings.chunk_seconds:
            return
        # The budget ran out. What is left is split into units unless it is about one unit's work itself.
        if len(split_pages(unit.leftover, unit.pace, settings.chunk_seconds)) > 1:
            return
        request.indices, request.skip, request.info, request.budget = [n - 1 for n in unit.leftover], [], False, None
        unit.leftover = []


async def _parse_pages(unit: Unit, request: ParseRequest, bound: Any) -> None:
    """One request to the parse process, with the cancel watch and the attempt's time limit."""
    deps, job_id = unit.deps, unit.job_id
    buffer = SegmentBuffer(
        deps.pages, job_id, max_age=unit.settings.progress_interval, max_bytes=unit.settings.segment_mb * 1024 * 1024
    )
    parse = asyncio.create_task(_consume(unit, request, buffer, bound))
    stop_watching = asyncio.Event()
    cancel = asyncio.create_task(_wait_for_cancel(unit, stop_watching))
    unit.opened_at = 0.0
    try:
        async with asyncio.timeout(unit.settings.job_timeout):
            await asyncio.wait([parse, cancel], return_when=asyncio.FIRST_COMPLETED)
    except TimeoutError:
        raise JobTimeout(f"Parsing took longer than {unit.settings.job_timeout} s and was stopped.") from None
    finally:
        cancelled = cancel.done()
        # The watcher is told to stop, not awaited: on Python 3.11 a cancel can be lost inside SAQ's listener
        # (wait_for, CPython gh-86296), and waiting for it held a job "processing" until the sweep.
        stop_watching.set()
        cancel.cancel()
        cancel.add_done_callback(lambda t: t.cancelled() or t.exception())
        parse.cancel()  # kills the parse process at once if it is still working
        await asyncio.gather(parse, return_exceptions=True)
        # Pages parsed before the end, whatever it was, are kept.
        added, unit.summary = await asyncio.shield(buffer.flush_and_summarise())
        unit.done += added
        if unit.opened_at:
            unit.seconds += time.monotonic() - unit.opened_at
    if cancelled:
        raise JobCancelled(f"The job was cancelled after {await deps.pages.count(job_id)} pages.")
    if (error := parse.exception()) is not None:
        raise error


async def _consume(unit: Unit, request: ParseRequest, buffer: SegmentBuffer, bound: Any) -> None:
    deps, job_id = unit.deps, unit.job_id
    events = deps.pool.parse(
        request,
        page_timeout=unit.settings.page_timeout,
        ocr_page_timeout=unit.settings.ocr_page_timeout,
        tick=max(0.05, min(unit.settings.progress_interval, unit.settings.heartbeat / 3)),
    )
    beat = time.monotonic()
    # aclosing: when this task is cancelled, the parse's clean-up (stop the process, free its slot) runs here and
    # now, not whenever the garbage collector finalises the generator.
    async with contextlib.aclosing(events):
        async for event in events:
            if isinstance(event, PageDone):
                unit.handled += 1
                buffer.add(event.number, event.data)
            elif isinstance(event, Opened):
                unit.opened_at = time.monotonic()
                if event.info is not None:
                    await deps.storage.put(document_key(job_id), event.info)
                    buffer.add_total(len(event.numbers))  # recorded with the first pages
            elif isinstance(event, PageFailed):
                unit.handled += 1
                unit.failed += 1
                await deps.pages.fail(job_id, PageError(event.number, event.code, event.message))
                bound.warning("page failed", page=event.number, code=event.code)
            elif isinstance(event, Stopped):
                unit.leftover = event.numbers
            if buffer.due():
                unit.done += await buffer.flush()
                await _notify(unit)
            if time.monotonic() - beat >= HEARTBEAT_EVERY:
                beat = time.monotonic()
                await unit.job.update()  # SAQ's heartbeat: this unit is alive


async def _notify(unit: Unit) -> None:
    """Wake the job's event streams: they listen on the job's own SAQ channel, which a chunk does not write."""
    queue = unit.job.get_queue()
    assert isinstance(queue, RedisQueue)
    await queue.redis.publish(queue.job_id(unit.job_id), Status.ACTIVE)


async def _enqueue(unit: Unit, units: list[int]) -> None:
    queue = unit.job.get_queue()
    for number in units:
        await queue.enqueue(build_chunk_job(unit.job_id, unit.attempt, number, unit.settings))


async def _split(unit: Unit, bound: Any) -> None:
    """Hand the pages the budget left to new units, and end this one."""
    pace = unit.pace
    parts = split_pages(unit.leftover, pace, unit.settings.chunk_seconds)
    step = await unit.deps.plans.split(unit.job_id, unit.number, unit.attempt, parts)
    unit.split = True
    if step.refused:  # another run of this unit ended it first
        return
    bound.info("split", pages=len(unit.leftover), units=len(parts), seconds_per_page=round(pace, 5))
    await _enqueue(unit, step.enqueue)


async def _end_unit(unit: Unit, bound: Any) -> None:
    """End this unit; the run that ends the job's last unit writes the job's ending."""
    deps, job_id = unit.deps, unit.job_id
    if unit.number == 0 and not unit.split:  # the job never split (only its first run splits it): no plan
        await _finish_job(unit, bound)
        return
    # Unit 0 belongs to whichever attempt split it (a re-run after a dead worker counts another attempt).
    step = await deps.plans.end(job_id, unit.number, unit.attempt if unit.number else None)
    if step.refused:
        return
    await _enqueue(unit, step.enqueue)
    if step.open == 0:
        await _finish_job(unit, bound)


async def _finish_job(unit: Unit, bound: Any) -> None:
    deps = unit.deps
    # A job that never split was parsed by this run alone: the summary read with its last pages is the job's.
    summary = unit.summary if unit.number == 0 and not unit.split else None
    ended = await finish_job(deps.records, deps.pages, deps.plans, unit.settings, unit.job_id, bound, summary)
    if ended and unit.number:
        await _notify(unit)  # the job's event streams listen on its first run's channel, not this chunk's


async def finish_job(
    records: RecordStore,
    pages: PageStore,
    plans: Plans,
    settings: Settings,
    job_id: str,
    bound: Any = log,
    summary: Summary | None = None,
) -> JobState | None:
    """Write the ending of a job whose last unit has ended: cancelled if asked, failed if no page could be read,
    else completed. The check-and-set keeps the first ending written. Returns the ending, None if there was
    none to write. `summary`: the job's, if the caller has just read it."""
    ttl = settings.result_ttl
    record, failures, stored = summary or await pages.summary(job_id)
    if record is None or record.status in TERMINAL:
        return None
    fields: RecordUpdate = {"pages_done": stored, "failed_pages": failures}
    seconds = time.time() - (record.started_at or record.created_at)

    def counts(outcome: JobState) -> dict[str, int | float]:  # the metrics, added by the same step as the ending
        return finished_counts(status=outcome, pages_parsed=stored, pages_failed=len(failures), seconds=seconds)

    if record.cancel_requested:
        outcome = JobState.CANCELLED
        cancelled = JobCancelled(f"The job was cancelled after {stored} pages.")
        written = await state.cancel(records, job_id, ttl, cancelled, counts=counts(outcome), **fields)
    elif failures and not stored:
        # Nothing could be read: the document failed, for the reason its first page gave.
        first = failures[0]
        message = first.message if len(failures) == 1 else f"{first.message} No page could be read."
        outcome = JobState.FAILED
        error = error_for_code(first.code, message)
        written = await state.fail(records, job_id, ttl, error, counts=counts(outcome), **fields)
    else:
        outcome = JobState.COMPLETED
        # A later upload of the same file with the same options may reuse this result.
        remember = (record.owner, fingerprint(record.sha256, record.options))
        written = await state.complete(records, job_id, ttl, counts=counts(outcome), remember=remember, **fields)
    if not written:  # (the pages' index and the plan now expire with the record)
        return None
    bound.info("job ended", status=outcome, pages_done=stored, pages_failed=len(failures))
    return outcome


async def _fail_job(unit: Unit, exc: DocparseError, bound: Any) -> None:
    """A failure of the document itself (it cannot be opened, is too long, timed out): the job fails now, and no
    more of its units are queued; those running finish their page and find the job ended."""
    deps, job_id, ttl = unit.deps, unit.job_id, unit.settings.result_ttl
    bound.info("parse ended", status=JobState.FAILED, code=exc.code, error=exc.message)
    await deps.plans.stop(job_id)
    _, failures, stored = await deps.pages.summary(job_id)
    counts = finished_counts(status=JobState.FAILED, pages_parsed=stored, pages_failed=len(failures), seconds=0.0)
    await state.fail(deps.records, job_id, ttl, exc, counts=counts, pages_done=stored, failed_pages=failures)


async def _wait_for_cancel(unit: Unit, stop: asyncio.Event) -> None:
    """Returns as soon as the job is cancelled: woken by the worker's cancel channel (see cancels.py), whose
    message is only a hint, so the record says whether it really was; and every few seconds in any case (a
    message lost with a connection; an abort from the SAQ monitor)."""
    records, job_id, queue = unit.deps.records, unit.job_id, unit.job.get_queue()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CANCEL_RECHECK):
                await unit.cancel_hint.wait()
        unit.cancel_hint.clear()
        if stop.is_set():
            return
        try:
            record = await records.get(job_id)
            if record is None or record.cancel_requested or state.aborted_by_operator(await queue.job(unit.job.key)):
                return
        except Exception:  # Redis trouble must not pass for a cancel; the parse goes on meanwhile
            log.warning("cancel watch failed; retrying", job_id=job_id, exc_info=True)
            await asyncio.sleep(1)


async def record_outcome(ctx: dict[str, Any]) -> None:
    """SAQ's after_process hook. Writes the endings the task could not write itself — an unexpected error (SAQ
    retries it or gives up) or SAQ's own abort — and `settled_at`: SAQ has made its last write for this attempt,
    so the job can now be deleted without a late write bringing a key back. (A run that completed needs no
    such write: SAQ's job, complete, says as much.)"""
    job: Job | None = ctx.get("job")
    if job is None or job.function not in (PARSE_FUNCTION, CHUNK_FUNCTION) or ctx.get("duplicate_run"):
        return
    deps: WorkerDeps = ctx["docparse"]
    job_id: str = job.kwargs["job_id"] if job.kwargs else job.key
    exc = ctx.get("exception")
    ttl = deps.settings.result_ttl
    records = deps.records
    settled: RecordUpdate = {"settled_at": time.time()}
    # Every change of state below is refused once the job has finished (another run may have finished it);
    # settled_at is written in any case.
    if job.status == Status.COMPLETE and exc is None:
        return  # SAQ's own record of the job says it is done with it (see JobService._wait_settled)
    if isinstance(exc, DocparseError):
        done = False  # the outcome was written by the task
    elif job.status in (Status.QUEUED, Status.NEW):
        # SAQ retries the unit; the job itself stays live (a chunk's job id is not the job's)
        done = await state.requeue(records, job_id, **settled) if job.function == PARSE_FUNCTION else False
    elif job.status == Status.FAILED:
        log.error("unexpected job failure", job_id=job_id, exc_info=exc)
        error = JobTimeout() if isinstance(exc, TimeoutError) else DocparseError()
        await deps.plans.stop(job_id)
        done = await state.fail(records, job_id, ttl, error, **settled)
    elif job.status == Status.ABORTED:
        if state.cancelled(await records.get(job_id), await job.get_queue().job(job.key)):
            kwargs = job.kwargs or {}
            unit = Unit(job, deps, job_id, kwargs.get("unit", 0), kwargs.get("attempt", 0))
            await deps.records.update(job_id, cancel_requested=True)
            await _end_unit(unit, log.bind(job_id=job_id, unit=unit.number))
            done = False
        elif job.function == PARSE_FUNCTION:
            # Aborted by SAQ's sweep: it re-queues the job, or finishes it as given up, and the public status
            # follows SAQ's job until our next run writes again. Nothing final to write here.
            done = await state.requeue(records, job_id, **settled)
        else:
            done = False
    else:
        done = False
    if not done:
        await records.update(job_id, **settled)
