"""Job state tables: every operation from every state against real Redis, merged_state, and SAQ's after-process hook."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog
from saq import Job, Status
from saq.queue.redis import RedisQueue
from structlog.testing import capture_logs

from docparse.errors import DocparseError, JobCancelled, JobTimeout, WorkerLost
from docparse.jobs import records as records_module
from docparse.jobs import state
from docparse.jobs.queue import PARSE_FUNCTION, create_queue
from docparse.jobs.records import JobRecord, RecordStore, record_from_hash
from docparse.jobs.runner import ChildPool
from docparse.jobs.state import JobState
from docparse.jobs.status import merged_state, now_ms
from docparse.jobs.tasks import WorkerDeps, record_outcome
from docparse.settings import Settings
from docparse.storage import open_storage

Q, P, C, F, X = (JobState.QUEUED, JobState.PROCESSING, JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[RedisQueue]:
    q = create_queue(settings)
    await q.connect()
    yield q
    await q.disconnect()


@pytest.fixture
def records(queue: RedisQueue, settings: Settings) -> RecordStore:
    return RecordStore(queue.redis, settings.queue_name)


async def _record(records: RecordStore, status: JobState, **fields: Any) -> str:
    """A record in `status` (written straight into its hash: this is the test's setup, not a transition)."""
    job_id = str(uuid.uuid4())
    record = JobRecord(job_id=job_id, filename="a.pdf", file_type="pdf", size=1, sha256="0", created_at=time.time())
    await records.create(record, password=None)
    await records.redis.hset(records.key(job_id), mapping={"status": status.value, **fields})
    return job_id


_OPERATIONS: dict[str, Callable[[RecordStore, str], Awaitable[bool | int]]] = {
    "start": state.start,
    "progress": lambda r, j: state.progress(r, j, pages_done=1, pages_total=2),
    "complete": lambda r, j: state.complete(r, j, 60),
    "fail": lambda r, j: state.fail(r, j, 60, DocparseError()),
    "cancel": lambda r, j: state.cancel(r, j, 60),
    "requeue": state.requeue,
    "reopen": state.reopen,
}
_TARGET = {"start": P, "complete": C, "fail": F, "cancel": X, "requeue": Q, "reopen": Q}

# (from, operation) -> applied. Written out, not derived from TRANSITIONS: this is the table the code must match.
_APPLIED = {
    Q: {"start", "progress", "complete", "fail", "cancel", "requeue"},
    P: {"start", "progress", "complete", "fail", "cancel", "requeue"},
    C: set(),
    F: {"reopen"},
    X: {"reopen"},
}


@contextmanager
def captured_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """structlog's capture_logs, also when an earlier test configured logging: loggers cache their configuration on
    first use, so the modules under test get fresh ones for the duration."""
    with capture_logs() as logs:
        for module in (state, records_module):
            monkeypatch.setattr(module, "log", structlog.get_logger(module.__name__))
        yield logs


@pytest.mark.parametrize("operation", list(_OPERATIONS))
@pytest.mark.parametrize("source", list(JobState))
async def test_each_operation_from_each_state(
    records: RecordStore, source: JobState, operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = await _record(records, source, pages_done="5")
    before = await records.redis.hgetall(records.key(job_id))
    with captured_logs(monkeypatch) as logs:
        done = await _OPERATIONS[operation](records, job_id)
    record = await records.get(job_id)
    assert record is not None
    live = await records.redis.sismember(records.live_key, job_id)
    if operation in _APPLIED[source]:
        assert done > 0, f"{source} -> {operation} was refused"
        assert record.status == _TARGET.get(operation, source)
        assert bool(live) == (record.status in state.LIVE)
        assert record.pages_done == (1 if operation == "progress" else 0 if operation in ("start", "reopen") else 5)
    else:
        assert done <= 0, f"{source} -> {operation} was applied"
        assert await records.redis.hgetall(records.key(job_id)) == before
        refused = [e for e in logs if e["event"] == "transition refused"]
        assert refused and refused[0]["from_state"] == source and refused[0]["operation"] == operation


@pytest.mark.parametrize("operation", list(_OPERATIONS))
async def test_an_operation_on_a_deleted_job_writes_nothing(records: RecordStore, operation: str) -> None:
    job_id = str(uuid.uuid4())
    assert not await _OPERATIONS[operation](records, job_id)
    assert not await records.redis.exists(records.key(job_id))
    assert not await records.redis.sismember(records.live_key, job_id)


async def test_start_counts_attempts_and_endings_expire(records: RecordStore) -> None:
    job_id = await _record(records, Q)
    assert await state.start(records, job_id) == 1
    assert await state.requeue(records, job_id)
    assert await state.start(records, job_id) == 2
    assert await state.cancel(records, job_id, 60)
    assert 0 < await records.redis.ttl(records.key(job_id)) <= 60
    assert await state.reopen(records, job_id, password="secret")
    assert await records.redis.ttl(records.key(job_id)) == -1
    assert await records.password(job_id) == "secret"
    record = await records.get(job_id)
    assert record is not None and record.attempts == 2 and not record.cancel_requested and record.error_code is None


async def test_update_cannot_write_the_status(records: RecordStore) -> None:
    job_id = await _record(records, Q)
    with pytest.raises(TypeError):
        await records.update(job_id, status="completed")  # type: ignore[typeddict-unknown-key]
    assert await records.update(job_id, cancel_requested=True)
    assert not await records.update(str(uuid.uuid4()), cancel_requested=True)  # never creates a record


def test_an_unknown_field_is_logged_once_not_dropped_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = {b"job_id": b"j", b"filename": b"a", b"file_type": b"pdf", b"size": b"1", b"sha256": b"0",
           b"created_at": b"1.5", b"status": b"processing", b"pages_dnoe": b"3"}  # fmt: skip
    records_module._unknown_logged.discard("pages_dnoe")
    with captured_logs(monkeypatch) as logs:
        record = record_from_hash(raw)
        record_from_hash(raw)
    assert record.status is JobState.PROCESSING and record.pages_done == 0
    warnings = [e for e in logs if e["event"] == "unknown field in a job record"]
    assert [e["field"] for e in warnings] == ["pages_dnoe"]


# --- merged_state: our record with SAQ's view -------------------------------------------------------------------

_LOST = (F, WorkerLost.code)
_CANCEL = (X, JobCancelled.code)


def _saq(status: Status, *, error: str | None = None, retries: int = 1, attempts: int = 1, fresh: bool = False) -> Job:
    return Job(
        function=PARSE_FUNCTION, key="j", status=status, error=error, retries=retries, attempts=attempts,
        touched=FRESH if fresh else 0,
    )  # fmt: skip


FRESH = -1  # "touched just now": set when the test runs, not when the table is collected minutes earlier


@pytest.mark.parametrize(
    ("own", "cancel_requested", "saq_job", "expected"),
    [
        pytest.param(C, False, None, (C, None), id="own-completed-no-saq-job"),
        pytest.param(F, False, _saq(Status.ACTIVE), (F, "internal"), id="own-ending-wins-over-active"),
        pytest.param(X, False, _saq(Status.QUEUED), (X, "cancelled"), id="own-cancel-wins-over-queued"),
        pytest.param(Q, False, None, (Q, None), id="queued-no-saq-job"),
        pytest.param(Q, False, _saq(Status.NEW), (Q, None), id="new"),
        pytest.param(P, False, _saq(Status.QUEUED), (Q, None), id="saq-requeued"),
        pytest.param(Q, False, _saq(Status.ACTIVE), (P, None), id="saq-active"),
        pytest.param(P, True, _saq(Status.ABORTING, fresh=True), (P, None), id="aborting-worker-alive"),
        pytest.param(P, True, _saq(Status.ABORTING), _CANCEL, id="aborting-worker-dead-cancel"),
        pytest.param(P, False, _saq(Status.ABORTING), (P, None), id="aborting-worker-dead-no-cancel"),
        pytest.param(P, False, _saq(Status.COMPLETE), (C, None), id="saq-complete"),
        pytest.param(P, True, _saq(Status.ABORTED, error=WorkerLost.code), _CANCEL, id="aborted-cancel-requested"),
        pytest.param(P, False, _saq(Status.ABORTED, error="cancelled"), _CANCEL, id="aborted-by-monitor"),
        pytest.param(P, False, _saq(Status.ABORTED, error=WorkerLost.code, retries=2), (Q, None), id="swept-retry"),
        pytest.param(P, False, _saq(Status.ABORTED, error=None, retries=2), (Q, None), id="swept-no-error"),
        pytest.param(P, False, _saq(Status.ABORTED, error=WorkerLost.code), _LOST, id="swept-retries-out"),
        pytest.param(P, False, _saq(Status.FAILED, error=WorkerLost.code), _LOST, id="failed-worker-lost"),
        pytest.param(P, False, _saq(Status.FAILED, error="Traceback"), (F, "internal"), id="failed-crash"),
    ],
)
def test_merged_state(
    own: JobState, cancel_requested: bool, saq_job: Job | None, expected: tuple[JobState, str | None]
) -> None:
    error = {"error_code": "internal", "error_message": "x"} if own == F else {}
    if own == X:
        error = {"error_code": JobCancelled.code, "error_message": "x"}
    record = JobRecord(
        job_id="j", filename="a", file_type="pdf", size=1, sha256="0", created_at=1.0, status=own,
        cancel_requested=cancel_requested, **error,
    )  # fmt: skip
    if saq_job is not None and saq_job.touched == FRESH:
        saq_job.touched = now_ms()
    got, info = merged_state(record, saq_job, heartbeat=30)
    assert (got, info.code if info else None) == expected


# --- record_outcome: SAQ's after-process hook --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("own", "cancel_requested", "saq_status", "stored_error", "exception", "expected"),
    [
        pytest.param(P, False, Status.QUEUED, None, None, (P, Q, None), id="retried-requeues"),
        pytest.param(P, False, Status.NEW, None, None, (P, Q, None), id="new-requeues"),
        pytest.param(P, False, Status.FAILED, None, RuntimeError("x"), (P, F, "internal"), id="crash-fails"),
        pytest.param(P, False, Status.FAILED, None, TimeoutError(), (P, F, JobTimeout.code), id="timeout-fails"),
        pytest.param(P, True, Status.ABORTED, WorkerLost.code, None, (P, X, "cancelled"), id="aborted-cancel-asked"),
        pytest.param(P, False, Status.ABORTED, "cancelled", None, (P, X, "cancelled"), id="aborted-by-operator"),
        pytest.param(P, False, Status.ABORTED, WorkerLost.code, None, (P, Q, None), id="aborted-by-sweep"),
        pytest.param(P, False, Status.COMPLETE, None, None, (P, P, None), id="complete-task-wrote-it"),
        pytest.param(P, False, Status.FAILED, None, DocparseError(), (P, P, None), id="task-error-task-wrote-it"),
        pytest.param(C, False, Status.QUEUED, None, None, (C, C, None), id="finished-not-requeued"),
        pytest.param(C, False, Status.FAILED, None, RuntimeError(), (C, C, None), id="finished-not-failed"),
        pytest.param(X, False, Status.ABORTED, WorkerLost.code, None, (X, X, None), id="finished-not-swept"),
    ],
)
async def test_record_outcome(
    queue: RedisQueue,
    records: RecordStore,
    settings: Settings,
    tmp_path: Path,
    own: JobState,
    cancel_requested: bool,
    saq_status: Status,
    stored_error: str | None,
    exception: BaseException | None,
    expected: tuple[JobState, JobState, str | None],
) -> None:
    job_id = await _record(records, own, cancel_requested="1" if cancel_requested else "")
    job = Job(function=PARSE_FUNCTION, kwargs={"job_id": job_id}, key=job_id, queue=queue, retries=1)
    await queue.update(job, status=saq_status, error=stored_error)  # SAQ's stored copy, as the hook reads it
    deps = WorkerDeps(settings, records, open_storage(settings), ChildPool(size=1, max_jobs=1))
    await record_outcome({"job": job, "docparse": deps, "exception": exception})
    record = await records.get(job_id)
    # A completed run writes no settled_at: SAQ's job, complete, says SAQ is done with it.
    assert record is not None and (record.settled_at is None) == (saq_status == Status.COMPLETE)
    before, after, code = expected
    assert (record.status, record.error_code if after != before else None) == (after, code)


@pytest.mark.parametrize("ctx_extra", [{"duplicate_run": True}, {"other_function": True}], ids=["duplicate", "other"])
async def test_record_outcome_ignores_what_is_not_a_parse_run(
    queue: RedisQueue, records: RecordStore, settings: Settings, tmp_path: Path, ctx_extra: dict[str, Any]
) -> None:
    job_id = await _record(records, P)
    function = "chore" if ctx_extra.get("other_function") else PARSE_FUNCTION
    job = Job(function=function, key=job_id, queue=queue, status=Status.QUEUED)
    deps = WorkerDeps(settings, records, open_storage(settings), ChildPool(size=1, max_jobs=1))
    await record_outcome({"job": job, "docparse": deps, **ctx_extra})
    record = await records.get(job_id)
    assert record is not None and record.status == P and record.settled_at is None
