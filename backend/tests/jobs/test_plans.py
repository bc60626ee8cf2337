"""The chunk plan's scripts against a real Redis: every unit ends once, the last end is seen by exactly one caller,
the queue window holds, duplicates and other attempts are refused; and the rescue queues a unit whose enqueue was
lost."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from saq.queue.redis import RedisQueue

from docparse.jobs import state
from docparse.jobs.chores import Chores
from docparse.jobs.chunks import Plans, chunk_key
from docparse.jobs.queue import CHUNK_FUNCTION, create_queue
from docparse.jobs.records import JobRecord, RecordStore
from docparse.settings import Settings
from docparse.storage import open_storage


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[RedisQueue]:
    q = create_queue(settings)
    await q.connect()
    yield q
    await q.disconnect()


@pytest.fixture
async def plans(queue: RedisQueue, settings: Settings) -> Plans:
    return Plans(RecordStore(queue.redis, settings.queue_name), window=2)


JOB = "00000000-0000-4000-8000-0000000000aa"


async def test_a_split_queues_at_most_the_window_and_the_last_end_is_seen_once(plans: Plans) -> None:
    step = await plans.split(JOB, 0, 1, [[10, 11], [12, 13], [14], [15]])
    assert (step.open, step.enqueue) == (4, [1, 2])  # unit 0 ended; two of four new units queued (the window)
    assert await plans.pages(JOB, 3) == [14]
    assert (await plans.progress(JOB)).__dict__ == {"total": 5, "running": 0, "done": 1}

    assert (await plans.start(JOB, 1, 1)).enqueue == [3]  # one started: the next takes its place in the queue
    assert (await plans.start(JOB, 1, 1)).enqueue == []  # a second run of unit 1 does not count again
    assert (await plans.start(JOB, 2, 1)).enqueue == [4]
    assert (await plans.progress(JOB)).__dict__ == {"total": 5, "running": 2, "done": 1}

    assert (await plans.end(JOB, 1, 1)).open == 3
    assert (await plans.end(JOB, 1, 1)).refused  # ended already: a duplicate run changes nothing
    assert (await plans.start(JOB, 1, 1)).refused
    assert (await plans.start(JOB, 3, 2)).refused  # another attempt's unit
    await plans.start(JOB, 3, 1)
    await plans.start(JOB, 4, 1)
    ends = await asyncio.gather(*(plans.end(JOB, unit, 1) for unit in (2, 3, 4)))
    assert sorted(e.open for e in ends) == [0, 1, 2]  # exactly one caller sees the last end
    assert (await plans.progress(JOB)).__dict__ == {"total": 5, "running": 0, "done": 5}


async def test_a_unit_overrunning_its_estimate_splits_its_rest(plans: Plans) -> None:
    await plans.split(JOB, 0, 3, [[1, 2, 3, 4]])
    await plans.start(JOB, 1, 3)
    step = await plans.split(JOB, 1, 3, [[3], [4]])  # unit 1 got through pages 1-2 only
    assert (step.open, step.enqueue) == (2, [2, 3])
    assert await plans.pages(JOB, 2) == [3] and await plans.pages(JOB, 3) == [4]


async def test_stop_ends_the_units_never_queued_and_names_the_rest(plans: Plans) -> None:
    await plans.split(JOB, 0, 1, [[1], [2], [3], [4]])  # units 1, 2 queued; 3, 4 not yet
    await plans.start(JOB, 1, 1)  # unit 3 queued in its place; 4 never is
    stopped = await plans.stop(JOB)
    assert stopped is not None
    assert (stopped.open, stopped.attempt, stopped.running, stopped.waiting) == (3, 1, [1], [2, 3])
    assert (await plans.end(JOB, 2, 1)).open == 2
    assert (await plans.end(JOB, 3, 1)).open == 1
    assert (await plans.end(JOB, 1, 1)).open == 0
    assert await plans.stop(str(uuid.uuid4())) is None  # a job that never split


async def test_a_job_that_never_split_ends_with_its_only_unit(plans: Plans) -> None:
    step = await plans.end(JOB, 0, None)
    assert (step.open, step.enqueue) == (0, [])


async def test_the_rescue_queues_a_unit_whose_enqueue_was_lost(queue: RedisQueue, settings: Settings) -> None:
    """A worker split a job and died before queueing the units the plan says are queued: the rescue finds the
    units without SAQ jobs and queues them."""
    records = RecordStore(queue.redis, settings.queue_name)
    job_id = str(uuid.uuid4())
    record = JobRecord(job_id=job_id, filename="a.pdf", file_type="pdf", size=1, sha256="0", created_at=time.time())
    await records.create(record, password=None)
    attempt = await state.start(records, job_id)
    plans = Plans(records, window=1)
    step = await plans.split(job_id, 0, attempt, [[1, 2], [3, 4]])
    assert step.enqueue == [1]  # ...and then the worker died: nothing was queued
    chores = Chores(queue, settings, open_storage(settings))
    assert await chores.rescue_orphans() == 1
    job = await queue.job(chunk_key(job_id, attempt, 1))
    assert job is not None and job.function == CHUNK_FUNCTION and job.kwargs == {
        "job_id": job_id, "unit": 1, "attempt": attempt,
    }  # fmt: skip
    assert await chores.rescue_orphans() == 0  # queued now: nothing more to do
