"""Memory: many documents through one worker; its resident memory (with its parse process) stays flat, because
parse processes are replaced after DOCPARSE_CHILD_MAX_JOBS jobs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.documents import make_pdf
from tests.reliability.stack import Stack, scaled

pytestmark = pytest.mark.reliability


def test_worker_memory_stays_flat(tmp_path: Path) -> None:
    documents = scaled(150, 500)
    stack = Stack(tmp_path, workers=1, child_max_jobs=60, max_queued=100_000)
    try:
        pdfs = [make_pdf(tmp_path / f"d{i}.pdf", pages=5 + i % 20).read_bytes() for i in range(10)]
        worker = stack.workers[0]
        samples: list[float] = []
        with httpx.Client(timeout=60) as client:
            batch = 50
            for start in range(0, documents, batch):
                ids = [
                    stack.upload(client, "d.pdf", pdfs[i % 10]).json()["job_id"] for i in range(start, start + batch)
                ]
                done = stack.wait_terminal(client, ids, timeout=300)
                assert {s["status"] for s in done.values()} == {"completed"}
                # A parse process replaced after its last job may still be starting: sample once it is warm.
                stack.wait_warm_children(worker.pid, 1)
                samples.append(stack.rss_mb(worker.pid))
        print(f"\nworker + parse process RSS (MiB) after each {batch} documents: {[round(s) for s in samples]}")
        warm = samples[1] if len(samples) > 2 else samples[0]
        assert max(samples[1:]) - warm < 60, samples
    finally:
        stack.close()
