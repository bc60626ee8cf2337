"""POST /upload against a real Redis: the accepted shape, the stored file, the queued SAQ job, every input error."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient

from docparse.jobs.queue import create_queue
from docparse.settings import Settings
from tests.api.live import live_api
from tests.conftest import make_settings
from tests.documents import make_pdf, make_png


async def test_upload_answers_202_with_the_seed_shape_and_queues_one_job(
    client: AsyncTestClient, settings: Settings, tmp_path: Path
) -> None:
    pdf = make_pdf(tmp_path / "report.pdf", pages=2).read_bytes()
    response = await client.post("/upload", files={"file": ("report.pdf", pdf, "application/pdf")})
    assert response.status_code == 202, response.text
    body = response.json()
    assert {"status", "job_id", "filename", "file_type", "message"} <= body.keys()
    assert body["status"] == "accepted"
    assert (body["filename"], body["file_type"]) == ("report.pdf", "pdf")
    assert response.headers["location"] == f"/jobs/{body['job_id']}"

    stored = settings.storage_dir / "jobs" / body["job_id"] / "source"
    assert stored.read_bytes() == pdf

    queue = create_queue(settings)
    job = await queue.job(body["job_id"])
    assert job is not None and job.status == "queued"
    assert job.timeout > 0 and job.heartbeat > 0 and job.retries >= 1 and job.ttl == settings.result_ttl
    await queue.disconnect()

    status = (await client.get(f"/jobs/{body['job_id']}")).json()
    assert status["status"] == "queued" and status["progress"] == 0 and status["queue_position"] == 0
    assert status["attempts"] == 0 and status["error"] is None


async def test_type_comes_from_the_bytes_not_the_name(client: AsyncTestClient, tmp_path: Path) -> None:
    png = make_png(tmp_path / "x.png").read_bytes()
    response = await client.post("/upload", files={"file": ("looks-like.pdf", png, "application/pdf")})
    assert response.status_code == 202
    assert response.json()["file_type"] == "png"


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("empty.pdf", b"", 400, "empty_file"),
        ("program.pdf", b"\x7fELF\x02\x01\x01\x00" + bytes(200), 415, "unsupported_type"),
        ("archive.zip", b"PK\x03\x04" + bytes(100), 415, "unsupported_type"),
    ],
)
async def test_bad_files_get_typed_problem_details(
    client: AsyncTestClient, settings: Settings, name: str, content: bytes, status: int, code: str
) -> None:
    response = await client.post("/upload", files={"file": (name, content, "application/pdf")})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code and problem["status"] == status and problem["detail"]
    assert not list((settings.storage_dir / "jobs").glob("*/source")), "a refused upload leaves no file"


async def test_a_body_without_a_file_is_refused(client: AsyncTestClient) -> None:
    response = await client.post("/upload", data={"password": "x"}, files={"other": ("a.txt", b"hi", "text/plain")})
    assert response.status_code == 400 and response.json()["code"] == "invalid_request"
    response = await client.post("/upload", content=b"{}", headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_request"


async def test_too_large_is_refused_while_reading(tmp_path: Path) -> None:
    from docparse.app import create_app

    settings = make_settings(tmp_path, max_upload_mb=1)
    async with AsyncTestClient(app=create_app(settings)) as client:
        big = b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024)
        response = await client.post("/upload", files={"file": ("big.pdf", big, "application/pdf")})
        assert response.status_code == 413 and response.json()["code"] == "file_too_large"
        assert not list((settings.storage_dir / "jobs").glob("*/source"))


async def test_form_fields_are_validated(client: AsyncTestClient, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    bad_pages = await client.post("/upload", files={"file": ("a.pdf", pdf)}, data={"pages": "3-1"})
    assert bad_pages.status_code == 400 and bad_pages.json()["code"] == "invalid_request"
    bad_option = await client.post("/upload", files={"file": ("a.pdf", pdf)}, data={"options": "tables,teleport"})
    assert bad_option.status_code == 400 and "teleport" in bad_option.json()["detail"]
    ok = await client.post("/upload", files={"file": ("a.pdf", pdf)}, data={"options": "tables", "pages": "1-2"})
    assert ok.status_code == 202


@pytest.mark.parametrize(
    ("raw_name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("pass\x00wd.pdf", "passwd.pdf"),
        ("한국어 문서.pdf", "한국어 문서.pdf"),
        ("", "upload"),
        ("x" * 400 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
async def test_path_like_names_are_sanitised(
    client: AsyncTestClient, tmp_path: Path, raw_name: str, expected: str
) -> None:
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    # A hand-made body: HTTP clients escape odd names, hostile ones send them raw.
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="'
        + raw_name.encode()
        + b'"\r\nContent-Type: application/pdf\r\n\r\n'
        + pdf
        + b"\r\n--B--\r\n"
    )
    response = await client.post("/upload", content=body, headers={"content-type": "multipart/form-data; boundary=B"})
    assert response.status_code == 202, response.text
    assert response.json()["filename"] == expected


async def test_sha256_and_size_are_recorded(client: AsyncTestClient, settings: Settings, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    job_id = (await client.post("/upload", files={"file": ("a.pdf", pdf)})).json()["job_id"]
    redis = aioredis.Redis.from_url(settings.redis_url)
    record = await redis.hgetall(f"docparse:{settings.queue_name}:job:{job_id}")
    await redis.aclose()
    assert record[b"sha256"].decode() == hashlib.sha256(pdf).hexdigest()
    assert int(record[b"size"]) == len(pdf)


async def test_unknown_jobs_are_404_problems(client: AsyncTestClient) -> None:
    for path in ("/jobs/6f1c0a9e-2b7c-4c1e-9a55-0d7f5d2f9b11", "/jobs/6f1c0a9e-2b7c-4c1e-9a55-0d7f5d2f9b11/result"):
        response = await client.get(path)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert (await client.get("/jobs/not-a-uuid")).status_code == 404


async def test_health(client: AsyncTestClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 503 and ready.json()["workers"] == 0  # no worker on this private queue


def _part(name: str, content: bytes, *, filename: str | None = None, extra_headers: int = 0) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    headers = [f"Content-Disposition: {disposition}"] + [f"X-Extra-{i}: x" for i in range(extra_headers)]
    return b"--B\r\n" + "\r\n".join(headers).encode() + b"\r\n\r\n" + content + b"\r\n"


@pytest.mark.parametrize(
    ("case", "named_limit"),
    [("long_filename", "4 KiB"), ("many_fields", "16 parts"), ("many_headers", "8 headers")],
)
async def test_multipart_parser_limits_are_client_errors(
    client: AsyncTestClient, settings: Settings, tmp_path: Path, case: str, named_limit: str
) -> None:
    """The parser's own limits (header line length, part count, headers per part) are the client's fault."""
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    if case == "long_filename":
        parts = [_part("file", pdf, filename="x" * 10_000 + ".pdf")]
    elif case == "many_fields":
        parts = [_part(f"f{i}", b"v") for i in range(17)] + [_part("file", pdf, filename="a.pdf")]
    else:
        parts = [_part("file", pdf, filename="a.pdf", extra_headers=8)]
    body = b"".join(parts) + b"--B--\r\n"
    response = await client.post("/upload", content=body, headers={"content-type": "multipart/form-data; boundary=B"})
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["code"] == "invalid_request" and named_limit in problem["detail"], problem
    assert response.headers["content-type"].startswith("application/problem+json")
    assert not list((settings.storage_dir / "jobs").glob("*/source"))


def test_a_chunked_body_is_counted_whole_against_the_limit(settings: Settings, tmp_path: Path) -> None:
    """Without Content-Length, parts that are not the kept file (another file part here) count too."""
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield b'--B\r\nContent-Disposition: form-data; name="junk"; filename="junk.bin"\r\n\r\n'
        for _ in range(4 * 16):  # 4 MiB: more than 1 MiB + the form's allowance
            sent += 64 * 1024
            yield b"\0" * (64 * 1024)
        yield b"\r\n" + _part("file", pdf, filename="a.pdf") + b"--B--\r\n"

    with live_api(settings, DOCPARSE_MAX_UPLOAD_MB="1") as (base, _):
        try:
            response = httpx.post(
                f"{base}/upload",
                content=body(),
                headers={"content-type": "multipart/form-data; boundary=B"},
                timeout=60,
            )
        except httpx.TransportError:  # the server may close before reading the rest; then it must have said 413
            pytest.fail("the server closed the connection without an answer")
        assert "content-length" not in response.request.headers
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "file_too_large"
        assert not list((settings.storage_dir / "jobs").glob("*/source"))


async def test_no_more_than_max_queued_jobs_ever_wait(settings: Settings, tmp_path: Path) -> None:
    """DOCPARSE_MAX_QUEUED is the most jobs that wait: an upload that started while there was room is still
    refused if the queue filled up while its body arrived."""
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    other_done = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        # the PDF and a trailing comment big enough that storage writes it out before the body ends
        yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="slow.pdf"\r\n\r\n' + pdf
        yield b"\n%" + b"x" * (4 * 1024 * 1024)
        await other_done.wait()
        yield b"\r\n--B--\r\n"

    with live_api(settings, DOCPARSE_MAX_QUEUED="1") as (base, _):
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            slow = asyncio.create_task(
                http.post("/upload", content=slow_body(), headers={"content-type": "multipart/form-data; boundary=B"})
            )
            deadline = time.monotonic() + 30
            while not list((settings.storage_dir / "jobs").glob("*/*source*")):  # past the first check
                assert time.monotonic() < deadline and not slow.done()
                await asyncio.sleep(0.05)
            fast = await http.post("/upload", files={"file": ("fast.pdf", pdf)})
            assert fast.status_code == 202
            other_done.set()
            refused = await slow
            assert refused.status_code == 429, refused.text
            assert refused.json()["code"] == "too_many_requests" and int(refused.headers["retry-after"]) > 0
            listed = (await http.get("/jobs")).json()["jobs"]
            assert [job["filename"] for job in listed] == ["fast.pdf"]
            full = await http.post("/upload", files={"file": ("late.pdf", pdf)})
            assert full.status_code == 429
