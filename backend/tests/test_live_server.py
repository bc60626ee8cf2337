"""The real thing over real HTTP: `docparse api` under uvicorn, worker processes, Redis — the seed's curl flow
and the live event stream as an HTTP client sees them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from docparse.settings import Settings
from tests.conftest import WorkerProcess, settings_env
from tests.documents import make_pdf, page_words


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def api(settings: Settings) -> Iterator[str]:
    port = free_port()
    env = {**settings_env(settings), "DOCPARSE_PORT": str(port), "DOCPARSE_HOST": "127.0.0.1"}
    log = open(Path(settings.storage_dir).parent / "api.log", "wb")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "-m", "docparse.cli", "api"], env=env, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "API did not start"
        time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(10)
    log.close()


def read_events(response: httpx.Response) -> Iterator[dict]:
    """Server-Sent Events parsed from a streaming response: {'event', 'id', 'data'} per event."""
    event: dict = {}
    for line in response.iter_lines():
        if not line:
            if "data" in event:
                yield event
            event = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            event[field] = value.removeprefix(" ")


def test_seed_curl_flow_over_http(api: str, worker: WorkerProcess, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "sample.pdf", pages=4)
    accepted = httpx.post(f"{api}/upload", files={"file": ("sample.pdf", pdf.read_bytes(), "application/pdf")})
    assert accepted.status_code == 202
    body = accepted.json()
    assert body["status"] == "accepted" and body["file_type"] == "pdf" and body["message"]
    job_url = f"{api}{accepted.headers['location']}"
    deadline = time.monotonic() + 30
    while (status := httpx.get(job_url).json())["status"] not in {"completed", "failed"}:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status["status"] == "completed" and status["progress"] == 100
    result = httpx.get(f"{job_url}/result").json()
    assert result["job_id"] == body["job_id"]
    assert page_words(4) in result["result"]["pages"][3]["text"]
    ready = httpx.get(f"{api}/ready").json()
    assert ready["ready"] is True and ready["workers"] == 1
    redirect = httpx.get(f"{api}/monitor")
    assert redirect.status_code == 308 and redirect.headers["location"] == "/monitor/"
    assert httpx.get(f"{api}/monitor/").status_code == 200
    assert httpx.get(f"{api}/schema/openapi.json").json()["info"]["title"] == "docparse"


def test_events_stream_progress_to_the_end(api: str, settings: Settings, tmp_path: Path) -> None:
    worker = WorkerProcess(settings, slow_page=0.1)
    try:
        worker.wait_ready()
        pdf = make_pdf(tmp_path / "long.pdf", pages=20)
        job_id = httpx.post(f"{api}/upload", files={"file": ("long.pdf", pdf.read_bytes())}).json()["job_id"]
        statuses, ids = [], []
        with httpx.stream("GET", f"{api}/jobs/{job_id}/events", timeout=30) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for event in read_events(response):
                assert event["event"] == "status"
                statuses.append(json.loads(event["data"]))
                ids.append(event["id"])
        # the stream ended by itself after the terminal status
        assert statuses[-1]["status"] == "completed" and statuses[-1]["progress"] == 100
        progress = [s["progress"] for s in statuses]
        assert progress == sorted(progress) and len(set(progress)) >= 5, progress
        assert any(s["status"] == "processing" for s in statuses)
        assert len(ids) == len(set(ids))

        # Reconnecting with the last id: nothing new happened, so the stream just ends.
        with httpx.stream("GET", f"{api}/jobs/{job_id}/events", headers={"Last-Event-ID": ids[-1]}) as response:
            assert list(read_events(response)) == []
        # Without it, the current (terminal) status comes once.
        with httpx.stream("GET", f"{api}/jobs/{job_id}/events") as response:
            assert [json.loads(e["data"])["status"] for e in read_events(response)] == ["completed"]
    finally:
        worker.stop()


def test_events_for_an_unknown_job_is_404(api: str) -> None:
    response = httpx.get(f"{api}/jobs/6f1c0a9e-2b7c-4c1e-9a55-0d7f5d2f9b11/events")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
