"""The whole service as separate processes — a private redis-server (AOF on), the API under uvicorn, worker
processes — so faults can be injected into any of them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import redis

from docparse.settings import Settings
from tests.conftest import make_settings, settings_env
from tests.test_live_server import free_port

BACKEND = Path(__file__).resolve().parents[2]
SCALE = os.environ.get("DOCPARSE_RELIABILITY", "quick")  # "full" for `just reliability`


def scaled(quick: int, full: int) -> int:
    return full if SCALE == "full" else quick


class Stack:
    def __init__(self, tmp: Path, *, workers: int = 1, slow_page: float | None = None, **overrides: object) -> None:
        self.tmp = tmp
        self.redis_port = free_port()
        self.redis_dir = tmp / "redis"
        self.redis_dir.mkdir()
        self.redis_process: subprocess.Popen | None = None
        self.start_redis()
        defaults: dict[str, object] = {"heartbeat": 3, "sweep_interval": 1, "retries": 10}
        self.settings: Settings = make_settings(
            tmp, redis_url=f"redis://127.0.0.1:{self.redis_port}/0", **{**defaults, **overrides}
        )
        self.env = settings_env(self.settings)
        for name in (
            "heartbeat",
            "sweep_interval",
            "retries",
            "max_pages",
            "max_queued",
            "job_timeout",
            "child_max_jobs",
            "page_timeout",
        ):
            self.env[f"DOCPARSE_{name.upper()}"] = str(getattr(self.settings, name))
        self.slow_page = slow_page
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api = self._spawn([sys.executable, "-m", "docparse.cli", "api"], "api",
                               DOCPARSE_PORT=str(self.port), DOCPARSE_HOST="127.0.0.1")  # fmt: skip
        self.workers: list[subprocess.Popen] = []
        try:
            for _ in range(workers):
                self.add_worker()
            self.wait_ready()
        except BaseException:  # a stack that never became ready must not outlive the test
            self.close()
            raise

    # --- processes ---

    def _spawn(self, command: list[str], name: str, **env: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}-{uuid.uuid4().hex[:6]}.log", "wb")  # noqa: SIM115  (lives with the process)
        return subprocess.Popen(command, env={**self.env, **env}, stderr=log, stdout=log, cwd=BACKEND,
                                start_new_session=True)  # fmt: skip

    def add_worker(self) -> subprocess.Popen:
        if self.slow_page is None:
            command = [sys.executable, "-m", "docparse.cli", "worker"]
            extra = {}
        else:
            command = [sys.executable, "-m", "tests.jobs.slow_worker"]
            extra = {"DOCPARSE_TEST_SLOW_PAGE": str(self.slow_page)}
        worker = self._spawn(command, "worker", **extra)
        self.workers.append(worker)
        return worker

    def start_redis(self) -> None:
        self.redis_process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--dir", str(self.redis_dir), "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.redis_port)
        for _ in range(200):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop_redis(self) -> None:
        assert self.redis_process is not None
        self.redis_process.terminate()
        self.redis_process.wait(20)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError("the stack did not become ready")

    def children_of(self, pid: int) -> list[int]:
        out = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
        return out

    def wait_warm_children(self, pid: int, count: int, timeout: float = 120) -> list[int]:
        """Wait until `pid` has exactly `count` children, each one a parse process that finished starting and
        waits for work. A busy machine may take many seconds to start one."""
        deadline = time.monotonic() + timeout
        while True:
            children = self.children_of(pid)
            if len(children) == count and all(self.reading_stdin(c) for c in children):
                return children
            assert time.monotonic() < deadline, f"{pid} has children {children}, not {count} waiting for work"
            time.sleep(0.1)

    @staticmethod
    def reading_stdin(pid: int) -> bool:
        """Whether `pid` is blocked in read(2) on its stdin, from the kernel's /proc/<pid>/syscall."""
        try:
            number, fd = Path(f"/proc/{pid}/syscall").read_text().split()[:2]
        except (OSError, ValueError):  # gone, or running (no syscall to show)
            return False
        return fd == "0x0" and number in ("0", "63")  # read's number on x86-64 and on arm64

    def rss_mb(self, pid: int) -> float:
        """Resident memory of a process and its children, in MiB."""
        total = 0
        for p in [pid, *self.children_of(pid)]:
            try:
                for line in Path(f"/proc/{p}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def close(self) -> None:
        for process in [self.api, *self.workers]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [self.api, *self.workers]:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self.redis_process and self.redis_process.poll() is None:
            self.redis_process.kill()
            self.redis_process.wait()

    # --- client helpers ---

    def upload(self, client: httpx.Client, name: str, data: bytes, **fields: str) -> httpx.Response:
        return client.post(f"{self.url}/upload", files={"file": (name, data)}, data=fields)

    def wait_terminal(self, client: httpx.Client, job_ids: list[str], timeout: float) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        pending, done = set(job_ids), {}
        while pending:
            assert time.monotonic() < deadline, f"{len(pending)} jobs never ended, e.g. " + str(
                client.get(f"{self.url}/jobs/{next(iter(pending))}").json()
            )
            for job_id in list(pending):
                status = client.get(f"{self.url}/jobs/{job_id}").json()
                if status["status"] in ("completed", "failed", "cancelled"):
                    done[job_id] = status
                    pending.discard(job_id)
            time.sleep(0.1)
        return done
