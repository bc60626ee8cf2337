"""A worker process: a SAQ Worker on the parse queue, with warm parse processes and our outcome hook."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from saq import Worker

from docparse.jobs.queue import PARSE_FUNCTION, create_queue
from docparse.jobs.records import RecordStore
from docparse.jobs.runner import CHILD_COMMAND, ChildPool
from docparse.jobs.tasks import WorkerDeps, parse_document, record_outcome
from docparse.logs import configure_logging
from docparse.settings import Settings
from docparse.storage import LocalStorage


def build_worker(settings: Settings, *, child_command: Sequence[str] = CHILD_COMMAND, **worker_options: Any) -> Worker:
    """The SAQ worker for `settings`. `child_command` lets tests swap in a parse process that misbehaves."""
    queue = create_queue(settings)
    storage = LocalStorage(settings.storage_dir)
    pool = ChildPool(settings.worker_concurrency, settings.child_max_jobs, child_command)

    async def startup(ctx: dict[str, Any]) -> None:
        storage.ensure()
        await pool.start()  # warm before the first job: PyMuPDF's import costs ~1 s
        ctx["docparse"] = WorkerDeps(settings, RecordStore(queue.redis, settings.queue_name), storage, pool)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await pool.close()

    return Worker(
        queue,
        functions=[(PARSE_FUNCTION, parse_document)],
        concurrency=settings.worker_concurrency,
        startup=startup,
        shutdown=shutdown,
        after_process=record_outcome,
        timers={"sweep": settings.sweep_interval, "worker_info": 5},
        **worker_options,
    )


async def run_worker(settings: Settings) -> None:
    worker = build_worker(settings)
    await worker.queue.connect()
    try:
        await worker.start()
    finally:
        await worker.queue.disconnect()


def main(settings: Settings) -> None:
    configure_logging(settings)
    asyncio.run(run_worker(settings))
