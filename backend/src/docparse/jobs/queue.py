"""The SAQ queue and the one function that builds every parse job."""

from __future__ import annotations

import msgspec
from redis.asyncio import Redis
from saq import Job
from saq.queue.redis import RedisQueue

from docparse.settings import Settings

PARSE_FUNCTION = "parse_document"


def _dump(value: object) -> str:
    return msgspec.json.encode(value).decode()


def create_queue(settings: Settings, redis: Redis | None = None) -> RedisQueue:
    """The parse queue, sharing `redis` when given. msgspec does SAQ's JSON: a job is encoded on every update."""
    redis = redis or Redis.from_url(settings.redis_url, health_check_interval=10, socket_keepalive=True)
    return RedisQueue(
        redis,
        name=settings.queue_name,
        dump=_dump,
        load=msgspec.json.decode,
        swept_error_message="worker_lost",
    )


def build_parse_job(job_id: str, settings: Settings) -> Job:
    """Every parse job is made here, so key, timeout, heartbeat, retries and ttl are always set.

    The key is our job id, so enqueueing the same id twice is a no-op. A timeout and a heartbeat make SAQ's sweep
    re-queue the job when its worker dies (without them it would stay active forever). Retries count attempts.
    The ttl keeps SAQ's copy as long as our record and results."""
    return Job(
        function=PARSE_FUNCTION,
        kwargs={"job_id": job_id},
        key=job_id,
        timeout=settings.job_timeout + 60,  # a backstop: the task stops itself at job_timeout with a clear error
        heartbeat=settings.heartbeat,
        retries=settings.retries,
        ttl=settings.result_ttl,
    )


async def enqueue_parse(queue: RedisQueue, job_id: str, settings: Settings) -> Job:
    job = build_parse_job(job_id, settings)
    await queue.enqueue(job)
    return job
