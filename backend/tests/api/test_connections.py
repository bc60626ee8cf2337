"""An API process keeps a bounded number of Redis connections, whatever its clients do: many event streams at
once, then gone; many readiness probes. Event streams beyond DOCPARSE_MAX_EVENT_STREAMS get 503."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
import redis

from tests.api.live import REDIS_SERVER, PrivateRedis, live_api
from tests.conftest import make_settings
from tests.documents import make_pdf

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")

STREAMS = 60
POOL = 4


def api_clients(admin: redis.Redis) -> int:
    """Connections to the test's private Redis other than this test's own: the API process's."""
    mine = admin.client_id()
    return sum(1 for client in admin.client_list() if int(client["id"]) != mine)


async def open_streams(base: str, job_id: str, count: int, stop: asyncio.Event) -> list[int]:
    """`count` event streams held open at once (each until its first event and then `stop`); their statuses."""
    first_events = asyncio.Semaphore(0)
    statuses: list[int] = []
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:

        async def hold() -> None:
            async with http.stream("GET", f"/jobs/{job_id}/events") as response:
                statuses.append(response.status_code)
                lines = response.aiter_lines()  # read with anext: leaving a loop over it would end the stream
                while not (await anext(lines)).startswith("data:"):
                    pass
                first_events.release()
                await stop.wait()

        tasks = [asyncio.create_task(hold()) for _ in range(count)]
        for _ in range(count):
            await asyncio.wait_for(first_events.acquire(), 120)
        async with http.stream("GET", f"/jobs/{job_id}/events") as over:  # one more than the limit
            statuses.append(over.status_code)
            if over.status_code == 503:
                await over.aread()
                assert over.json()["code"] == "unavailable" and int(over.headers["retry-after"]) > 0
        stop.set()
        await asyncio.gather(*tasks)
    return statuses


def wait_clients_at_most(admin: redis.Redis, bound: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while (count := api_clients(admin)) > bound and time.monotonic() < deadline:
        time.sleep(0.2)
    return count


async def test_redis_connections_stay_bounded_and_streams_are_limited(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path / "redis")
    admin = server.client()
    settings = make_settings(tmp_path, redis_url=server.url)
    env = {"DOCPARSE_REDIS_MAX_CONNECTIONS": str(POOL), "DOCPARSE_MAX_EVENT_STREAMS": str(STREAMS)}
    try:
        with live_api(settings, **env) as (base, _):
            pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
            async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                job_id = (await http.post("/upload", files={"file": ("a.pdf", pdf)})).json()["job_id"]  # stays queued
                assert (await http.get(f"/jobs/{job_id}")).status_code == 200
            baseline = api_clients(admin)
            bound = baseline + POOL + 1  # the pool, and the one pub/sub connection every stream shares

            statuses = await open_streams(base, job_id, STREAMS, asyncio.Event())
            after = wait_clients_at_most(admin, bound)
            assert after <= bound, f"{after} Redis connections after {STREAMS} streams closed (baseline {baseline})"
            assert statuses[:STREAMS] == [200] * STREAMS
            assert statuses[STREAMS] == 503, "a stream past DOCPARSE_MAX_EVENT_STREAMS was served"

            # The closed streams gave their places back, and so did streams refused before they started.
            unknown = "6f1c0a9e-2b7c-4c1e-9a55-0d7f5d2f9b11"
            async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                for _ in range(STREAMS + 5):
                    assert (await http.get(f"/jobs/{unknown}/events")).status_code == 404
            statuses = await open_streams(base, job_id, STREAMS, asyncio.Event())
            assert statuses[:STREAMS] == [200] * STREAMS

            async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                for _ in range(10):
                    answers = await asyncio.gather(*(http.get("/ready") for _ in range(30)))
                    assert {a.status_code for a in answers} == {503}  # ready needs a worker: there is none
            after_ready = wait_clients_at_most(admin, bound)
            assert after_ready <= bound, f"{after_ready} Redis connections after 300 readiness probes"
    finally:
        admin.close()
        server.close()
