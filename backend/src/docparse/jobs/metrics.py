"""Service-wide counters kept in Redis, so every worker and API process adds to the same figures."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import cast

from redis.asyncio import Redis

PARSE_SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


def metrics_key(queue_name: str) -> str:
    return f"docparse:{queue_name}:metrics"


def upload_counts(size: int) -> dict[str, int]:
    """What one accepted upload adds to the counters (RecordStore.admit adds them with the job's record)."""
    return {"uploads": 1, "upload_bytes": size}


async def count_upload(redis: Redis, queue_name: str, size: int, *, undo: bool = False) -> None:
    """Count an accepted upload, or (`undo`) take back the count of one that ended up refused after all."""
    sign = -1 if undo else 1
    async with redis.pipeline(transaction=False) as pipe:
        for name, amount in upload_counts(size).items():
            pipe.hincrby(metrics_key(queue_name), name, sign * amount)
        await pipe.execute()


def finished_counts(*, status: str, pages_parsed: int, pages_failed: int, seconds: float) -> dict[str, int | float]:
    """What one ended job adds to the counters: its outcome, its pages, its parse time into the histogram's
    buckets. (A worker adds them in the same step that writes the ending: see records.transition.)"""
    counts: dict[str, int | float] = {
        f"jobs:{status}": 1, "pages_parsed": pages_parsed, "pages_failed": pages_failed,
        "parse_seconds_sum": float(seconds), "parse_seconds_count": 1,
    }  # fmt: skip
    # One bucket per job, the smallest that holds it (read_snapshot adds them up as Prometheus wants): fifteen
    # increments a job were a fifth of Redis's commands for a small one.
    bound = next((b for b in PARSE_SECONDS_BUCKETS if seconds <= b), None)
    if bound is not None:
        counts[f"parse_seconds_in:{bound}"] = 1
    return counts


@dataclass
class Snapshot:
    jobs_finished: dict[str, int] = field(default_factory=dict)
    pages_parsed: int = 0
    pages_failed: int = 0
    parse_seconds_sum: float = 0.0
    parse_seconds_count: int = 0
    parse_seconds_buckets: list[tuple[float, int]] = field(default_factory=list)  # cumulative, as Prometheus wants
    uploads: int = 0
    upload_bytes: int = 0
    queued: int = 0
    active: int = 0
    workers: int = 0


async def read_snapshot(redis: Redis, queue_name: str) -> Snapshot:
    # redis-py types its commands for the sync and async clients at once (X | Awaitable[X]); this one is async
    counters = await cast(Awaitable[dict[bytes, bytes]], redis.hgetall(metrics_key(queue_name)))
    raw = {k.decode(): v.decode() for k, v in counters.items()}
    snap = Snapshot(
        jobs_finished={k.removeprefix("jobs:"): int(v) for k, v in raw.items() if k.startswith("jobs:")},
        pages_parsed=int(raw.get("pages_parsed", 0)),
        pages_failed=int(raw.get("pages_failed", 0)),
        parse_seconds_sum=float(raw.get("parse_seconds_sum", 0)),
        parse_seconds_count=int(raw.get("parse_seconds_count", 0)),
        uploads=int(raw.get("uploads", 0)),
        upload_bytes=int(raw.get("upload_bytes", 0)),
    )
    # Cumulative: the jobs in this bucket and every smaller one, plus what older versions counted cumulatively.
    below = 0
    for bound in PARSE_SECONDS_BUCKETS:
        below += int(raw.get(f"parse_seconds_in:{bound}", 0))
        snap.parse_seconds_buckets.append((bound, below + int(raw.get(f"parse_seconds_le:{bound}", 0))))
    return snap
