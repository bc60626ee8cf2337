"""The pieces that keep a small job cheap, each against a real Redis: the queue's one-step take, the worker's
cancel channel, the ending that counts its metrics, and SAQ's per-job log lines left out."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from saq import Job

from docparse.jobs import state
from docparse.jobs.cancels import CancelWatch, announce_cancel
from docparse.jobs.metrics import finished_counts, read_snapshot
from docparse.jobs.queue import Queue, create_queue
from docparse.jobs.records import JobRecord, RecordStore
from docparse.jobs.state import JobState
from docparse.logs import configure_logging
from docparse.settings import Settings
from tests.conftest import make_settings


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[Queue]:
    queue = create_queue(settings)
    await queue.connect()
    yield queue
    await queue.disconnect()


async def _reads(redis: Redis) -> int:
    return int((await redis.info("stats"))["total_reads_processed"])


async def test_a_worker_takes_waiting_jobs_in_order_in_one_round_trip_each(queue: Queue) -> None:
    jobs = [Job(function="f", key=f"k{i}") for i in range(4)]
    for job in jobs:
        await queue.enqueue(job)
    first = await queue.dequeue(timeout=1)  # an idle worker: the blocking move, then the job and the queue's length
    assert first is not None and first.key == "k0"
    before = await _reads(queue.redis)
    rest = [await queue.dequeue(timeout=1) for _ in range(3)]
    # (this connection's INFO is a read too)
    assert await _reads(queue.redis) - before == 3 + 1, "a waiting job should cost one round trip"
    assert [job.key for job in rest if job is not None] == ["k1", "k2", "k3"]
    assert await queue.redis.llen(queue.namespace("active")) == 4
    assert await queue.dequeue(timeout=0.2) is None  # empty again: waits, then gives up


async def test_a_job_deleted_while_queued_is_dequeued_as_nothing(queue: Queue) -> None:
    for key in ("a", "b"):
        await queue.enqueue(Job(function="f", key=key))
    assert (await queue.dequeue(timeout=1)) is not None  # now it knows more wait
    await queue.redis.delete(queue.job_id("b"))
    assert await queue.dequeue(timeout=1) is None


async def test_a_cancel_wakes_the_watchers_of_that_job_only(settings: Settings) -> None:
    watch = CancelWatch(settings.redis_url, settings.queue_name)
    await watch.start()
    redis = Redis.from_url(settings.redis_url)
    try:
        with watch.watching("job-a") as a, watch.watching("job-a") as a2, watch.watching("job-b") as b:
            # The subscription is made in the background, and wakes every watcher when it is (a message may have
            # been missed before): announce until it is heard (generous deadline).
            async with asyncio.timeout(30):
                while not (a.is_set() and b.is_set()):
                    await announce_cancel(redis, settings.queue_name, "job-a")
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # the last announcements are heard
            for event in (a, a2, b):
                event.clear()
            await announce_cancel(redis, settings.queue_name, "job-a")
            await asyncio.wait_for(asyncio.gather(a.wait(), a2.wait()), 10)
            assert not b.is_set()
        assert watch._watching == {}  # nothing left behind once the runs are done
    finally:
        await watch.close()
        await redis.aclose()


async def test_the_ending_counts_its_metrics_and_remembers_its_result_only_when_written(settings: Settings) -> None:
    redis = Redis.from_url(settings.redis_url)
    records = RecordStore(redis, settings.queue_name)
    record = JobRecord(job_id="j1", filename="a.pdf", file_type="pdf", size=1, sha256="s", created_at=time.time())
    await records.create(record, password=None)
    counts = finished_counts(status=JobState.COMPLETED, pages_parsed=3, pages_failed=1, seconds=0.2)
    try:
        assert await state.complete(records, "j1", 60, counts=counts, remember=("", "fp"), pages_done=3)
        # A second ending is refused, and counts nothing.
        assert not await state.complete(records, "j1", 60, counts=counts, remember=("", "fp"), pages_done=3)
        snap = await read_snapshot(redis, settings.queue_name)
        assert snap.jobs_finished == {"completed": 1} and (snap.pages_parsed, snap.pages_failed) == (3, 1)
        assert (snap.parse_seconds_count, round(snap.parse_seconds_sum, 3)) == (1, 0.2)
        buckets = dict(snap.parse_seconds_buckets)  # cumulative, as Prometheus wants
        assert (buckets[0.1], buckets[0.25], buckets[1], buckets[3600]) == (0, 1, 1, 1)
        # Counts an older version kept cumulatively still add up.
        await redis.hincrby(records.metrics_key, "parse_seconds_le:1", 5)
        buckets = dict((await read_snapshot(redis, settings.queue_name)).parse_seconds_buckets)
        assert (buckets[0.25], buckets[1], buckets[2.5]) == (1, 6, 1)
        assert await redis.hget(records.seen_key(""), "fp") == b"j1"
        assert 0 < await redis.ttl(records.seen_key("")) <= 60
    finally:
        await records.delete("j1")
        await redis.delete(records.metrics_key, records.seen_key(""))
        await redis.aclose()


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_saqs_per_job_lines_only_at_debug(tmp_path: Path, capfd: pytest.CaptureFixture[str], level: str) -> None:
    configure_logging(make_settings(tmp_path, log_level=level))
    saq = logging.getLogger("saq")
    for message in ("Enqueuing %s", "Processing %s", "Finished %s", "Sweeping job %s"):
        saq.info(message, "Job<...>")
    events = [json.loads(line)["event"] for line in capfd.readouterr().err.splitlines()]
    configure_logging(make_settings(tmp_path))
    per_job = ["Enqueuing Job<...>", "Processing Job<...>", "Finished Job<...>"]
    assert events == ([*per_job, "Sweeping job Job<...>"] if level == "DEBUG" else ["Sweeping job Job<...>"])
