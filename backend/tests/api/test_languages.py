"""The API speaks the caller's language (Accept-Language: Korean or English) with a real Redis and a real worker:
the upload's 202, status messages while a job runs (polled and streamed), problem details, a job's stored error."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from saq import Worker

from docparse.app import create_app
from docparse.jobs.worker import build_worker
from tests.conftest import WorkerProcess, make_settings, purge_queue, wait_for_status
from tests.documents import make_pdf
from tests.jobs.test_runner import MISBEHAVING

KO = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"}  # what a Korean browser sends
EN = {"Accept-Language": "en-US,en;q=0.9"}


async def upload(client: AsyncTestClient, path: Path, headers: dict[str, str], **data: str) -> dict[str, Any]:
    response = await client.post("/upload", files={"file": (path.name, path.read_bytes())}, data=data, headers=headers)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def first_event(client: AsyncTestClient, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    async with client.stream("GET", f"/jobs/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                event: dict[str, Any] = json.loads(line.removeprefix("data:"))
                return event
    raise AssertionError("the stream ended without an event")


async def test_messages_follow_accept_language(
    client: AsyncTestClient, slow_worker: WorkerProcess, tmp_path: Path
) -> None:
    # the upload's 202: the design note's own words for a Korean client
    accepted = await upload(client, make_pdf(tmp_path / "long.pdf", pages=10), KO)
    assert accepted["message"] == "파일이 업로드되어 처리 대기열에 등록되었습니다."
    assert (await upload(client, make_pdf(tmp_path / "short.pdf", pages=1), EN))["message"] == (
        "The file was uploaded and queued for processing."
    )
    job_id = accepted["job_id"]

    # while processing (0.2 s a page): "4/10 페이지 처리 중..." in Korean, "4/10 pages processed" in English
    deadline = time.monotonic() + 60
    while True:
        korean = (await client.get(f"/jobs/{job_id}", headers=KO)).json()
        english = (await client.get(f"/jobs/{job_id}", headers=EN)).json()
        same = korean["pages_done"] == english["pages_done"] and korean["failed_pages"] == []
        if korean["status"] == english["status"] == "processing" and korean["pages_total"] == 10 and same:
            break
        assert time.monotonic() < deadline, korean
        await asyncio.sleep(0.02)
    done = korean["pages_done"]
    assert korean["message"] == f"{done}/10 페이지 처리 중..."
    assert english["message"] == f"{done}/10 pages processed"
    assert {k: v for k, v in korean.items() if k != "message"} == {k: v for k, v in english.items() if k != "message"}
    streamed = await first_event(client, job_id, KO)  # the stream speaks the language it was opened with
    assert streamed["message"].endswith("페이지 처리 중...") or streamed["message"].startswith("완료"), streamed

    # an encrypted PDF: its error is stored once, in English, and read in either language
    encrypted = await upload(client, make_pdf(tmp_path / "locked.pdf", password="secret"), KO)
    failed = await wait_for_status(client, encrypted["job_id"], {"failed", "completed"})
    assert failed["error"]["code"] == "encrypted"
    assert failed["error"]["message"] == "This document is password protected. Upload it again with its password."
    korean = (await client.get(f"/jobs/{encrypted['job_id']}", headers=KO)).json()
    assert korean["error"] == {
        "code": "encrypted",
        "message": "암호로 보호된 문서입니다. 암호와 함께 다시 업로드하세요.",
    }
    assert korean["message"] == korean["error"]["message"]
    streamed = await first_event(client, encrypted["job_id"], KO)
    assert streamed["error"]["message"] == korean["error"]["message"]
    history = (await client.get("/jobs", params={"status": "failed"}, headers=KO)).json()["jobs"]
    assert [j["message"] for j in history] == [korean["message"]]

    # a page range beyond a one-page document: parameters kept, no "1 pages"
    beyond = await upload(client, make_pdf(tmp_path / "one.pdf", pages=1), EN, pages="5-9")
    failed = await wait_for_status(client, beyond["job_id"], {"failed", "completed"})
    assert failed["error"]["message"] == "pages: 5 is beyond the document's 1 page."
    korean = (await client.get(f"/jobs/{beyond['job_id']}", headers=KO)).json()
    assert korean["error"]["message"] == "pages: 5페이지가 없습니다. 문서는 1페이지까지 있습니다."

    completed = await wait_for_status(client, job_id, {"completed", "failed"})
    assert completed["message"] == "Completed: 10/10 pages processed"
    assert (await client.get(f"/jobs/{job_id}", headers=KO)).json()["message"] == "완료: 10/10 페이지 처리됨"


async def test_problem_details_follow_accept_language(client: AsyncTestClient, tmp_path: Path) -> None:
    program = b"\x7fELF\x02\x01\x01\x00" + bytes(200)
    refused = await client.post("/upload", files={"file": ("x.bin", program)}, headers=KO)
    assert refused.status_code == 415
    problem = refused.json()
    assert problem["code"] == "unsupported_type" and problem["detail"].startswith("지원하지 않는 파일 형식입니다.")
    assert refused.headers["content-language"] == "ko" and "accept-language" in refused.headers["vary"].lower()

    unknown = f"/jobs/{uuid.uuid4()}"
    missing = await client.get(unknown, headers=KO)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert missing.json()["detail"] == "이 ID의 작업이 없습니다(보관 기간이 지났거나 삭제되었을 수 있습니다)."
    english = await client.get(unknown, headers=EN)
    assert english.json()["detail"] == "No job with this id exists (it may have expired or been deleted)."
    assert english.headers["content-language"] == "en"
    assert (await client.get(unknown)).json()["detail"] == english.json()["detail"], "English by default"

    pdf = make_pdf(tmp_path / "a.pdf", pages=1).read_bytes()
    backwards = await client.post("/upload", files={"file": ("a.pdf", pdf)}, data={"pages": "5-3"}, headers=KO)
    assert backwards.status_code == 400 and backwards.json()["code"] == "invalid_request"
    assert backwards.json()["detail"] == "pages: 범위 '5-3'의 순서가 거꾸로입니다. 3-5처럼 쓰세요."
    invalid = await client.get("/jobs", params={"limit": 0}, headers=KO)  # Litestar's own validation
    assert invalid.status_code == 400 and invalid.json()["detail"].startswith("요청 값이 올바르지 않습니다: ")
    assert "limit" in invalid.json()["detail"]
    no_route = await client.get("/nowhere", headers={"Accept-Language": "ko"})
    assert no_route.status_code == 404 and no_route.json()["detail"].startswith("찾을 수 없습니다.")


async def test_the_size_limit_is_said_in_binary_units(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_upload_mb=1)
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            big = bytes(3 * (1 << 20))
            response = await client.post("/upload", files={"file": ("big.pdf", b"%PDF-1.7\n" + big)})
            assert response.status_code == 413 and response.json()["code"] == "file_too_large"
            assert response.json()["detail"] == "The upload is 3 MiB; this server accepts files up to 1 MiB."
            korean = await client.post("/upload", files={"file": ("big.pdf", b"%PDF-1.7\n" + big)}, headers=KO)
            assert korean.json()["detail"] == "업로드 크기가 3 MiB입니다. 이 서버는 1 MiB까지의 파일만 받습니다."
    finally:
        purge_queue(settings)


async def test_a_failed_pages_message_in_the_result_follows_accept_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An in-process worker whose parse process hangs on page 2: the page's stored English error, read in Korean."""
    monkeypatch.setenv("DOCPARSE_TEST_HANG_PAGE", "2")
    settings = make_settings(tmp_path, page_timeout=1.5)
    worker: Worker = build_worker(settings, child_command=MISBEHAVING)
    run = asyncio.create_task(worker.start())
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            job_id = (await upload(client, make_pdf(tmp_path / "hangs.pdf", pages=3), KO))["job_id"]
            done = await wait_for_status(client, job_id, {"completed", "failed"}, timeout=60)
            assert done["status"] == "completed" and done["failed_pages"] == [2], done
            korean = (await client.get(f"/jobs/{job_id}", headers=KO)).json()
            assert korean["message"] == "완료: 2/3 페이지 처리됨, 1페이지 실패"
            result = (await client.get(f"/jobs/{job_id}/result", headers=KO)).json()["result"]
            assert result["failed_pages"] == [
                {"number": 2, "code": "page_timeout", "message": "2페이지 처리에 1.5초 넘게 걸려 중단되었습니다."}
            ]
            english = (await client.get(f"/jobs/{job_id}/result")).json()["result"]
            assert english["failed_pages"][0]["message"] == "Page 2 took longer than 1.5 s and was stopped."
    finally:
        await worker.stop()
        run.cancel()
        await worker.queue.disconnect()
        purge_queue(settings)
