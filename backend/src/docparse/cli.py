"""The `docparse` command: run the API, a worker, or both together for development."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from docparse.settings import get_settings


def run_api() -> None:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "docparse.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,  # our logging setup (docparse.logs) formats uvicorn's lines too
        timeout_graceful_shutdown=5,
    )


def run_worker() -> None:
    from docparse.jobs.worker import main

    main(get_settings())


RESTART_DELAY = 1.0  # seconds before a dead process is started again; doubles with each death in a row
MAX_RESTART_DELAY = 30.0
STABLE_AFTER = 60.0  # seconds up after which a process's earlier deaths are forgotten
MAX_FAILURES = 5  # deaths in a row, each within STABLE_AFTER of its start, after which dev gives up


def _say(message: str) -> None:
    print(f"docparse: {message}", file=sys.stderr, flush=True)


@dataclass
class Supervised:
    """One process of `docparse dev`: started again with backoff whenever it dies."""

    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    failures: int = 0  # deaths in a row, each soon after its start
    restart_at: float = 0.0  # when to start it again, while `process` is None

    def start(self) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(self.command)
        self.started = time.monotonic()
        return self.process

    def check(self, now: float) -> bool:
        """Restart it when its time has come, note its death; False when it keeps dying and dev should stop."""
        if self.process is None:
            if now >= self.restart_at:
                _say(f"{self.name} started again (pid {self.start().pid}).")
            return True
        code = self.process.poll()
        up = now - self.started
        if code is None:
            if up >= STABLE_AFTER:
                self.failures = 0
            return True
        self.failures = self.failures + 1 if up < STABLE_AFTER else 1
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with {code}"
        if self.failures >= MAX_FAILURES:
            _say(
                f"{self.name} (pid {self.process.pid}) {how}: {self.failures} deaths in a row, each within"
                f" {STABLE_AFTER:g} s of its start. Stopping everything; the lines above should say why."
            )
            return False
        delay = min(RESTART_DELAY * 2 ** (self.failures - 1), MAX_RESTART_DELAY)
        _say(f"{self.name} (pid {self.process.pid}) {how}; starting it again in {delay:g} s.")
        self.process, self.restart_at = None, now + delay
        return True


def run_dev() -> int:
    """The API and DOCPARSE_WORKERS workers as child processes, in the foreground. One that dies is started again
    (after 1 s, doubling to 30 s while it keeps dying soon after its start); Ctrl-C or SIGTERM stops them all, as
    does a process that died MAX_FAILURES times in a row (exit code 1)."""
    settings = get_settings()
    me = [sys.executable, "-m", "docparse.cli"]
    children = [Supervised("API", [*me, "api"])]
    children += [Supervised(f"worker {i}", [*me, "worker"]) for i in range(1, settings.workers + 1)]
    for child in children:
        child.start()
    _say(f"API on http://{settings.host}:{settings.port}/ with {settings.workers} worker(s); Ctrl-C stops.")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        now = time.monotonic()
        if not all(child.check(now) for child in children):
            code, stopping = 1, True
        time.sleep(0.2)
    running = [c.process for c in children if c.process is not None and c.process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return code


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="docparse", description=__doc__)
    parser.add_argument("command", choices=["api", "worker", "dev"])
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if args.command == "api":
        run_api()
    elif args.command == "worker":
        run_worker()
    else:
        sys.exit(run_dev())


if __name__ == "__main__":
    main()
