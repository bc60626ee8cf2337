"""`docparse dev` as users run it, in a real process tree: a worker killed with SIGKILL is started again while the API
keeps answering and the queue keeps moving; SIGTERM stops every process it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from docparse.settings import Settings
from tests.conftest import settings_env
from tests.documents import make_pdf
from tests.test_live_server import free_port

BACKEND = Path(__file__).parents[1]


def children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except FileNotFoundError:
            pass
    return found


def descendants(pid: int) -> set[int]:
    found = set(children(pid))
    for child in list(found):
        found |= descendants(child)
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie may wait for a container's init that never reaps)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def workers(dev: subprocess.Popen[bytes]) -> list[int]:
    return [p for p in children(dev.pid) if Path(f"/proc/{p}/cmdline").read_bytes().endswith(b"\0worker\0")]


def wait_until(condition: Callable[[], bool], dev: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert dev.poll() is None, f"docparse dev exited with {dev.returncode} while waiting until {what}"
        assert time.monotonic() < deadline, f"gave up waiting until {what}"
        time.sleep(0.1)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_dev_starts_a_killed_worker_again_and_sigterm_stops_everything(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    env = {**settings_env(settings), "DOCPARSE_PORT": str(port), "DOCPARSE_HOST": "127.0.0.1", "DOCPARSE_WORKERS": "2"}
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "dev.log"
    with open(log_path, "wb") as log:
        dev = subprocess.Popen([sys.executable, "-m", "docparse.cli", "dev"], env=env, stderr=log, cwd=BACKEND)
    try:
        wait_until(lambda: answers(f"{base}/health") and len(workers(dev)) == 2, dev, "the API and 2 workers run")
        wait_until(lambda: httpx.get(f"{base}/ready").json()["workers"] == 2, dev, "both workers report in")
        victim = workers(dev)[0]
        before = descendants(dev.pid)  # the victim's parse process too: it must go when its worker goes

        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: victim not in workers(dev) and len(workers(dev)) == 2, dev, "a new worker replaces it")
        assert answers(f"{base}/health")
        pdf = make_pdf(tmp_path / "a.pdf", pages=2)
        job_id = httpx.post(f"{base}/upload", files={"file": ("a.pdf", pdf.read_bytes())}).json()["job_id"]
        wait_until(
            lambda: httpx.get(f"{base}/jobs/{job_id}").json()["status"] == "completed", dev, "a new job completes"
        )
        assert "was killed by SIGKILL; starting it again in 1 s" in log_path.read_text()

        started = before | descendants(dev.pid)
        dev.send_signal(signal.SIGTERM)
        assert dev.wait(timeout=30) == 0
        deadline = time.monotonic() + 30
        while left := [pid for pid in started if running(pid)]:
            assert time.monotonic() < deadline, f"processes left after SIGTERM: {left}"
            time.sleep(0.1)
    finally:
        for pid in descendants(dev.pid):
            os.kill(pid, signal.SIGKILL)
        dev.kill()
        dev.wait()


def test_dev_gives_up_on_a_process_that_keeps_dying(settings: Settings, tmp_path: Path) -> None:
    """The API cannot bind its port: it dies at every start, and dev stops (exit 1) after 5 tries, 1+2+4+8 s apart."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**settings_env(settings), "DOCPARSE_PORT": str(port), "DOCPARSE_HOST": "127.0.0.1"}
        env["DOCPARSE_WORKERS"] = "1"
        log_path = tmp_path / "dev.log"
        with open(log_path, "wb") as log:
            dev = subprocess.Popen([sys.executable, "-m", "docparse.cli", "dev"], env=env, stderr=log, cwd=BACKEND)
        try:
            started: set[int] = set()
            deadline = time.monotonic() + 120
            while dev.poll() is None:
                started |= descendants(dev.pid)
                assert time.monotonic() < deadline, "dev kept restarting the API"
                time.sleep(0.1)
        finally:
            dev.kill()
    text = log_path.read_text()
    assert dev.returncode == 1, text[-3000:]
    assert text.count("API (pid") == 5 and "5 deaths in a row" in text and "Stopping everything" in text
    assert [pid for pid in started if running(pid)] == []
