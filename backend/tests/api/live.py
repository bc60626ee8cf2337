"""Helpers for API tests over real HTTP: `docparse api` under uvicorn with extra settings, and a private Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis

from docparse.settings import Settings
from tests.conftest import settings_env
from tests.test_live_server import free_port
from tests.test_readiness import REDIS_SERVER, start_redis

__all__ = ["REDIS_SERVER", "PrivateRedis", "api_log", "live_api"]


@contextmanager
def live_api(settings: Settings, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """The API on a free port with `settings` plus DOCPARSE_* `env`; yields its base URL and process."""
    port = free_port()
    log_path = api_log(settings, f"http://127.0.0.1:{port}")
    full_env = {**settings_env(settings), "DOCPARSE_PORT": str(port), "DOCPARSE_HOST": "127.0.0.1", **env}
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "docparse.cli", "api"], env=full_env, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log_path.read_text()[-2000:]
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def api_log(settings: Settings, base: str) -> Path:
    """Where the API that `live_api` started at `base` writes its log."""
    return Path(settings.storage_dir).parent / f"api-{base.rsplit(':', 1)[1]}.log"


class PrivateRedis:
    """A redis-server of the test's own on a free port, which the test may stop, freeze and start again."""

    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.data = data
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = start_redis(self.port, data)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)

    def start(self) -> None:
        self.process = start_redis(self.port, self.data)

    def freeze(self) -> None:
        """Stopped, not dead: connections are accepted by the kernel and never answered."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.thaw()
            self.process.kill()
            self.process.wait(20)
