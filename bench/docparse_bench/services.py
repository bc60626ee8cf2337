"""A private copy of the service: its own redis-server, API and worker processes on free ports, a temp storage dir.

The service runs from the backend's own environment (backend/.venv, what `uv run docparse ...` uses), so what is
measured is the service as shipped; the harness itself (client, in-process peers) runs from bench/.venv.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import redis

from docparse_bench import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BACKEND = [REPO / "backend"]  # `--backend DIR` benchmarks another copy (e.g. a scratch copy with a fix to try)
EXTRA_ENV: dict[str, str] = {}  # `--env NAME=VALUE`: a setting to try, for every service process


def backend_python() -> str:
    """The interpreter of backend/.venv (created by `uv sync --frozen` in backend/, which `just bench` runs)."""
    python = BACKEND[0] / ".venv" / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"{python} is missing: run `cd {BACKEND[0]} && uv sync --frozen` (or `just bench`)")
    return str(python)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def psutil(self) -> psutil.Process:
        return psutil.Process(self.popen.pid)

    def tree(self) -> list[psutil.Process]:
        """The process and its descendants (a worker's warm parse child)."""
        try:
            me = self.psutil()
            return [me, *me.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                # kill the process and its own children (the worker's parse child), by pid
                for p in reversed(self.tree()):
                    try:
                        p.kill()
                    except psutil.NoSuchProcess:
                        pass
                self.popen.wait()

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


@dataclass
class Service:
    """redis-server + API + workers, all private to this run."""

    workdir: Path
    queue: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")
    redis_port: int = 0
    api_port: int = 0
    redis_proc: Proc | None = None
    api: Proc | None = None
    workers: list[Proc] = field(default_factory=list)
    env_overrides: dict[str, str] = field(default_factory=dict)
    helpers: dict[str, int] = field(default_factory=dict)  # role -> pid of a process the service needs (SeaweedFS)

    @classmethod
    def create(cls, env_overrides: dict[str, str] | None = None) -> Service:
        base = Path(tempfile.mkdtemp(prefix="docparse-bench-"))
        return cls(workdir=base, env_overrides=env_overrides or {})

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def storage_dir(self) -> Path:
        return self.workdir / "storage"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCPARSE_", "VIRTUAL_ENV", "UV_"))}
        env.pop("REDIS_URL", None)
        env.update(
            REDIS_URL=self.redis_url,
            DOCPARSE_QUEUE_NAME=self.queue,
            DOCPARSE_STORAGE_DIR=str(self.storage_dir),
            DOCPARSE_HOST="127.0.0.1",
            DOCPARSE_PORT=str(self.api_port),
            DOCPARSE_WORKER_CONCURRENCY="1",
            DOCPARSE_MAX_UPLOAD_MB="2048",  # figure 7 sends 1 GiB (the default limit is exactly 1 GiB)
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env_overrides)
        env.update(EXTRA_ENV)
        return env

    # --- lifecycle ---

    def start_redis(self) -> None:
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.redis_port = free_port()
        rdir = self.workdir / "redis"
        rdir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "redis.log"
        popen = subprocess.Popen(
            [exe, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(rdir), "--save", "",
             "--appendonly", "no", "--logfile", str(log), "--daemonize", "no"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.redis_proc = Proc("redis", popen, log)
        client = self.redis()
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or popen.poll() is not None:
                    raise RuntimeError(f"redis-server did not start: {self.redis_proc.log_tail()}") from None
                time.sleep(0.05)
        client.close()

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    def _spawn(self, name: str, command: str) -> Proc:
        log = self.workdir / f"{name}.log"
        with open(log, "wb") as f:
            popen = subprocess.Popen(
                [backend_python(), "-m", "docparse.cli", command],
                cwd=BACKEND[0], env=self.env(), stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
            )  # fmt: skip
        return Proc(name, popen, log)

    def start_api(self) -> None:
        import urllib.request

        self.api_port = self.api_port or free_port()
        self.api = self._spawn("api", "api")
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or not self.api.alive():
                raise RuntimeError(f"API did not start:\n{self.api.log_tail()}")
            time.sleep(0.1)

    def reported_workers(self) -> set[bytes]:
        """SAQ's worker_info keys that workers wrote (a worker writes its own once it has started)."""
        client = self.redis()
        try:
            return set(client.zrange(f"saq:{self.queue}:stats", 0, -1))
        finally:
            client.close()

    def start_workers(self, count: int) -> list[Proc]:
        """Start `count` more workers and wait until each has its warm parse child and has reported in."""
        known = self.reported_workers()
        self._spawned = getattr(self, "_spawned", 0)
        new = []
        for _ in range(count):
            self._spawned += 1
            new.append(self._spawn(f"worker{self._spawned}", "worker"))
        self.workers.extend(new)
        deadline = time.monotonic() + 90
        while True:
            fresh = len(self.reported_workers() - known)
            ready = fresh >= count and all(len(w.tree()) >= 2 for w in new)
            if ready:
                return new
            for w in new:
                if not w.alive():
                    raise RuntimeError(f"{w.name} exited:\n{w.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not report in within 90 s")
            time.sleep(0.05)

    def stop_worker(self, worker: Proc) -> None:
        worker.stop()
        self.workers.remove(worker)

    def stop(self, keep: bool = False) -> None:
        for p in [*self.workers, self.api]:
            if p is not None:
                p.stop()
        self.workers.clear()
        if self.redis_proc is not None:
            self.redis_proc.stop()
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def processes(self) -> dict[str, list[psutil.Process]]:
        """Every process of the service, by role, for CPU accounting."""
        out: dict[str, list[psutil.Process]] = {}
        if self.api:
            out["api"] = self.api.tree()
        for w in self.workers:
            tree = w.tree()
            out.setdefault("worker", []).extend(tree[:1])
            out.setdefault("parse child", []).extend(tree[1:])
        if self.redis_proc:
            out["redis"] = self.redis_proc.tree()
        for role, pid in self.helpers.items():
            try:
                me = psutil.Process(pid)
                out[role] = [me, *me.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        return out


class RssSampler:
    """Samples the summed RSS of some processes (re-listed each time, so new children count) in a thread."""

    def __init__(self, procs: callable, interval: float = 0.01) -> None:  # type: ignore[valid-type]
        self._procs = procs
        self.interval = interval
        self.samples: list[tuple[float, int, dict[int, int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        per: dict[int, int] = {}
        for p in self._procs():
            try:
                per[p.pid] = p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        self.samples.append((time.perf_counter(), sum(per.values()), per))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def baseline(self) -> int:
        return self.samples[0][1]

    @property
    def peak(self) -> int:
        return max(s[1] for s in self.samples)

    def peak_of(self, pid: int) -> int:
        return max((s[2].get(pid, 0) for s in self.samples), default=0)


class CpuMeter:
    """CPU seconds used by each role of the service (and this harness) between start() and stop(), and by the rest
    of the machine (other people's processes: the benchmark's noise)."""

    def __init__(self, service: Service | None) -> None:
        self.service = service
        self.me = psutil.Process()

    @staticmethod
    def _cpu(procs: Iterable[psutil.Process]) -> dict[int, float]:
        out = {}
        for p in procs:
            try:
                t = p.cpu_times()
                out[p.pid] = t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return out

    def _snapshot(self) -> dict[str, dict[int, float]]:
        procs = self.service.processes() if self.service else {}
        snap = {role: self._cpu(p) for role, p in procs.items()}
        snap["bench client"] = self._cpu([self.me])
        return snap

    @staticmethod
    def _machine_busy() -> float:
        t = psutil.cpu_times()
        return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0) + getattr(t, "steal", 0)

    def __enter__(self) -> CpuMeter:
        self.t0 = time.perf_counter()
        self.before = self._snapshot()
        self.busy0 = self._machine_busy()
        return self

    def __exit__(self, *exc: object) -> None:
        self.after = self._snapshot()
        self.busy = self._machine_busy() - self.busy0
        self.wall = time.perf_counter() - self.t0

    def foreign_cores(self) -> float:
        """Average number of cores that processes other than ours (service and harness) kept busy meanwhile."""
        return max(0.0, (self.busy - sum(self.by_role().values())) / self.wall)

    def by_role(self) -> dict[str, float]:
        """CPU seconds per role (a child that was replaced in between counts from zero)."""
        out = {}
        for role, after in self.after.items():
            before = self.before.get(role, {})
            out[role] = sum(v - before.get(pid, 0.0) for pid, v in after.items())
        return out


class RedisMeter:
    """Read events and commands the service's Redis counted between enter and exit (INFO stats), less the meter's
    own INFO.

    total_reads_processed counts read events: one per request or pipeline a client sends (its commands arrive
    together), one more for each part of a request too big for one read, and one when a client closes its
    connection. total_commands_processed counts every command, those run by a Lua script or inside MULTI included.
    Everyone's: what the harness itself sends is for the caller to count and take off.
    """

    def __init__(self, service: Service) -> None:
        self.service = service

    def _stats(self) -> tuple[int, int]:
        info = self.client.info("stats")
        return info["total_reads_processed"], info["total_commands_processed"]

    def __enter__(self) -> RedisMeter:
        self.client = self.service.redis()
        self.before = self._stats()  # the connection's handshake is read before this INFO: counted in `before`
        return self

    def __exit__(self, *exc: object) -> None:
        after = self._stats()
        self.client.close()  # its close is read after `after`
        # the second INFO's read counts in `after` (Redis counts a read before serving it), the first INFO's
        # command does too (Redis counts a command once served)
        self.reads = after[0] - self.before[0] - 1
        self.commands = after[1] - self.before[1] - 1
