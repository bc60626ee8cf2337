"""A worker process: a SAQ Worker on the parse queue, with warm parse processes and our outcome hook."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import structlog
from saq import Worker
from saq.types import PartialTimersDict

from docparse.jobs.cancels import CancelWatch
from docparse.jobs.chores import Chores
from docparse.jobs.queue import CHUNK_FUNCTION, PARSE_FUNCTION, create_queue
from docparse.jobs.records import RecordStore
from docparse.jobs.runner import CHILD_COMMAND, ChildPool
from docparse.jobs.tasks import WorkerDeps, parse_chunk, parse_document, record_outcome
from docparse.jobs.webhooks import build_webhook_worker, relay_forever
from docparse.logs import configure_logging
from docparse.settings import Settings
from docparse.storage import open_storage

log = structlog.get_logger(__name__)


def build_worker(
    settings: Settings, *, child_command: Sequence[str] = CHILD_COMMAND, **worker_options: Any
) -> Worker[Any]:
    """The SAQ worker for `settings`. `child_command` lets tests swap in a parse process that misbehaves."""
    queue = create_queue(settings)
    storage = open_storage(settings)
    pool = ChildPool(
        settings.worker_concurrency,
        settings.child_max_jobs,
        child_command,
        max_rss_mb=settings.child_max_rss_mb,
        memory_mb=settings.child_memory_mb,
    )

    async def startup(ctx: dict[str, Any]) -> None:
        await storage.ensure()
        await pool.start()  # warm before the first job: PyMuPDF's import costs ~1 s
        cancels = CancelWatch(settings.redis_url, settings.queue_name)
        await cancels.start()
        ctx["cancels"] = cancels
        ctx["docparse"] = WorkerDeps(settings, RecordStore(queue.redis, settings.queue_name), storage, pool, cancels)
        ctx["chores"] = Chores(queue, settings, storage).start()  # retention, and the rescue of lost jobs
        # Webhook deliveries: their own queue and SAQ worker in this process, fed from the outbox of job endings
        webhook_worker = build_webhook_worker(settings, queue.redis)
        await webhook_worker.queue.connect()
        ctx["webhooks"] = webhook_worker
        ctx["chores"] += [
            asyncio.create_task(webhook_worker.start()),
            asyncio.create_task(relay_forever(queue.redis, settings, webhook_worker.redis_queue)),
        ]

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "webhooks" in ctx:
            await ctx["webhooks"].stop()  # lets deliveries under way finish (SAQ's grace), then stops
        loops: list[asyncio.Task[None]] = ctx.get("chores", [])
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await pool.close()
        if "cancels" in ctx:
            await ctx["cancels"].close()
        await storage.close()

    async def bind_job(ctx: dict[str, Any]) -> None:
        """Every log line about a job, SAQ's own included, carries its job_id."""
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(job_id=ctx["job"].key)

    return Worker(
        queue,
        functions=[(PARSE_FUNCTION, parse_document), (CHUNK_FUNCTION, parse_chunk)],
        concurrency=settings.worker_concurrency,
        startup=startup,
        shutdown=shutdown,
        before_process=bind_job,
        after_process=record_outcome,
        # all four: SAQ types its partial timers as a dict that needs every key (schedule and abort: its defaults)
        timers=PartialTimersDict(sweep=settings.sweep_interval, worker_info=5, schedule=1, abort=1),
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
