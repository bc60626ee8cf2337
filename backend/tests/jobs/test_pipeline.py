"""Upload → SAQ on Redis → a real worker process → status and result, as a user sees it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient
from saq import Worker

from docparse.app import create_app
from docparse.jobs.worker import build_worker
from docparse.settings import Settings
from tests.conftest import WorkerProcess, make_settings, purge_queue, wait_for_status
from tests.documents import make_corrupt_pdf, make_epub, make_pdf, make_png, page_words
from tests.jobs.bombs import zip_bomb_cbz
from tests.jobs.test_runner import MISBEHAVING


async def upload(client: AsyncTestClient, path: Path, **data: str) -> str:
    response = await client.post("/upload", files={"file": (path.name, path.read_bytes())}, data=data)
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


async def test_seed_flow_upload_status_result(client: AsyncTestClient, worker: WorkerProcess, tmp_path: Path) -> None:
    job_id = await upload(client, make_pdf(tmp_path / "sample.pdf", pages=10))
    done = await wait_for_status(client, job_id, {"completed", "failed"})
    assert done["status"] == "completed", done
    assert done["progress"] == 100 and done["pages_done"] == done["pages_total"] == 10
    assert done["message"] == "Completed: 10/10 pages processed"
    assert done["attempts"] == 1 and done["error"] is None
    assert done["started_at"] and done["finished_at"] and done["expires_at"]

    result = (await client.get(f"/jobs/{job_id}/result")).json()
    assert result["job_id"] == job_id
    document, pages = result["result"]["document"], result["result"]["pages"]
    assert document["page_count"] == 10 and document["file_type"] == "pdf"
    assert document["metadata"]["title"] == "Fixture"
    assert [o["title"] for o in document["outline"]] == ["Chapter 1", "Chapter 2", "Chapter 3"]
    assert [p["number"] for p in pages] == list(range(1, 11))
    assert all(page_words(p["number"]) in p["text"] for p in pages)
    assert pages[0]["links"][0]["uri"] == "https://example.org/"
    assert all(b["bbox"][2] <= p["width"] + 1 for p in pages for b in p["blocks"])

    text_response = await client.get(f"/jobs/{job_id}/result", params={"format": "text"})
    assert text_response.headers["content-type"] == "text/plain; charset=utf-8"
    text = text_response.text
    assert text.count("\f") == 9 and page_words(7) in text
    markdown = await client.get(f"/jobs/{job_id}/result", params={"format": "markdown"})
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8" and page_words(7) in markdown.text
    assert (await client.get(f"/jobs/{job_id}/result")).headers["content-type"] == "application/json"
    some = (await client.get(f"/jobs/{job_id}/result", params={"pages": "2-3"})).json()
    assert [p["number"] for p in some["result"]["pages"]] == [2, 3]
    page = (await client.get(f"/jobs/{job_id}/pages/4")).json()
    assert page_words(4) in page["text"]


async def test_progress_rises_strictly_to_100(
    client: AsyncTestClient, worker: WorkerProcess, settings: Settings, tmp_path: Path
) -> None:
    """Every progress write publishes on the job's SAQ channel; we read the status after each one."""
    redis = aioredis.Redis.from_url(settings.redis_url)
    pubsub = redis.pubsub()
    job_id_holder: list[str] = []
    await pubsub.psubscribe(f"saq:job:{settings.queue_name}:*")
    job_id = await upload(client, make_pdf(tmp_path / "long.pdf", pages=60))
    job_id_holder.append(job_id)
    seen: list[int] = []
    async with asyncio.timeout(60):
        while not seen or seen[-1] != 100:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message and message["channel"].decode().endswith(job_id):
                status = (await client.get(f"/jobs/{job_id}")).json()
                if not seen or status["progress"] != seen[-1]:
                    seen.append(status["progress"])
                assert status["status"] != "failed", status
    await pubsub.aclose()
    await redis.aclose()
    assert seen == sorted(set(seen)), f"progress went back: {seen}"
    assert seen[-1] == 100 and len(seen) >= 5, seen


@pytest.mark.parametrize(("password", "code"), [(None, "encrypted"), ("nope", "wrong_password")])
async def test_encrypted_pdf_fails_typed_without_the_password_and_parses_with_it(
    client: AsyncTestClient, worker: WorkerProcess, tmp_path: Path, password: str | None, code: str
) -> None:
    pdf = make_pdf(tmp_path / "locked.pdf", pages=2, password="open-sesame")
    failed = await wait_for_status(
        client, await upload(client, pdf, **({"password": password} if password else {})), {"completed", "failed"}
    )
    assert failed["status"] == "failed" and failed["error"]["code"] == code, failed
    assert failed["attempts"] == 1, "a wrong password is not retried"
    assert failed["error"]["message"]
    result = await client.get(f"/jobs/{failed['job_id']}/result")
    assert result.status_code == 409 and "failed" in result.json()["detail"]

    ok = await wait_for_status(client, await upload(client, pdf, password="open-sesame"), {"completed", "failed"})
    assert ok["status"] == "completed", ok
    page = (await client.get(f"/jobs/{ok['job_id']}/pages/2")).json()
    assert page_words(2) in page["text"]


async def test_corrupt_file_fails_with_corrupt(client: AsyncTestClient, worker: WorkerProcess, tmp_path: Path) -> None:
    failed = await wait_for_status(
        client, await upload(client, make_corrupt_pdf(tmp_path / "bad.pdf")), {"completed", "failed"}
    )
    assert failed["status"] == "failed" and failed["error"]["code"] == "corrupt", failed
    # The worker lives on and parses the next file.
    ok = await wait_for_status(client, await upload(client, make_pdf(tmp_path / "ok.pdf")), {"completed", "failed"})
    assert ok["status"] == "completed"


async def test_other_formats_parse(client: AsyncTestClient, worker: WorkerProcess, tmp_path: Path) -> None:
    for path, kind in ((make_epub(tmp_path / "book.epub"), "epub"), (make_png(tmp_path / "pic.png"), "png")):
        done = await wait_for_status(client, await upload(client, path), {"completed", "failed"})
        assert done["status"] == "completed" and done["file_type"] == kind, done
    result = (await client.get(f"/jobs/{done['job_id']}/result")).json()
    assert result["result"]["document"]["page_count"] == 1


async def test_result_is_409_while_queued(client: AsyncTestClient, tmp_path: Path) -> None:
    job_id = await upload(client, make_pdf(tmp_path / "a.pdf"))  # no worker on this queue
    response = await client.get(f"/jobs/{job_id}/result")
    assert response.status_code == 409
    assert response.json()["code"] == "not_ready" and "queued" in response.json()["detail"]


async def test_page_range_option(client: AsyncTestClient, worker: WorkerProcess, tmp_path: Path) -> None:
    done = await wait_for_status(
        client, await upload(client, make_pdf(tmp_path / "a.pdf", pages=8), pages="2,5-6"), {"completed", "failed"}
    )
    assert done["status"] == "completed" and done["pages_total"] == 3, done
    result = (await client.get(f"/jobs/{done['job_id']}/result")).json()
    assert [p["number"] for p in result["result"]["pages"]] == [2, 5, 6]
    beyond = await wait_for_status(
        client, await upload(client, make_pdf(tmp_path / "b.pdf", pages=2), pages="7"), {"completed", "failed"}
    )
    assert beyond["status"] == "failed" and beyond["error"]["code"] == "invalid_request"


async def test_hanging_page_is_killed_and_the_worker_takes_the_next_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An in-process SAQ worker whose parse process hangs on page 2 of every document."""
    monkeypatch.setenv("DOCPARSE_TEST_HANG_PAGE", "2")
    settings = make_settings(tmp_path, page_timeout=1.5)
    worker: Worker = build_worker(settings, child_command=MISBEHAVING)
    run = asyncio.create_task(worker.start())
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            hung = await upload(client, make_pdf(tmp_path / "hangs.pdf", pages=3))
            single = await upload(client, make_pdf(tmp_path / "single.pdf", pages=1))
            done = await wait_for_status(client, hung, {"completed", "failed"}, timeout=30)
            assert done["status"] == "completed", done
            assert done["failed_pages"] == [2] and done["pages_done"] == 2
            assert "1 failed" in done["message"]
            result = (await client.get(f"/jobs/{hung}/result")).json()["result"]
            assert [p["number"] for p in result["pages"]] == [1, 3]
            assert result["failed_pages"][0]["code"] == "page_timeout"
            after = await wait_for_status(client, single, {"completed", "failed"}, timeout=30)
            assert after["status"] == "completed"
            # A document whose only page hangs fails with the page's error.
            only = await upload(client, make_pdf(tmp_path / "only.pdf", pages=2), pages="2")
            failed = await wait_for_status(client, only, {"completed", "failed"}, timeout=30)
            assert failed["status"] == "failed" and failed["error"]["code"] == "page_timeout", failed
    finally:
        await worker.stop()
        run.cancel()
        await worker.queue.disconnect()
        purge_queue(settings)


async def test_a_decompression_bomb_fails_typed_and_the_worker_goes_on(tmp_path: Path) -> None:
    """A 0.6 MB comic book whose one picture inflates to 600 MB, under a 256 MiB ceiling for parse processes:
    the job fails with memory_limit and a message a person understands, and the worker parses the next file."""
    settings = make_settings(tmp_path, child_memory_mb=256)
    worker: Worker = build_worker(settings)
    run = asyncio.create_task(worker.start())
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            bomb = await upload(client, zip_bomb_cbz(tmp_path / "comic.cbz", 600))
            failed = await wait_for_status(client, bomb, {"completed", "failed"}, timeout=60)
            assert failed["status"] == "failed" and failed["error"]["code"] == "memory_limit", failed
            assert "needed more memory than this server allows" in failed["error"]["message"]
            after = await wait_for_status(client, await upload(client, make_pdf(tmp_path / "ok.pdf")), {"completed"})
            assert after["pages_done"] == 3
    finally:
        await worker.stop()
        run.cancel()
        await worker.queue.disconnect()
        purge_queue(settings)
