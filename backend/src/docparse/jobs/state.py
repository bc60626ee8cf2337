"""Job state: the states, the allowed transitions as data, and the operations every writer of a status calls."""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from saq import Job, Status

from docparse.errors import DocparseError, JobCancelled, WorkerLost

if TYPE_CHECKING:  # records.py imports JobState from here
    from typing import Unpack

    from docparse.jobs.records import JobRecord, RecordStore, RecordUpdate

log = structlog.get_logger(__name__)

Counts = Mapping[str, int | float]  # metrics to add with a change (see metrics.finished_counts)


class JobState(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL: frozenset[JobState] = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED})
LIVE: frozenset[JobState] = frozenset({JobState.QUEUED, JobState.PROCESSING})

# What our record may become from each state. A live job may reach any state: a re-run after a dead worker
# resumes (processing -> processing), SAQ's sweep or a stopped worker re-queues it (-> queued), and a run that
# outlived a sweep still writes its ending when another run's hook has written "queued" meanwhile. Only a retry
# (reopen) makes a failed or cancelled job live again; a completed job never changes.
TRANSITIONS: Mapping[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset(JobState),
    JobState.PROCESSING: frozenset(JobState),
    JobState.FAILED: frozenset({JobState.QUEUED}),
    JobState.CANCELLED: frozenset({JobState.QUEUED}),
    JobState.COMPLETED: frozenset(),
}


@dataclass(frozen=True)
class Operation:
    """One kind of write: the state it sets (None: fields only) and the states it may start from."""

    name: str
    target: JobState | None
    sources: frozenset[JobState]


def _op(name: str, target: JobState | None, among: frozenset[JobState]) -> Operation:
    allowed = among if target is None else frozenset(s for s in among if target in TRANSITIONS[s])
    return Operation(name, target, allowed)


START = _op("start", JobState.PROCESSING, LIVE)
PROGRESS = _op("progress", None, LIVE)  # counts of a run: only while the job is live
COMPLETE = _op("complete", JobState.COMPLETED, LIVE)
FAIL = _op("fail", JobState.FAILED, LIVE)
CANCEL = _op("cancel", JobState.CANCELLED, LIVE)
REQUEUE = _op("requeue", JobState.QUEUED, LIVE)
REOPEN = _op("reopen", JobState.QUEUED, TERMINAL)  # a retry asked for through the API
OPERATIONS = (START, PROGRESS, COMPLETE, FAIL, CANCEL, REQUEUE, REOPEN)


async def _apply(
    records: RecordStore,
    job_id: str,
    op: Operation,
    fields: RecordUpdate,
    *,
    ttl: int = 0,
    count_attempt: bool = False,
    password: str | None = None,
    counts: Counts | None = None,
    remember: tuple[str, str] | None = None,
) -> int:
    """The one check-and-set (records.transition). Returns what it did: >0 applied (the attempt number when
    counting), 0 the record is gone, -1 refused (logged with the state it was in)."""
    done, current = await records.transition(
        job_id, op.target, op.sources, fields, ttl=ttl, count_attempt=count_attempt, password=password,
        counts=counts, remember=remember,
    )  # fmt: skip
    if done < 0:
        log.info("transition refused", job_id=job_id, operation=op.name, from_state=current, to_state=op.target)
    return done


async def start(records: RecordStore, job_id: str) -> int:
    """Begin a run: processing, counts reset, the attempt counted in the same step. Returns the attempt number,
    -1 when the job has finished (only reopen() makes it live again), 0 when it was deleted."""
    return (await start_run(records, job_id))[0]


async def start_run(records: RecordStore, job_id: str) -> tuple[int, JobRecord | None, str | None]:
    """start(), with the record as it was just before and its password, read in the same round trip."""
    fields: RecordUpdate = {
        "started_at": time.time(), "pages_done": 0, "pages_total": None, "failed_pages": [],
        "error_code": None, "error_message": None, "finished_at": None,
    }  # fmt: skip
    done, current, record, password = await records.read_and_transition(
        job_id, JobState.PROCESSING, START.sources, fields, count_attempt=True
    )
    if done < 0:
        log.info("transition refused", job_id=job_id, operation=START.name, from_state=current, to_state=START.target)
    return done, record, password


async def progress(records: RecordStore, job_id: str, **counts: Unpack[RecordUpdate]) -> bool:
    """Counts of the running attempt; refused once the job has finished (a late write of an ended run)."""
    return await _apply(records, job_id, PROGRESS, counts) > 0


async def complete(
    records: RecordStore,
    job_id: str,
    ttl: int,
    *,
    counts: Counts | None = None,
    remember: tuple[str, str] | None = None,
    **fields: Unpack[RecordUpdate],
) -> bool:
    """Completed; with `remember` (owner, fingerprint), a later upload of the same file may reuse the result."""
    return await _finish(records, job_id, COMPLETE, ttl, fields, counts, remember)


async def fail(
    records: RecordStore,
    job_id: str,
    ttl: int,
    error: DocparseError,
    *,
    counts: Counts | None = None,
    **fields: Unpack[RecordUpdate],
) -> bool:
    failure: RecordUpdate = {**fields, "error_code": error.code, "error_message": error.message}
    return await _finish(records, job_id, FAIL, ttl, failure, counts)


async def cancel(
    records: RecordStore,
    job_id: str,
    ttl: int,
    error: DocparseError | None = None,
    *,
    counts: Counts | None = None,
    **fields: Unpack[RecordUpdate],
) -> bool:
    error = error or JobCancelled()
    ending: RecordUpdate = {**fields, "error_code": error.code, "error_message": error.message}
    return await _finish(records, job_id, CANCEL, ttl, ending, counts)


async def _finish(
    records: RecordStore,
    job_id: str,
    op: Operation,
    ttl: int,
    fields: RecordUpdate,
    counts: Counts | None = None,
    remember: tuple[str, str] | None = None,
) -> bool:
    """An ending: the record expires with the results after `ttl`; the first ending written stays, and only it
    adds `counts` to the metrics. (The password stays as long as the extracted text does: page pictures of an
    encrypted document need it.)"""
    fields.setdefault("finished_at", time.time())
    return await _apply(records, job_id, op, fields, ttl=ttl, counts=counts, remember=remember) > 0


async def requeue(records: RecordStore, job_id: str, **fields: Unpack[RecordUpdate]) -> bool:
    """Back to queued after SAQ's sweep or a stopped worker; refused once another run finished the job."""
    return await _apply(records, job_id, REQUEUE, fields) > 0


async def reopen(records: RecordStore, job_id: str, *, password: str | None = None) -> bool:
    """A failed or cancelled job queued again (a retry): live, no expiry, counts cleared, optionally a new
    password. `attempts` keeps counting."""
    fields: RecordUpdate = {
        "cancel_requested": False, "error_code": None, "error_message": None, "pages_done": 0, "pages_total": None,
        "failed_pages": [], "started_at": None, "finished_at": None,
    }  # fmt: skip
    return await _apply(records, job_id, REOPEN, fields, ttl=-1, password=password) > 0


def aborted_by_operator(saq_job: Job | None) -> bool:
    """SAQ aborts a job for two reasons: someone asked (our cancel, the monitor's abort button) or its sweep
    thought the worker dead — which also happens to a job swept in the instant between dequeue and start (saq
    #277). The sweep re-queues the job, so only the first is a cancel."""
    return (
        saq_job is not None
        and saq_job.status in (Status.ABORTING, Status.ABORTED)
        and saq_job.error not in (None, WorkerLost.code)
    )


def cancelled(record: JobRecord | None, saq_job: Job | None) -> bool:
    """Whether an aborted job was cancelled (through the API or the monitor) rather than given up by the sweep."""
    return (record is not None and record.cancel_requested) or aborted_by_operator(saq_job)
