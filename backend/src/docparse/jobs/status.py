"""The public status of a job: our record merged with SAQ's view, which is the truth when a worker died."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
from saq import Job, Status

from docparse.errors import DocparseError, JobCancelled, WorkerLost
from docparse.jobs.records import JobRecord
from docparse.jobs.state import TERMINAL, JobState, aborted_by_operator
from docparse.messages import english, status_text

__all__ = [
    "ChunkCounts",
    "ErrorInfo",
    "JobState",
    "JobStatus",
    "LiveCounts",
    "ReusedResult",
    "build_status",
    "merged_state",
]


class ErrorInfo(msgspec.Struct):
    code: str
    message: str


class ChunkCounts(msgspec.Struct):
    """A long document is parsed in chunks (page ranges) by many workers at once; this counts them."""

    total: int
    running: int
    done: int


@dataclass(frozen=True)
class LiveCounts:
    """Counts kept beside the record while a job runs (see pagestore.py and chunks.py)."""

    pages_done: int
    failed_pages: list[int]
    chunks: ChunkCounts | None


class ReusedResult(msgspec.Struct):
    """The earlier job whose result was copied instead of parsing the file again."""

    job_id: str
    parsed_at: datetime | None


class JobStatus(msgspec.Struct, kw_only=True):
    job_id: str
    status: JobState
    progress: int
    message: str
    pages_done: int
    pages_total: int | None
    failed_pages: list[int]
    filename: str
    file_type: str
    size: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None
    attempts: int
    queue_position: int | None
    error: ErrorInfo | None
    chunks: ChunkCounts | None = None
    """Set while a document split into chunks is parsed (and after)."""
    reused_from: ReusedResult | None = None
    """Set when the result is a copy of an earlier job's (the same file with the same options, same owner)."""


def _time(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


def merged_state(record: JobRecord, job: Job | None, heartbeat: int) -> tuple[JobState, ErrorInfo | None]:
    """Our own terminal write wins (the task writes it before SAQ settles the job); before it, SAQ knows best
    whether the job waits, runs, or was given up after its worker died."""
    own = record.status
    own_error = ErrorInfo(record.error_code, record.error_message or "") if record.error_code else None
    if own in TERMINAL or job is None:
        return own, own_error
    if job.status in (Status.NEW, Status.QUEUED):
        return JobState.QUEUED, None
    if job.status == Status.ACTIVE:
        return JobState.PROCESSING, None
    if job.status == Status.ABORTING:
        # SAQ's abort takes the job off its active list, so if its worker dies now nobody finishes it.
        stale = (now_ms() - job.touched) > heartbeat * 1000
        return (JobState.CANCELLED, _CANCELLED) if stale and record.cancel_requested else (JobState.PROCESSING, None)
    if job.status == Status.COMPLETE:
        return JobState.COMPLETED, None
    if job.status == Status.ABORTED:
        if record.cancel_requested or aborted_by_operator(job):  # our cancel, or the monitor's abort
            return JobState.CANCELLED, _CANCELLED
        if job.retryable:  # aborted by SAQ's sweep, which re-queues it
            return JobState.QUEUED, None
        lost = WorkerLost()
        return JobState.FAILED, ErrorInfo(lost.code, lost.message)
    # FAILED, and our code could not say why: it crashed.
    error = WorkerLost() if job.error == WorkerLost.code else DocparseError()
    return JobState.FAILED, ErrorInfo(error.code, error.message)


_CANCELLED = ErrorInfo(JobCancelled.code, JobCancelled.default_message)


def now_ms() -> int:
    return int(time.time() * 1000)


def build_status(
    record: JobRecord,
    job: Job | None,
    *,
    queue_position: int | None,
    ttl: int,
    heartbeat: int,
    live: LiveCounts | None = None,
) -> JobStatus:
    """`job` is SAQ's job of the first run. Once a job is split, that run has ended while the job goes on: the
    record (and the chunks' own SAQ jobs, watched by the rescue chore) tell its state then."""
    chunks = live.chunks if live else None
    state, error = merged_state(record, None if chunks else job, heartbeat)
    if live is not None and state not in TERMINAL:
        done, failed = live.pages_done, live.failed_pages
    else:
        done, failed = record.pages_done, [p.number for p in record.failed_pages]
    total = record.pages_total
    handled = done + len(failed)
    if state == JobState.COMPLETED:
        progress = 100
    elif total:
        progress = min(99, handled * 100 // total) if state == JobState.PROCESSING else handled * 100 // total
    else:
        progress = 0
    return JobStatus(
        job_id=record.job_id,
        status=state,
        progress=progress,
        message=_message(state, done, total, len(failed), queue_position, error),
        pages_done=done,
        pages_total=total,
        failed_pages=failed,
        filename=record.filename,
        file_type=record.file_type,
        size=record.size,
        created_at=datetime.fromtimestamp(record.created_at, UTC),
        started_at=_time(record.started_at),
        finished_at=_time(record.finished_at) if state in TERMINAL else None,
        expires_at=_time(record.finished_at + ttl) if state in TERMINAL and record.finished_at else None,
        attempts=record.attempts,
        queue_position=queue_position if state == JobState.QUEUED else None,
        error=error if state in (JobState.FAILED, JobState.CANCELLED) else None,
        chunks=chunks,
        reused_from=ReusedResult(record.reused_from, _time(record.reused_parsed_at)) if record.reused_from else None,
    )


def _message(
    state: JobState, done: int, total: int | None, failed_count: int, position: int | None, error: ErrorInfo | None
) -> str:
    """In English; the API says it again in the caller's language from the same fields (docparse.messages)."""
    if state == JobState.FAILED and error:
        return error.message
    return english(status_text(state, done, total, failed_count, position))
