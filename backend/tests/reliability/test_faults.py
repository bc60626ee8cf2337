"""Faults injected into a running service: workers and parse processes killed, workers stopped, Redis
restarted. Nothing accepted may be lost, and every job must end with a correct result."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import stored_page_numbers
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
                if n % 2:  # a parse process: of a worker that has one right now
                    # Right after a kill every worker may still be starting its parse processes (PyMuPDF's
                    # import takes seconds on a busy machine): wait for one, with a generous deadline.
                    deadline = time.monotonic() + 120
                    while not (running := [c for w in stack.workers if w.poll() is None
                                           for c in stack.children_of(w.pid)]):  # fmt: skip
                        assert time.monotonic() < deadline, "no parse process to kill"
                        time.sleep(0.05)
                    os.kill(rng.choice(running), signal.SIGKILL)
                    injected["parse process"] += 1
                else:
                    live = [w for w in stack.workers if w.poll() is None]
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


def test_cancels_racing_the_parse_process_start_leave_no_process_behind(tmp_path: Path) -> None:
    """Upload a 3-page PDF and cancel it the moment it leaves `queued`, again and again. Each cancel stops the
    parse process mid-document, so the next job needs a fresh one, and its cancel lands while that one starts.
    Such a cancel used to leave the starting process (~150 MB) running until the worker exited (its children
    went 4->3->4->5->6->7). Afterwards the worker has its configured number of parse processes, no more."""
    races = scaled(10, 200)
    stack = Stack(tmp_path, workers=1, slow_page=0.2)
    try:
        pdf = make_pdf(tmp_path / "three.pdf", pages=3).read_bytes()
        worker, size = stack.workers[0], stack.settings.worker_concurrency
        stack.wait_warm_children(worker.pid, size)
        counts, ids = [], []
        with httpx.Client(timeout=30) as client:
            for _ in range(races):
                job_id = stack.upload(client, "three.pdf", pdf).json()["job_id"]
                ids.append(job_id)
                deadline = time.monotonic() + 120
                while client.get(f"{stack.url}/jobs/{job_id}").json()["status"] == "queued":
                    assert time.monotonic() < deadline, "the job never left the queue"
                    time.sleep(0.005)
                client.post(f"{stack.url}/jobs/{job_id}/cancel")
                counts.append(len(stack.children_of(worker.pid)))
            done = stack.wait_terminal(client, ids, timeout=300)
        ended = [s["status"] for s in done.values()]
        assert set(ended) <= {"cancelled", "completed"}, done
        stack.wait_warm_children(worker.pid, size)  # leaked processes never go: this would time out
        assert worker.poll() is None
        print(f"\n{races} cancels ({ended.count('cancelled')} cancelled, {ended.count('completed')} completed first):"
              f" parse processes {min(counts)}-{max(counts)} during, {size} after (configured {size})")  # fmt: skip
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
            first.wait(60)
            logs_before = {p: p.read_text() for p in tmp_path.glob("worker-*.log")}
            after_stop = client.get(f"{stack.url}/jobs/{job_id}").json()
            # Back in the queue, not lost: the job itself, or its chunks (the job then stays "processing")
            assert after_stop["status"] in ("queued", "processing"), after_stop
            kept = len(stored_page_numbers(stack.settings, job_id))
            assert kept >= 10
            stack.add_worker()
            done = stack.wait_terminal(client, [job_id], timeout=60)[job_id]
            assert done["status"] == "completed", done
            check_complete(stack, client, job_id, pages)
            # It resumed: the pages stored before the stop were not parsed again.
            parsed_after = sum(
                json.loads(line).get("pages_parsed", 0)
                for p in tmp_path.glob("worker-*.log")
                for line in p.read_text()[len(logs_before.get(p, "")) :].splitlines()
                if job_id in line and ('"unit finished"' in line or '"parse finished"' in line)
            )
            assert parsed_after == pages - kept, f"{parsed_after} pages parsed after the stop; {kept} were stored"
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
