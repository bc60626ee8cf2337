"""A finished job never becomes live again: a second run of it (SAQ can run a job twice; a worker that paused
with a job dequeued resumed it after another worker had finished it) is skipped without touching the record,
and no late write — progress, SAQ's re-queue — brings a finished record back. Only a retry reopens it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from saq import Job, Status
from saq.queue.redis import RedisQueue

from docparse.errors import DocparseError
from docparse.jobs import state
from docparse.jobs.queue import PARSE_FUNCTION, create_queue
from docparse.jobs.records import JobRecord, RecordStore
from docparse.jobs.runner import ChildPool
from docparse.jobs.tasks import WorkerDeps, parse_document, record_outcome
from docparse.settings import Settings
from docparse.storage import open_storage
from tests.conftest import WorkerProcess, wait_for_status
from tests.documents import make_pdf

TERMINAL = {"completed", "failed", "cancelled"}


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[RedisQueue]:
    q = create_queue(settings)
    await q.connect()
    yield q
    await q.disconnect()


async def test_a_completed_job_run_a_second_time_is_skipped(
    client: AsyncTestClient, worker: WorkerProcess, queue: RedisQueue, settings: Settings, tmp_path: Path
) -> None:
    """Through a real worker: the job completes, then the same task runs again for it (a second SAQ job under
    another key stands in for SAQ's own double run). The record stays completed, attempts stay 1, no page is
    parsed again."""
    pdf = make_pdf(tmp_path / "a.pdf", pages=3)
    response = await client.post("/upload", files={"file": ("a.pdf", pdf.read_bytes())})
    job_id = response.json()["job_id"]
    done = await wait_for_status(client, job_id, TERMINAL)
    assert done["status"] == "completed" and done["attempts"] == 1, done
    records = RecordStore(queue.redis, settings.queue_name)
    before = await records.get(job_id)
    index = await queue.redis.hgetall(records.job_keys(job_id).pages)
    segments = sorted((settings.storage_dir / "jobs" / job_id / "pages").iterdir())
    written = [p.stat().st_mtime_ns for p in segments]
    assert len(index) == 3 and segments

    again = Job(function=PARSE_FUNCTION, kwargs={"job_id": job_id}, key=f"again-{job_id}", timeout=60)
    await queue.enqueue(again)
    await _until_settled(queue, again.key)

    after = await records.get(job_id)
    assert after == before, "the finished record was written"
    assert (await client.get(f"/jobs/{job_id}")).json() == done
    assert await queue.redis.hgetall(records.job_keys(job_id).pages) == index
    assert sorted((settings.storage_dir / "jobs" / job_id / "pages").iterdir()) == segments
    assert [p.stat().st_mtime_ns for p in segments] == written
    assert "run skipped" in worker.log_path.read_text()


@pytest.mark.parametrize("status", sorted(TERMINAL))
async def test_the_task_leaves_a_finished_record_alone(
    queue: RedisQueue, settings: Settings, tmp_path: Path, status: str
) -> None:
    """The task called directly on a finished job returns at once: no parse, no write, whatever the ending."""
    deps, job_id = await _finished_job(queue, settings, tmp_path, status)
    before = await deps.records.redis.hgetall(deps.records.key(job_id))
    job = Job(function=PARSE_FUNCTION, kwargs={"job_id": job_id}, key=job_id, queue=queue)
    ctx: dict[str, Any] = {"job": job, "docparse": deps}
    summary = await parse_document(ctx, job_id=job_id)
    job.status = Status.COMPLETE
    await record_outcome(ctx)
    assert "skipped" in summary
    assert await deps.records.redis.hgetall(deps.records.key(job_id)) == before
    await deps.pool.close()


async def test_late_writes_do_not_bring_a_finished_record_back(
    queue: RedisQueue, settings: Settings, tmp_path: Path
) -> None:
    """Progress of a run that ended, and SAQ re-queueing or giving up a job another run finished, leave the
    finished record as it was (only settled_at, which says SAQ is done, moves)."""
    deps, job_id = await _finished_job(queue, settings, tmp_path, "completed")
    records = deps.records
    finished = await records.get(job_id)
    assert finished is not None

    job = Job(function=PARSE_FUNCTION, kwargs={"job_id": job_id}, key=job_id, queue=queue)
    assert not await state.progress(records, job_id, pages_done=7, pages_total=9)
    for saq_status, exc in ((Status.QUEUED, None), (Status.ABORTED, None), (Status.FAILED, RuntimeError("late"))):
        job.status = saq_status
        await record_outcome({"job": job, "docparse": deps, "exception": exc})
        record = await records.get(job_id)
        assert record is not None and record.settled_at is not None
        assert _state(record) == _state(finished), saq_status
    await deps.pool.close()


async def test_a_retry_reopens_what_nothing_else_may(queue: RedisQueue, settings: Settings, tmp_path: Path) -> None:
    deps, job_id = await _finished_job(queue, settings, tmp_path, "failed")
    records = deps.records
    assert await state.start(records, job_id) == -1
    assert not await state.requeue(records, job_id)
    assert await state.reopen(records, job_id)  # what POST /jobs/{id}/retry does
    assert await state.start(records, job_id) == 2  # attempts go on counting
    assert await state.complete(records, job_id, 60)
    assert not await state.fail(records, job_id, 60, DocparseError()), "a second ending replaced the first"
    record = await records.get(job_id)
    assert record is not None and record.status == "completed" and record.attempts == 2
    assert await state.start(records, str(uuid.uuid4())) == 0  # a deleted job
    await deps.pool.close()


def _state(record: JobRecord) -> dict[str, Any]:
    """Every field but settled_at."""
    return {name: getattr(record, name) for name in record.__struct_fields__ if name != "settled_at"}


async def _finished_job(queue: RedisQueue, settings: Settings, tmp_path: Path, status: str) -> tuple[WorkerDeps, str]:
    """A job whose one attempt ended with `status` after 2 of 3 pages, and what the task needs to run it."""
    records = RecordStore(queue.redis, settings.queue_name)
    job_id = str(uuid.uuid4())
    record = JobRecord(job_id=job_id, filename="a.pdf", file_type="pdf", size=1, sha256="0", created_at=time.time())
    await records.create(record, password=None)
    assert await state.start(records, job_id) == 1
    if status == "completed":
        assert await state.complete(records, job_id, 3600, pages_done=2, pages_total=3)
    else:
        ending = state.fail if status == "failed" else state.cancel
        assert await ending(records, job_id, 3600, DocparseError("it ended"), pages_done=2, pages_total=3)
    storage = open_storage(settings)
    pool = ChildPool(size=1, max_jobs=1)  # never started: a skipped run must not need a parse process
    return WorkerDeps(settings, records, storage, pool), job_id


async def _until_settled(queue: RedisQueue, key: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (job := await queue.job(key)) is None or job.status not in (Status.COMPLETE, Status.FAILED):
        assert time.monotonic() < deadline, f"the second run never ended: {job}"
        await asyncio.sleep(0.05)
