"""Faults injected into a running service: workers and parse processes killed, workers stopped, Redis
restarted. Nothing accepted may be lost, and every job must end with a correct result."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.documents import make_pdf, page_words
from tests.reliability.stack import Stack, scaled

pytestmark = pytest.mark.reliability


def check_complete(stack: Stack, client: httpx.Client, job_id: str, pages: int) -> None:
    result = client.get(f"{stack.url}/jobs/{job_id}/result")
    assert result.status_code == 200, result.text
    parsed = result.json()["result"]["pages"]
    assert [p["number"] for p in parsed] == list(range(1, pages + 1))
    assert all(page_words(p["number"]) in p["text"] for p in parsed)


def test_killed_workers_and_parse_processes_lose_nothing(tmp_path: Path) -> None:
    jobs, pages, kills = scaled(6, 16), 30, scaled(6, 20)
    stack = Stack(tmp_path, workers=2, slow_page=0.03)
    rng = random.Random(7)
    try:
        pdf = make_pdf(tmp_path / "doc.pdf", pages=pages).read_bytes()
        with httpx.Client(timeout=30) as client:
            ids = [stack.upload(client, f"doc{i}.pdf", pdf).json()["job_id"] for i in range(jobs)]
            injected = {"worker": 0, "parse process": 0}
            for n in range(kills):
                time.sleep(rng.uniform(0.3, 0.8))
                live = [w for w in stack.workers if w.poll() is None]
                if n % 2:  # a parse process: of a worker that has one right now
                    deadline = time.monotonic() + 3
                    while not (busy := [c for w in live for c in stack.children_of(w.pid)]):
                        assert time.monotonic() < deadline, "no parse process to kill"
                        time.sleep(0.05)
                    os.kill(rng.choice(busy), signal.SIGKILL)
                    injected["parse process"] += 1
                else:
                    os.kill(rng.choice(live).pid, signal.SIGKILL)
                    stack.add_worker()
                    injected["worker"] += 1
            started = time.monotonic()
            done = stack.wait_terminal(client, ids, timeout=240)
            print(f"\nfaults injected: {injected}; all {jobs} jobs ended {time.monotonic() - started:.1f} s later")
            assert {s["status"] for s in done.values()} == {"completed"}, [s for s in done.values()
                                                                           if s["status"] != "completed"]  # fmt: skip
            for job_id in ids:
                check_complete(stack, client, job_id, pages)
            attempts = sorted(s["attempts"] for s in done.values())
            print(f"attempts per job: {attempts}")
    finally:
        stack.close()


def test_sigterm_requeues_the_job_and_it_resumes(tmp_path: Path) -> None:
    pages = 40
    stack = Stack(tmp_path, workers=1, slow_page=0.1)
    try:
        with httpx.Client(timeout=30) as client:
            job_id = stack.upload(client, "doc.pdf", make_pdf(tmp_path / "d.pdf", pages=pages).read_bytes()).json()[
                "job_id"
            ]
            while client.get(f"{stack.url}/jobs/{job_id}").json()["pages_done"] < 10:
                time.sleep(0.05)
            first = stack.workers[0]
            first.send_signal(signal.SIGTERM)
            first.wait(15)
            stopped_at = time.time()
            after_stop = client.get(f"{stack.url}/jobs/{job_id}").json()
            assert after_stop["status"] == "queued", after_stop  # back in the queue, not lost
            stored = sorted(stack.settings.storage_dir.glob(f"jobs/{job_id}/pages/*.json"))
            kept = len(stored)
            assert kept >= 10
            stack.add_worker()
            done = stack.wait_terminal(client, [job_id], timeout=60)[job_id]
            assert done["status"] == "completed" and done["attempts"] == 2, done
            check_complete(stack, client, job_id, pages)
            # It resumed: the pages stored before the stop were not parsed again.
            rewritten = [p for p in stored if p.stat().st_mtime > stopped_at]
            assert not rewritten, f"{len(rewritten)} of {kept} pages were parsed twice"
            print(f"\nSIGTERM after {kept} pages: re-queued, resumed at page {kept + 1} on the next worker")
    finally:
        stack.close()


def test_redis_restart_loses_no_queued_job(tmp_path: Path) -> None:
    jobs, pages = scaled(8, 20), 20
    stack = Stack(tmp_path, workers=1, slow_page=0.05)
    try:
        pdf = make_pdf(tmp_path / "doc.pdf", pages=pages).read_bytes()
        with httpx.Client(timeout=30) as client:
            ids = [stack.upload(client, f"d{i}.pdf", pdf).json()["job_id"] for i in range(jobs)]
            while client.get(f"{stack.url}/jobs/{ids[0]}").json()["pages_done"] < 3:
                time.sleep(0.05)
            stack.stop_redis()
            down = client.get(f"{stack.url}/ready")
            assert down.status_code == 503 and down.json()["redis"] is False
            time.sleep(2)
            stack.start_redis()
            stack.wait_ready(timeout=60)  # API and worker reconnected by themselves
            done = stack.wait_terminal(client, ids, timeout=180)
            assert {s["status"] for s in done.values()} == {"completed"}, done
            for job_id in ids:
                check_complete(stack, client, job_id, pages)
            assert all(w.poll() is None for w in stack.workers), "a worker died of the outage"
    finally:
        stack.close()
