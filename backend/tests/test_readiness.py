"""/ready follows Redis: false while a (private) Redis is down, true again once it is back and a worker has
reconnected by itself."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis
from litestar.testing import AsyncTestClient

from docparse.app import create_app
from tests.conftest import WorkerProcess, make_settings
from tests.test_live_server import free_port

REDIS_SERVER = shutil.which("redis-server")


def start_redis(port: int, data: Path) -> subprocess.Popen:
    data.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data), "--save", "",
         "--appendonly", "yes"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


async def wait_ready(client: AsyncTestClient, expected: bool, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        started = time.monotonic()
        response = await client.get("/ready")
        assert time.monotonic() - started < 3, "a readiness probe must answer quickly, Redis or not"
        body = response.json()
        if body["ready"] is expected:
            assert response.status_code == (200 if expected else 503)
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.2)


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")
async def test_ready_follows_redis_down_and_back(tmp_path: Path) -> None:
    port = free_port()
    server = start_redis(port, tmp_path / "redis")
    settings = make_settings(tmp_path, redis_url=f"redis://127.0.0.1:{port}/0")
    worker = WorkerProcess(settings)
    try:
        worker.wait_ready()
        async with AsyncTestClient(app=create_app(settings)) as client:
            assert (await wait_ready(client, True, 10))["workers"] == 1
            server.terminate()
            server.wait(10)
            down = await wait_ready(client, False, 10)
            assert down["redis"] is False and "Redis" in down["reason"]
            server = start_redis(port, tmp_path / "redis")
            back = await wait_ready(client, True, 30)  # the worker reconnects and reports in again
            assert back["redis"] is True and back["workers"] == 1
            assert worker.process.poll() is None, "the worker survived the outage"
    finally:
        worker.stop()
        server.terminate()
        server.wait(10)
