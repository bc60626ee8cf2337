"""A worker process: a SAQ Worker on the parse queue, with warm parse processes and our outcome hook."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from saq import Worker

from docparse.jobs.queue import PARSE_FUNCTION, create_queue
from docparse.jobs.records import RecordStore
from docparse.jobs.runner import CHILD_COMMAND, ChildPool
from docparse.jobs.service import JobService
from docparse.jobs.tasks import WorkerDeps, parse_document, record_outcome
from docparse.logs import configure_logging
from docparse.settings import Settings
from docparse.storage import LocalStorage

log = structlog.get_logger(__name__)


def build_worker(settings: Settings, *, child_command: Sequence[str] = CHILD_COMMAND, **worker_options: Any) -> Worker:
    """The SAQ worker for `settings`. `child_command` lets tests swap in a parse process that misbehaves."""
    queue = create_queue(settings)
    storage = LocalStorage(settings.storage_dir)
    pool = ChildPool(
        settings.worker_concurrency,
        settings.child_max_jobs,
        child_command,
        max_rss_mb=settings.child_max_rss_mb,
        memory_mb=settings.child_memory_mb,
    )

    async def startup(ctx: dict[str, Any]) -> None:
        storage.ensure()
        await pool.start()  # warm before the first job: PyMuPDF's import costs ~1 s
        ctx["docparse"] = WorkerDeps(settings, RecordStore(queue.redis, settings.queue_name), storage, pool)
        service = JobService(queue, settings, storage)
        # Retention: remove what expired jobs leave behind. Rescue: re-queue jobs SAQ lost track of.
        ctx["retention"] = asyncio.create_task(
            _now_and_then(service, "retention", settings.cleanup_interval, service.purge_expired)
        )
        ctx["rescue"] = asyncio.create_task(
            _now_and_then(service, "rescue", settings.heartbeat, service.rescue_orphans)
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        loops = [task for name in ("retention", "rescue") if (task := ctx.get(name))]
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await pool.close()

    async def bind_job(ctx: dict[str, Any]) -> None:
        """Every log line about a job, SAQ's own included, carries its job_id."""
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(job_id=ctx["job"].key)

    return Worker(
        queue,
        functions=[(PARSE_FUNCTION, parse_document)],
        concurrency=settings.worker_concurrency,
        startup=startup,
        shutdown=shutdown,
        before_process=bind_job,
        after_process=record_outcome,
        timers={"sweep": settings.sweep_interval, "worker_info": 5},
        **worker_options,
    )


async def _now_and_then(service: JobService, name: str, interval: float, chore: Callable[[], Awaitable[Any]]) -> None:
    """Run `chore` every `interval` seconds. Every worker runs the loop; a short Redis lock lets one of them do
    the chore each time. Failures (Redis away) are logged and tried again next time."""
    lock = f"docparse:{service.settings.queue_name}:{name}-lock"
    while True:
        await asyncio.sleep(interval)
        try:
            if await service.queue.redis.set(lock, "1", nx=True, ex=max(1, int(interval))):
                done = await chore()
                if done:
                    log.info(f"{name}: {done} job(s)")
        except Exception:
            log.warning(f"{name} failed", exc_info=True)


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
