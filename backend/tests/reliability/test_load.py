"""Load: many uploads from many concurrent clients on loopback — none lost, no server error, every job ends."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import httpx
import pytest

from tests.documents import make_pdf
from tests.reliability.stack import Stack, scaled

pytestmark = pytest.mark.reliability


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else values[0]


def test_uploads_from_many_clients(tmp_path: Path) -> None:
    uploads, clients = scaled(300, 2000), scaled(25, 50)
    stack = Stack(tmp_path, workers=2, max_queued=100_000)
    pdf = make_pdf(tmp_path / "one.pdf", pages=1).read_bytes()
    upload_ms: list[float] = []
    status_ms: list[float] = []
    codes: dict[int, int] = {}

    async def client_loop(client: httpx.AsyncClient, share: int, ids: list[str]) -> None:
        for _ in range(share):
            started = time.perf_counter()
            response = await client.post(f"{stack.url}/upload", files={"file": ("one.pdf", pdf)})
            upload_ms.append((time.perf_counter() - started) * 1000)
            codes[response.status_code] = codes.get(response.status_code, 0) + 1
            if response.status_code == 202:
                job_id = response.json()["job_id"]
                ids.append(job_id)
                started = time.perf_counter()
                status = await client.get(f"{stack.url}/jobs/{job_id}")
                status_ms.append((time.perf_counter() - started) * 1000)
                codes[status.status_code] = codes.get(status.status_code, 0) + 1

    async def run() -> tuple[list[str], float]:
        ids: list[str] = []
        limits = httpx.Limits(max_connections=clients)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            started = time.perf_counter()
            await asyncio.gather(*(client_loop(client, uploads // clients, ids) for _ in range(clients)))
            return ids, time.perf_counter() - started

    try:
        ids, upload_seconds = asyncio.run(run())
        started = time.perf_counter()
        with httpx.Client(timeout=30) as client:
            done = stack.wait_terminal(client, ids, timeout=600)
        total = upload_seconds + time.perf_counter() - started
        sent = uploads // clients * clients
        assert not [c for c in codes if c >= 500], codes
        assert len(ids) == sent, f"{sent - len(ids)} uploads refused: {codes}"
        assert {s["status"] for s in done.values()} == {"completed"}, [
            s for s in done.values() if s["status"] != "completed"
        ][:3]
        print(
            f"\n{sent} uploads from {clients} clients: all completed in {total:.1f} s ({sent / total:.0f} jobs/s); "
            f"upload p50 {statistics.median(upload_ms):.1f} ms, p99 {p99(upload_ms):.1f} ms; "
            f"status p50 {statistics.median(status_ms):.1f} ms, p99 {p99(status_ms):.1f} ms"
        )
    finally:
        stack.close()
