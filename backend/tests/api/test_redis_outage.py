"""With Redis away every route that needs it answers 503 `unavailable` with Retry-After, quickly, and works again
once Redis is back. A Redis that accepts connections but never answers must not hang a request either."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from docparse.app import create_app
from tests.api.live import REDIS_SERVER, PrivateRedis, live_api
from tests.conftest import make_settings
from tests.documents import make_pdf

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


async def call(client: AsyncTestClient, route: str, job_id: str, pdf: bytes) -> httpx.Response:
    method, path = route.split(" ", 1)
    path = path.replace("{id}", job_id)
    if method == "POST" and path == "/upload":
        return await client.post(path, files={"file": ("a.pdf", pdf)})
    return await client.request(method, path)


ROUTES = [
    "GET /jobs/{id}",
    "GET /jobs",
    "GET /jobs/{id}/result",
    "GET /jobs/{id}/events",
    "GET /metrics",
    "POST /upload",
    "POST /jobs/{id}/cancel",
    "GET /monitor/api/queues",
]


async def test_every_redis_backed_route_answers_503_while_redis_is_down(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path / "redis")
    settings = make_settings(tmp_path, redis_url=server.url, redis_timeout=1.0)
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            job_id = (await client.post("/upload", files={"file": ("a.pdf", pdf)})).json()["job_id"]
            server.stop()
            for route in ROUTES:
                started = time.monotonic()
                response = await call(client, route, job_id, pdf)
                assert response.status_code == 503, (route, response.text)
                assert response.headers["content-type"].startswith("application/problem+json"), route
                assert response.json()["code"] == "unavailable", route
                assert int(response.headers["retry-after"]) > 0, route
                assert time.monotonic() - started < 10, route
            assert (await client.get("/health")).status_code == 200

            server.start()  # the same data (AOF): the job is still there
            expected = {
                "GET /jobs/{id}": 200,
                "GET /jobs": 200,
                "GET /jobs/{id}/result": 409,  # not completed: no worker on this queue
                "GET /metrics": 200,
                "POST /upload": 202,
                "POST /jobs/{id}/cancel": 202,
                "GET /jobs/{id}/events": 200,  # after the cancel: one terminal status, then the stream ends
                "GET /monitor/api/queues": 200,
            }
            for route, status in expected.items():
                response = await call(client, route, job_id, pdf)
                assert response.status_code == status, (route, response.text)
            assert (await client.get(f"/jobs/{job_id}")).json()["status"] == "cancelled"
    finally:
        server.close()


def test_a_redis_that_never_answers_gives_503_within_the_timeout(tmp_path: Path) -> None:
    """Over real HTTP, so that a request that would hang for ever fails the test instead of hanging it."""
    server = PrivateRedis(tmp_path / "redis")
    settings = make_settings(tmp_path, redis_url=server.url)
    try:
        with live_api(settings, DOCPARSE_REDIS_TIMEOUT="1") as (base, _):
            pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
            job_id = httpx.post(f"{base}/upload", files={"file": ("a.pdf", pdf)}).json()["job_id"]
            server.freeze()
            for path in (f"/jobs/{job_id}", "/jobs", "/metrics"):
                started = time.monotonic()
                response = httpx.get(f"{base}{path}", timeout=60)
                assert response.status_code == 503 and response.json()["code"] == "unavailable", response.text
                assert time.monotonic() - started < 20
            server.thaw()
            deadline = time.monotonic() + 30
            while httpx.get(f"{base}/jobs/{job_id}", timeout=60).status_code != 200:
                assert time.monotonic() < deadline, "the API did not recover once Redis answered again"
                time.sleep(0.2)
    finally:
        server.close()
