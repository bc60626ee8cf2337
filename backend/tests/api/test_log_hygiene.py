"""What the logs of real processes hold: never an API key (uvicorn's access log included), and no ERROR line or
traceback for a job that ended in a typed, expected way (failed on its input, or cancelled), while a real fault
still logs at ERROR with its traceback."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from litestar.testing import AsyncTestClient

from docparse.errors import Encrypted, WorkerLost
from docparse.jobs.queue import create_queue, enqueue_parse
from docparse.jobs.records import JobRecord, RecordStore
from docparse.logs import configure_logging
from docparse.settings import Settings
from tests.api.live import api_log, live_api
from tests.conftest import WorkerProcess, make_settings, purge_queue
from tests.documents import make_pdf

KEY = "sekret-key-alpha-123"
ADMIN = "sekret-admin-456"
TERMINAL = {"completed", "failed", "cancelled"}


@pytest.fixture
def keyed_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`docparse api` under uvicorn with API keys on; yields its URL and the file its stderr goes to."""
    settings = make_settings(tmp_path)
    try:
        with live_api(settings, DOCPARSE_API_KEYS=KEY, DOCPARSE_ADMIN_KEYS=ADMIN) as (base, _):
            yield base, api_log(settings, base)
    finally:
        purge_queue(settings)


def test_api_keys_never_reach_the_log(keyed_api: tuple[str, Path]) -> None:
    base, log_path = keyed_api
    unknown = "6f1c0a9e-2b7c-4c1e-9a55-0d7f5d2f9b11"
    assert httpx.get(f"{base}/jobs", params={"api_key": KEY, "limit": 3}).status_code == 200
    assert httpx.get(f"{base}/jobs/{unknown}/events?api_key={KEY}").status_code == 404
    assert httpx.get(f"{base}/jobs", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    httpx.get(f"{base}/monitor/?api_key={ADMIN}")  # an operator opening the monitor
    time.sleep(0.5)  # the access log is written after the response
    text = log_path.read_text()
    assert f"/jobs/{unknown}/events?api_key=REDACTED" in text, text[-3000:]  # the request line is still there
    assert "/jobs?api_key=REDACTED&limit=3" in text
    assert re.search(r"GET /monitor/?\?api_key=REDACTED HTTP", text)  # (Litestar drops the slash from `path`)
    assert KEY not in text and ADMIN not in text


def test_secrets_in_any_message_are_redacted(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Headers or URLs that end up in any message or its arguments, through structlog or the standard library."""
    configure_logging(make_settings(tmp_path))
    structlog.get_logger("test").warning("request", url=f"/x?a=1&api_key={KEY}", headers={"x-api-key": KEY})
    logging.getLogger("test").warning("headers %s", [(b"authorization", f"Bearer {KEY}".encode())])
    logging.getLogger("test").warning("got Authorization: Bearer %s and X-API-Key: %s", KEY, KEY)
    err = capfd.readouterr().err
    assert KEY not in err, err
    assert err.count("REDACTED") >= 5, err


def test_saq_lines_about_typed_endings_lose_their_level_and_traceback(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The filter alone, in this process: a DocparseError from SAQ's worker is INFO (WARNING when server-side),
    anything else stays ERROR with its traceback, and other loggers are left alone."""
    configure_logging(make_settings(tmp_path))
    saq = logging.getLogger("saq")
    for error in (Encrypted(), WorkerLost(), ValueError("boom")):
        try:
            raise error
        except Exception:
            saq.exception("Error processing job %s", "Job<...>")
    try:
        raise Encrypted()
    except Encrypted:
        logging.getLogger("docparse.other").exception("not SAQ's")
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines()]
    assert [(line["level"], "exception" in line) for line in lines] == [
        ("info", False), ("warning", False), ("error", True), ("error", True)
    ]  # fmt: skip
    assert lines[0]["event"].startswith("job ended: encrypted")


def log_lines(path: Path) -> list[dict]:
    lines = []
    for line in path.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            lines.append({"level": "raw", "event": line})
    return lines


async def test_expected_job_endings_are_not_logged_as_errors(
    client: AsyncTestClient, settings: Settings, tmp_path: Path
) -> None:
    worker = WorkerProcess(settings, slow_page=0.2)
    try:
        worker.wait_ready()
        locked = make_pdf(tmp_path / "locked.pdf", pages=1, password="x").read_bytes()
        long = make_pdf(tmp_path / "long.pdf", pages=40).read_bytes()
        failed_id = (await client.post("/upload", files={"file": ("locked.pdf", locked)})).json()["job_id"]
        cancelled_id = (await client.post("/upload", files={"file": ("long.pdf", long)})).json()["job_id"]
        deadline = time.monotonic() + 60
        while (await client.get(f"/jobs/{cancelled_id}")).json()["status"] != "processing":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert (await client.post(f"/jobs/{cancelled_id}/cancel")).status_code == 202

        # A genuine fault: a record that cannot be read (its options are not JSON) makes the task crash.
        crashed_id = "44444444-4444-4444-8444-444444444444"
        queue = create_queue(settings)
        await queue.connect()
        try:
            records = RecordStore(queue.redis, settings.queue_name)
            record = JobRecord(job_id=crashed_id, filename="a.pdf", file_type="pdf", size=1, sha256="0",
                               created_at=time.time())  # fmt: skip
            await records.create(record, password=None)
            await queue.redis.hset(records.key(crashed_id), "options", "{not json")
            await enqueue_parse(queue, crashed_id, settings)
            expected = {failed_id: "failed", cancelled_id: "cancelled"}
            deadline = time.monotonic() + 90
            for job_id, status in expected.items():
                while (body := (await client.get(f"/jobs/{job_id}")).json())["status"] not in TERMINAL:
                    assert time.monotonic() < deadline, body
                    await asyncio.sleep(0.05)
                assert body["status"] == status, body
            while not (job := await queue.job(crashed_id)) or job.status.value not in ("failed", "complete"):
                assert time.monotonic() < deadline, job
                await asyncio.sleep(0.1)
        finally:
            await queue.disconnect()
        await asyncio.sleep(0.5)  # let the worker write its last lines
    finally:
        worker.stop()

    lines = log_lines(worker.log_path)
    for job_id in (failed_id, cancelled_id):
        about = [line for line in lines if job_id in json.dumps(line)]
        assert about, f"nothing logged about {job_id}"
        loud = [line for line in about if line.get("level") in ("error", "critical", "raw") or "exception" in line]
        assert loud == [], loud
        assert any(line.get("level") == "info" and line.get("job_id") == job_id for line in about)
    assert not any("Traceback" in line.get("event", "") for line in lines if line.get("level") == "raw")
    crash = [line for line in lines if line.get("job_id") == crashed_id and line.get("level") == "error"]
    assert crash and any("Traceback" in line.get("exception", "") for line in crash), lines[-20:]
