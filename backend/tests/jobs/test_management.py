"""Job management through the API with real Redis and real worker processes: cancel, retry, delete, history,
live events, partial results, queue position and retention."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient
from saq import Status

from docparse.app import create_app
from docparse.errors import Encrypted
from docparse.jobs import state
from docparse.jobs.chores import Chores
from docparse.jobs.queue import create_queue
from docparse.jobs.records import RecordStore
from docparse.jobs.service import JobService
from docparse.settings import Settings
from docparse.storage import open_storage
from tests.conftest import (
    WorkerProcess,
    make_settings,
    purge_queue,
    redis_keys_mentioning,
    stored_page_numbers,
    wait_for_status,
)
from tests.documents import make_pdf, page_words

TERMINAL = {"completed", "failed", "cancelled"}


async def upload(client: AsyncTestClient, path: Path, **data: str) -> str:
    response = await client.post("/upload", files={"file": (path.name, path.read_bytes())}, data=data)
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


async def wait_for(client: AsyncTestClient, job_id: str, predicate, timeout: float = 30) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        body = (await client.get(f"/jobs/{job_id}")).json()
        if predicate(body):
            return body
        assert time.monotonic() < deadline, f"gave up waiting; last status {body}"
        await asyncio.sleep(0.02)


async def test_queue_position_and_cancel_while_queued(
    client: AsyncTestClient, settings: Settings, tmp_path: Path
) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", pages=2)
    ids = [await upload(client, pdf) for _ in range(3)]  # no worker yet: they wait
    positions = [(await client.get(f"/jobs/{i}")).json()["queue_position"] for i in ids]
    assert positions == [0, 1, 2]
    assert (await client.get(f"/jobs/{ids[2]}")).json()["message"] == "Queued; 2 jobs ahead"

    cancelled = await client.post(f"/jobs/{ids[1]}/cancel")
    assert cancelled.status_code == 202
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["error"]["code"] == "cancelled"
    assert (await client.get(f"/jobs/{ids[2]}")).json()["queue_position"] == 1

    worker = WorkerProcess(settings)
    try:
        worker.wait_ready()
        for job_id in (ids[0], ids[2]):
            assert (await wait_for_status(client, job_id, TERMINAL))["status"] == "completed"
        after = (await client.get(f"/jobs/{ids[1]}")).json()
        assert after["status"] == "cancelled" and after["attempts"] == 0 and after["pages_done"] == 0
        assert not stored_page_numbers(settings, ids[1])
    finally:
        worker.stop()

    again = await client.post(f"/jobs/{ids[0]}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "conflict" and "completed" in again.json()["detail"]


async def test_cancel_while_processing_stops_within_a_page(
    client: AsyncTestClient, slow_worker: WorkerProcess, settings: Settings, tmp_path: Path
) -> None:
    job_id = await upload(client, make_pdf(tmp_path / "long.pdf", pages=40))  # 0.2 s a page: 8 s in all
    running = await wait_for(client, job_id, lambda s: s["pages_done"] >= 3)
    assert running["status"] == "processing"
    done_at_cancel = (await client.post(f"/jobs/{job_id}/cancel")).json()["pages_done"]
    final = await wait_for(client, job_id, lambda s: s["status"] in TERMINAL)
    assert final["status"] == "cancelled", final
    assert final["error"]["code"] == "cancelled"
    # At most the page under way when the cancel came finished; the rest were never parsed. (Measured in pages,
    # not in seconds, which depend on how busy the machine is.)
    assert done_at_cancel <= final["pages_done"] <= done_at_cancel + 1
    await asyncio.sleep(1.0)  # had the parse gone on, more pages would appear now
    stored = stored_page_numbers(settings, job_id)
    assert stored == list(range(1, final["pages_done"] + 1))
    assert (await client.get(f"/jobs/{job_id}")).json()["pages_done"] == final["pages_done"]
    assert final["message"].startswith("Cancelled after")


async def test_an_abort_from_the_saq_monitor_ends_the_job_cancelled(
    client: AsyncTestClient, slow_worker: WorkerProcess, settings: Settings, tmp_path: Path
) -> None:
    """The monitor's abort button is SAQ's abort, with no cancel through our API: the job still ends cancelled,
    with the pages parsed before it."""
    job_id = await upload(client, make_pdf(tmp_path / "long.pdf", pages=40))  # 0.2 s a page: 8 s in all
    await wait_for(client, job_id, lambda s: s["pages_done"] >= 3)
    queue = create_queue(settings)
    try:
        job = await queue.job(job_id)
        assert job is not None
        await queue.abort(job, "aborted from the monitor")
    finally:
        await queue.disconnect()
    final = await wait_for(client, job_id, lambda s: s["status"] in TERMINAL)
    assert final["status"] == "cancelled" and final["error"]["code"] == "cancelled", final
    assert 3 <= final["pages_done"] < 40
    assert stored_page_numbers(settings, job_id) == list(range(1, final["pages_done"] + 1))


async def test_retry_after_failure_and_after_cancel(
    client: AsyncTestClient, worker: WorkerProcess, tmp_path: Path
) -> None:
    locked = make_pdf(tmp_path / "locked.pdf", pages=2, password="pw")
    job_id = await upload(client, locked)
    failed = await wait_for_status(client, job_id, TERMINAL)
    assert failed["error"]["code"] == "encrypted" and failed["attempts"] == 1
    assert (await client.post(f"/jobs/{job_id}/retry")).json()["status"] in {"queued", "processing", "failed"}
    again = await wait_for(client, job_id, lambda s: s["status"] in TERMINAL and s["attempts"] == 2)
    assert again["error"]["code"] == "encrypted", "a retry without a password fails the same way"

    retried = await client.post(f"/jobs/{job_id}/retry", json={"password": "pw"})
    assert retried.status_code == 202 and retried.json()["job_id"] == job_id
    ok = await wait_for(client, job_id, lambda s: s["status"] in TERMINAL and s["attempts"] == 3)
    assert ok["status"] == "completed" and ok["error"] is None and ok["pages_done"] == 2
    assert page_words(2) in (await client.get(f"/jobs/{job_id}/pages/2")).json()["text"]

    conflict = await client.post(f"/jobs/{job_id}/retry")
    assert conflict.status_code == 409 and "completed" in conflict.json()["detail"]


async def test_retry_after_cancel(client: AsyncTestClient, settings: Settings, tmp_path: Path) -> None:
    job_id = await upload(client, make_pdf(tmp_path / "a.pdf", pages=3))
    assert (await client.post(f"/jobs/{job_id}/cancel")).json()["status"] == "cancelled"
    assert (await client.post(f"/jobs/{job_id}/retry")).json()["status"] == "queued"
    worker = WorkerProcess(settings)
    try:
        worker.wait_ready()
        done = await wait_for_status(client, job_id, TERMINAL)
        assert done["status"] == "completed" and done["pages_done"] == 3 and done["attempts"] == 1
    finally:
        worker.stop()


async def test_a_retry_asked_before_saq_settles_the_attempt_still_runs(
    client: AsyncTestClient, settings: Settings, tmp_path: Path
) -> None:
    """The task writes its ending before SAQ lets go of the attempt, and SAQ refuses to queue a job it still
    holds: a retry asked for in between must wait for SAQ rather than be dropped (which left the job "failed"
    with an internal error for good)."""
    job_id = await upload(client, make_pdf(tmp_path / "a.pdf", pages=2))
    queue = create_queue(settings)
    records = RecordStore(queue.redis, settings.queue_name)
    job = await queue.job(job_id)
    assert job is not None
    await queue.redis.lrem(queue.namespace("queued"), 0, job.id)  # a worker took it ...
    assert await state.start(records, job_id) == 1
    assert await state.fail(records, job_id, 3600, Encrypted())  # ... and the task wrote its ending

    async def settle() -> None:  # SAQ settles the attempt a moment later, then the after-process hook runs
        await asyncio.sleep(1)
        await queue.finish(job, Status.FAILED, error="encrypted")
        await records.update(job_id, settled_at=time.time())

    service = JobService(queue, settings, open_storage(settings))  # in this event loop, unlike the client's
    retried, _ = await asyncio.gather(service.retry(job_id), settle())
    assert retried.status == "queued" and await queue.count("queued") == 1
    worker = WorkerProcess(settings)
    try:
        worker.wait_ready()
        done = await wait_for_status(client, job_id, TERMINAL)
        assert done["status"] == "completed" and done["attempts"] == 2, done
    finally:
        worker.stop()
        await queue.disconnect()


async def test_delete_leaves_nothing_behind(
    client: AsyncTestClient, slow_worker: WorkerProcess, settings: Settings, tmp_path: Path
) -> None:
    finished = await upload(client, make_pdf(tmp_path / "a.pdf", pages=1))
    await wait_for_status(client, finished, TERMINAL)
    running = await upload(client, make_pdf(tmp_path / "b.pdf", pages=40))
    await wait_for(client, running, lambda s: s["pages_done"] >= 2)

    for job_id in (finished, running):
        assert (await client.delete(f"/jobs/{job_id}")).status_code == 204
    await asyncio.sleep(1.5)  # a worker that kept writing would show up now
    redis = aioredis.Redis.from_url(settings.redis_url)
    for job_id in (finished, running):
        assert (await client.get(f"/jobs/{job_id}")).status_code == 404
        assert (await client.delete(f"/jobs/{job_id}")).status_code == 404
        assert redis_keys_mentioning(settings, job_id) == []
        for structure in ("queued", "active"):
            members = await redis.lrange(f"saq:{settings.queue_name}:{structure}", 0, -1)
            assert not [m for m in members if job_id.encode() in m]
        assert not [
            m for m in await redis.zrange(f"saq:{settings.queue_name}:incomplete", 0, -1) if job_id.encode() in m
        ]
        assert not (settings.storage_dir / "jobs" / job_id).exists()
    await redis.aclose()
    listed = (await client.get("/jobs")).json()["jobs"]
    assert not {j["job_id"] for j in listed} & {finished, running}


async def test_history_pages_newest_first_and_filters(
    client: AsyncTestClient, worker: WorkerProcess, tmp_path: Path
) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", pages=1)
    locked = make_pdf(tmp_path / "locked.pdf", pages=1, password="x")
    ids = []
    for i in range(7):
        ids.append(await upload(client, locked if i in (2, 5) else pdf))
    for job_id in ids:
        await wait_for_status(client, job_id, TERMINAL)

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/jobs", params=params)).json()
        seen += [j["job_id"] for j in body["jobs"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids)) and pages == 3
    failed = (await client.get("/jobs", params={"status": "failed"})).json()
    assert [j["job_id"] for j in failed["jobs"]] == [ids[5], ids[2]] and failed["next_cursor"] is None
    assert all(j["expires_at"] for j in failed["jobs"])
    bad = await client.get("/jobs", params={"status": "exploded"})
    assert bad.status_code == 400


async def test_partial_pages_are_readable_mid_job(
    client: AsyncTestClient, slow_worker: WorkerProcess, tmp_path: Path
) -> None:
    job_id = await upload(client, make_pdf(tmp_path / "long.pdf", pages=30))
    await wait_for(client, job_id, lambda s: s["pages_done"] >= 3)
    page = await client.get(f"/jobs/{job_id}/pages/2")
    assert page.status_code == 200 and page_words(2) in page.json()["text"]
    assert (await client.get(f"/jobs/{job_id}/pages/30")).status_code == 404
    partial = await client.get(f"/jobs/{job_id}/result", params={"pages": "1-3"})
    assert partial.status_code == 200
    assert [p["number"] for p in partial.json()["result"]["pages"]] == [1, 2, 3]
    assert (await client.get(f"/jobs/{job_id}/result")).status_code == 409
    document = (await client.get(f"/jobs/{job_id}/document")).json()
    assert document["page_count"] == 30
    await client.post(f"/jobs/{job_id}/cancel")


async def test_retention_removes_expired_jobs(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, result_ttl=1)
    worker = WorkerProcess(settings)
    try:
        worker.wait_ready()
        async with AsyncTestClient(app=create_app(settings)) as client:
            job_id = await upload(client, make_pdf(tmp_path / "a.pdf", pages=2))
            await wait_for_status(client, job_id, TERMINAL)
            await asyncio.sleep(2.2)  # the record's TTL runs out
            service = Chores(create_queue(settings), settings, open_storage(settings))
            assert await service.purge_expired() == 1
            await service.queue.disconnect()
            assert (await client.get(f"/jobs/{job_id}")).status_code == 404
            assert (await client.get("/jobs")).json()["jobs"] == []
        assert redis_keys_mentioning(settings, job_id) == []
        assert not (settings.storage_dir / "jobs" / job_id).exists()
    finally:
        worker.stop()
        purge_queue(settings)


async def test_workers_run_the_clean_up_themselves(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, result_ttl=1, cleanup_interval=0.5)
    worker = WorkerProcess(settings)
    try:
        worker.wait_ready()
        async with AsyncTestClient(app=create_app(settings)) as client:
            job_id = await upload(client, make_pdf(tmp_path / "a.pdf", pages=1))
            await wait_for_status(client, job_id, TERMINAL)
            deadline = time.monotonic() + 60
            while (settings.storage_dir / "jobs" / job_id).exists():
                assert time.monotonic() < deadline, "retention never removed the job's files"
                await asyncio.sleep(0.2)
            assert redis_keys_mentioning(settings, job_id) == []
    finally:
        worker.stop()
        purge_queue(settings)


async def test_page_pictures_are_rendered_once_and_cached(
    client: AsyncTestClient, worker: WorkerProcess, settings: Settings, tmp_path: Path
) -> None:
    locked = make_pdf(tmp_path / "locked.pdf", pages=2, password="pw")
    job_id = await upload(client, locked, password="pw")
    await wait_for_status(client, job_id, TERMINAL)
    response = await client.get(f"/jobs/{job_id}/pages/2/image", params={"width": 640})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    width = int.from_bytes(response.content[16:20], "big")
    assert width == 700  # rounded up to a multiple of 100
    cached = settings.storage_dir / "jobs" / job_id / "images" / "2-700.png"
    assert cached.exists()
    again = await client.get(f"/jobs/{job_id}/pages/2/image", params={"width": 700})
    assert again.content == response.content
    assert (await client.get(f"/jobs/{job_id}/pages/3/image")).status_code == 404


async def test_config_tells_the_limits(client: AsyncTestClient, settings: Settings) -> None:
    config = (await client.get("/config")).json()
    assert config["max_upload_bytes"] == settings.max_upload_bytes and "pdf" in config["supported_types"]


async def test_a_made_up_cursor_is_a_clear_400(client: AsyncTestClient) -> None:
    for cursor in ("¬\x1f¾e", "nan:x", "inf:x", "1e5:x", ":"):
        response = await client.get("/jobs", params={"cursor": cursor})
        assert response.status_code == 400 and response.json()["code"] == "invalid_request", (cursor, response.text)


async def test_a_job_saq_lost_track_of_is_rescued(client: AsyncTestClient, settings: Settings, tmp_path: Path) -> None:
    """The state saq #277 can leave behind: 'active', on no list, its worker dead. SAQ's sweep never sees it."""
    job_id = await upload(client, make_pdf(tmp_path / "a.pdf", pages=2))
    queue = create_queue(settings)
    job = await queue.job(job_id)
    assert job is not None
    await queue.redis.lrem(queue.namespace("queued"), 0, job.id)  # as if a worker took it, then the sweep's abort
    await queue.redis.zrem(queue.namespace("incomplete"), job.id)
    job.status, job.started, job.attempts = Status.ACTIVE, job.queued, 1
    job.touched = job.queued - 60_000  # and its worker died a minute ago
    await queue.redis.set(job.id, queue.serialize(job))
    service = Chores(queue, settings, open_storage(settings))
    assert (await client.get(f"/jobs/{job_id}")).json()["status"] == "processing"
    assert await service.rescue_orphans() == 1
    assert await service.rescue_orphans() == 0
    worker = WorkerProcess(settings)
    try:
        worker.wait_ready()
        done = await wait_for_status(client, job_id, TERMINAL)
        assert done["status"] == "completed" and done["pages_done"] == 2
    finally:
        worker.stop()
        await queue.disconnect()
