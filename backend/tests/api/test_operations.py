"""Operations: API keys, the SAQ monitor, Prometheus metrics, backpressure."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from docparse.app import create_app
from docparse.jobs.pagestore import PageStore
from docparse.settings import Settings
from tests.conftest import WorkerProcess, make_settings, purge_queue, wait_for_status
from tests.documents import make_pdf


async def test_api_keys_separate_owners_and_close_the_monitor(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_keys="key-alpha, key-beta")
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            refused = await client.post("/upload", files={"file": ("a.pdf", pdf)})
            assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
            assert "Bearer" in refused.headers["www-authenticate"]
            wrong = await client.get("/jobs", headers={"Authorization": "Bearer key-gamma"})
            assert wrong.status_code == 401

            alpha = {"Authorization": "Bearer key-alpha"}
            beta = {"X-API-Key": "key-beta"}
            job_id = (await client.post("/upload", files={"file": ("a.pdf", pdf)}, headers=alpha)).json()["job_id"]
            assert (await client.get(f"/jobs/{job_id}", headers=alpha)).status_code == 200
            assert (await client.get(f"/jobs/{job_id}", params={"api_key": "key-alpha"})).status_code == 200
            for method, path in (("GET", ""), ("GET", "/result"), ("POST", "/cancel"), ("DELETE", ""),
                                 ("GET", "/events"), ("GET", "/pages/1")):  # fmt: skip
                response = await client.request(method, f"/jobs/{job_id}{path}", headers=beta)
                assert response.status_code == 404, (method, path, response.text)
            assert (await client.get("/jobs", headers=beta)).json()["jobs"] == []
            assert [j["job_id"] for j in (await client.get("/jobs", headers=alpha)).json()["jobs"]] == [job_id]

            # No operator key is set: the monitor, which sees every tenant's jobs, is off (test_monitor_access.py).
            assert (await client.get("/monitor/")).status_code == 403
            assert (await client.get(f"/monitor/api/queues/{settings.queue_name}", headers=alpha)).status_code == 403
            # Open to all: liveness, readiness, and the config that tells the UI a key is needed.
            assert (await client.get("/health")).status_code == 200
            assert (await client.get("/config")).json()["api_key_required"] is True
    finally:
        purge_queue(settings)


async def test_monitor_shows_the_queue(client: AsyncTestClient, settings: Settings) -> None:
    page = await client.get("/monitor/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    queues = (await client.get("/monitor/api/queues")).json()
    assert settings.queue_name in [q["name"] for q in queues["queues"]]


async def test_metrics_count_a_job_that_ran(client: AsyncTestClient, worker: WorkerProcess, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", pages=3).read_bytes()
    job_id = (await client.post("/upload", files={"file": ("a.pdf", pdf)})).json()["job_id"]
    await wait_for_status(client, job_id, {"completed", "failed"})
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    assert samples[("docparse_jobs_finished_total", (("status", "completed"),))] == 1
    assert samples[("docparse_pages_parsed_total", ())] == 3
    assert samples[("docparse_uploads_total", ())] == 1
    assert samples[("docparse_upload_bytes_total", ())] == len(pdf)
    assert samples[("docparse_parse_seconds_count", ())] == 1
    assert samples[("docparse_parse_seconds_bucket", (("le", "+Inf"),))] == 1
    assert samples[("docparse_workers", ())] == 1
    assert samples[("docparse_queue_depth", ())] == 0


async def test_metrics_count_each_accepted_upload_once(
    client: AsyncTestClient, worker: WorkerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload is counted with its record: once when parsed, once when it reuses a result, and once when the
    reuse fails half-way and it is parsed after all (the failed reuse's count is taken back)."""
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    first = (await client.post("/upload", files={"file": ("a.pdf", pdf)})).json()["job_id"]
    assert (await wait_for_status(client, first, {"completed", "failed"}))["status"] == "completed"
    reused = (await client.post("/upload", files={"file": ("a.pdf", pdf)})).json()
    assert reused["reused_from"] == first

    async def broken(self: PageStore, from_job: str, to_job: str) -> None:
        raise RuntimeError("the copy failed half-way")

    monkeypatch.setattr(PageStore, "copy", broken)
    parsed = (await client.post("/upload", files={"file": ("a.pdf", pdf)})).json()
    assert parsed["reused_from"] is None
    status = await wait_for_status(client, parsed["job_id"], {"completed", "failed"})
    assert status["status"] == "completed" and status["reused_from"] is None
    samples = {s.name: s.value for f in text_string_to_metric_families((await client.get("/metrics")).text)
               for s in f.samples}  # fmt: skip
    assert (samples["docparse_uploads_total"], samples["docparse_upload_bytes_total"]) == (3, 3 * len(pdf))


async def test_a_full_queue_answers_429(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_queued=2)
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            for _ in range(2):  # no worker: they stay queued
                assert (await client.post("/upload", files={"file": ("a.pdf", pdf)})).status_code == 202
            busy = await client.post("/upload", files={"file": ("a.pdf", pdf)})
            assert busy.status_code == 429 and busy.json()["code"] == "too_many_requests"
            assert int(busy.headers["retry-after"]) > 0
    finally:
        purge_queue(settings)
