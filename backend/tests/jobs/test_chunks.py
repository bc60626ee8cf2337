"""Chunked parsing with real Redis, real worker processes and both storage backends (a folder, SeaweedFS's S3):
a long document is split into units that several workers parse at once, and the job still behaves as one —
progress, cancel, retry, delete, a killed worker, a duplicate run, and other users' jobs getting their turn."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis as sync_redis
from litestar.testing import AsyncTestClient
from saq import Job, Status

from docparse.app import create_app
from docparse.jobs.chunks import page_spec, parse_spec, split_pages
from docparse.jobs.queue import CHUNK_FUNCTION, create_queue
from docparse.settings import Settings
from docparse.storage import open_storage
from tests.conftest import WorkerProcess, make_settings, purge_queue, redis_keys_mentioning, stored_page_numbers
from tests.documents import make_pdf, page_words

TERMINAL = {"completed", "failed", "cancelled"}
PAGES = 40
SLOW_PAGE = 0.1  # seconds per page in the test workers: 4 s of work, about eight units of 0.5 s


@pytest.fixture
def chunk_settings(storage_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Small units (0.5 s of work) so a 40-page document splits into several; settings made after storage_url
    set the backend's environment."""
    s = make_settings(tmp_path, chunk_seconds=0.5, chunk_probe=0.2, heartbeat=4, sweep_interval=1)
    assert s.storage_url == storage_url
    yield s
    purge_queue(s)


@pytest.fixture
async def api(chunk_settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(chunk_settings)) as c:
        yield c


def start_workers(settings: Settings, count: int) -> list[WorkerProcess]:
    workers = [WorkerProcess(settings, slow_page=SLOW_PAGE) for _ in range(count)]
    for w in workers:
        w.wait_ready()
    return workers


async def upload(api: AsyncTestClient, path: Path) -> str:
    response = await api.post("/upload", files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 202, response.text
    return str(response.json()["job_id"])


async def watch(
    api: AsyncTestClient, job_id: str, until: Callable[[dict[str, Any]], bool], timeout: float = 90
) -> list[dict[str, Any]]:
    """Statuses read every 20 ms until `until` holds; all of them, for checks on the way."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        status = (await api.get(f"/jobs/{job_id}")).json()
        seen.append(status)
        if until(status):
            return seen
        assert time.monotonic() < deadline, f"gave up waiting; last status {status}"
        await asyncio.sleep(0.02)


async def result_pages(api: AsyncTestClient, job_id: str) -> list[dict[str, Any]]:
    response = await api.get(f"/jobs/{job_id}/result", params={"pages": "1-"})
    assert response.status_code == 200, response.text
    pages: list[dict[str, Any]] = response.json()["result"]["pages"]
    return pages


def unit_logs(workers: list[WorkerProcess], job_id: str, after: dict[Path, int] | None = None) -> list[dict[str, Any]]:
    """The end-of-run lines ("unit finished" / "parse finished") of `job_id` in the workers' logs, past the
    offsets `after` gives (from log_sizes)."""
    lines = []
    for w in workers:
        text = w.log_path.read_text()[(after or {}).get(w.log_path, 0) :]
        for line in text.splitlines():
            if job_id in line and ('"unit finished"' in line or '"parse finished"' in line):
                lines.append(json.loads(line))
    return lines


def log_sizes(workers: list[WorkerProcess]) -> dict[Path, int]:
    return {w.log_path: len(w.log_path.read_text()) for w in workers}


def stop(workers: list[WorkerProcess]) -> None:
    for w in workers:
        w.stop()


async def test_a_long_document_is_parsed_in_chunks_by_several_workers(
    api: AsyncTestClient, chunk_settings: Settings, tmp_path: Path
) -> None:
    """Two workers share one document; progress only rises, the status counts the chunks, every page is stored
    once and the result reads in page order."""
    workers = start_workers(chunk_settings, 2)
    try:
        job_id = await upload(api, make_pdf(tmp_path / "long.pdf", pages=PAGES))
        seen = await watch(api, job_id, lambda s: s["status"] in TERMINAL)
        final = seen[-1]
        assert final["status"] == "completed" and final["pages_done"] == PAGES and final["failed_pages"] == [], final
        done = [s["pages_done"] for s in seen]
        assert done == sorted(done), f"progress went back: {done}"
        chunked = [s["chunks"] for s in seen if s["chunks"]]
        assert chunked and chunked[-1]["total"] > 2 and chunked[-1]["done"] == chunked[-1]["total"], chunked
        assert max(c["running"] for c in chunked) == 2, "the two workers never worked on the document at once"
        pages = await result_pages(api, job_id)
        assert [p["number"] for p in pages] == list(range(1, PAGES + 1))
        assert all(page_words(p["number"]) in p["text"] for p in pages)
        runs = unit_logs(workers, job_id)
        assert sum(r["pages_done"] for r in runs) == PAGES  # every page stored once...
        assert {w for w in workers if job_id in w.log_path.read_text()} == set(workers)  # ...by both workers
        text = await api.get(f"/jobs/{job_id}/result", params={"format": "text"})
        assert text.text.split("\n\f\n")[PAGES - 1].startswith(page_words(PAGES))
    finally:
        stop(workers)


async def test_cancel_stops_every_chunk_and_retry_parses_only_the_rest(
    api: AsyncTestClient, chunk_settings: Settings, tmp_path: Path
) -> None:
    workers = start_workers(chunk_settings, 2)
    try:
        job_id = await upload(api, make_pdf(tmp_path / "long.pdf", pages=PAGES))
        await watch(api, job_id, lambda s: s["pages_done"] >= 10 and (s["chunks"] or {}).get("running", 0) >= 1)
        assert (await api.post(f"/jobs/{job_id}/cancel")).status_code == 202
        final = (await watch(api, job_id, lambda s: s["status"] in TERMINAL, timeout=30))[-1]
        assert final["status"] == "cancelled" and final["error"]["code"] == "cancelled", final
        assert final["chunks"]["running"] == 0
        kept = stored_page_numbers(chunk_settings, job_id)
        assert 10 <= len(kept) < PAGES
        await asyncio.sleep(1.0)  # had a chunk gone on, more pages would appear now
        assert stored_page_numbers(chunk_settings, job_id) == kept

        before = log_sizes(workers)
        retried = await api.post(f"/jobs/{job_id}/retry")
        assert retried.status_code == 202, retried.text
        final = (await watch(api, job_id, lambda s: s["status"] in TERMINAL))[-1]
        assert final["status"] == "completed" and final["pages_done"] == PAGES, final
        # Only what was not stored was parsed again.
        again = unit_logs(workers, job_id, after=before)
        assert sum(r["pages_parsed"] for r in again) == PAGES - len(kept), [
            (r["unit"], r["attempt"], r["pages_done"], r["pages_parsed"], r["event"]) for r in again
        ]
        assert [p["number"] for p in await result_pages(api, job_id)] == list(range(1, PAGES + 1))
    finally:
        stop(workers)


async def test_delete_of_a_chunked_job_removes_everything(
    api: AsyncTestClient, chunk_settings: Settings, tmp_path: Path
) -> None:
    workers = start_workers(chunk_settings, 2)
    try:
        job_id = await upload(api, make_pdf(tmp_path / "long.pdf", pages=PAGES))
        await watch(api, job_id, lambda s: (s["chunks"] or {}).get("running", 0) >= 1 and s["pages_done"] >= 5)
        assert (await api.delete(f"/jobs/{job_id}")).status_code == 204
        await asyncio.sleep(1.5)  # a chunk that kept writing would show up now
        assert (await api.get(f"/jobs/{job_id}")).status_code == 404
        assert redis_keys_mentioning(chunk_settings, job_id) == []
        storage = open_storage(chunk_settings)
        assert [j async for j, _ in storage.jobs() if j == job_id] == []
        await storage.close()
    finally:
        stop(workers)


async def test_a_chunk_whose_worker_was_killed_is_parsed_elsewhere(
    api: AsyncTestClient, chunk_settings: Settings, tmp_path: Path
) -> None:
    """kill -9 of a worker in the middle of a chunk: after the heartbeat SAQ hands the chunk to another worker,
    which resumes it from its first page not stored; the job completes with every page once."""
    workers = start_workers(chunk_settings, 2)
    try:
        job_id = await upload(api, make_pdf(tmp_path / "long.pdf", pages=PAGES))
        await watch(api, job_id, lambda s: (s["chunks"] or {}).get("running", 0) == 2 and s["pages_done"] >= 8)
        victim = workers[0]
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        final = (await watch(api, job_id, lambda s: s["status"] in TERMINAL, timeout=120))[-1]
        assert final["status"] == "completed" and final["pages_done"] == PAGES and final["failed_pages"] == [], final
        assert stored_page_numbers(chunk_settings, job_id) == list(range(1, PAGES + 1))
        pages = await result_pages(api, job_id)
        assert [p["number"] for p in pages] == list(range(1, PAGES + 1))
    finally:
        stop(workers)


async def test_a_duplicate_run_of_a_chunk_changes_nothing(
    api: AsyncTestClient, chunk_settings: Settings, tmp_path: Path
) -> None:
    """SAQ can run a job twice (saq #277). A second run of a chunk that already ended stores nothing and ends
    nothing; the finished job stays as it was."""
    workers = start_workers(chunk_settings, 1)
    queue = create_queue(chunk_settings)
    await queue.connect()
    try:
        job_id = await upload(api, make_pdf(tmp_path / "long.pdf", pages=PAGES))
        done = (await watch(api, job_id, lambda s: s["status"] in TERMINAL))[-1]
        assert done["status"] == "completed" and done["chunks"], done
        client = sync_redis.Redis.from_url(chunk_settings.redis_url)
        index_key = f"docparse:{chunk_settings.queue_name}:pages:{job_id}"
        index = client.hgetall(index_key)
        attempt = done["attempts"]
        again = Job(
            function=CHUNK_FUNCTION, kwargs={"job_id": job_id, "unit": 1, "attempt": attempt}, key=f"again-{job_id}"
        )
        await queue.enqueue(again)
        deadline = time.monotonic() + 60
        while (job := await queue.job(again.key)) is None or job.status not in (Status.COMPLETE, Status.FAILED):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert job.result == {"skipped": "the job had already finished"}
        assert client.hgetall(index_key) == index
        assert (await api.get(f"/jobs/{job_id}")).json() == done
        client.close()
    finally:
        await queue.disconnect()
        stop(workers)


async def test_other_jobs_get_their_turn_while_a_long_one_runs(
    api: AsyncTestClient, chunk_settings: Settings, tmp_path: Path
) -> None:
    """One worker, a long document already running: a one-page upload does not wait for the whole document,
    only for the chunk under way (at most DOCPARSE_CHUNK_WINDOW chunks of one job wait in the queue)."""
    workers = start_workers(chunk_settings, 1)
    try:
        long_id = await upload(api, make_pdf(tmp_path / "long.pdf", pages=PAGES))
        await watch(api, long_id, lambda s: (s["chunks"] or {}).get("running", 0) >= 1)
        short_id = await upload(api, make_pdf(tmp_path / "short.pdf", pages=1))
        short = (await watch(api, short_id, lambda s: s["status"] in TERMINAL))[-1]
        assert short["status"] == "completed"
        long_now = (await api.get(f"/jobs/{long_id}")).json()
        assert long_now["status"] == "processing" and long_now["pages_done"] < PAGES - 5, long_now
        final = (await watch(api, long_id, lambda s: s["status"] in TERMINAL))[-1]
        assert final["status"] == "completed" and final["pages_done"] == PAGES
    finally:
        stop(workers)


def test_units_are_cut_by_expected_work() -> None:
    assert split_pages(list(range(1, 11)), 0.001, 0.5) == [list(range(1, 11))]
    parts = split_pages(list(range(1, 41)), 0.1, 0.5)  # 4 s of work in units of 0.5 s, the last one shorter
    assert [len(p) for p in parts] == [5, 4, 5, 5, 5, 4, 5, 5, 2]
    assert [n for p in parts for n in p] == list(range(1, 41))
    assert [len(p) for p in split_pages(list(range(1, 4)), 1.0, 1.0)] == [1, 1, 1]
    assert page_spec([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10"
    assert parse_spec("1-3,7,9-10") == [1, 2, 3, 7, 9, 10]
    assert msgspec.json.decode(msgspec.json.encode(parts)) == parts
