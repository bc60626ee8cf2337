"""The SAQ queue and the one function that builds every parse job."""

from __future__ import annotations

from typing import Any

import msgspec
from redis.asyncio import BlockingConnectionPool, Redis
from saq import Job, Status
from saq.queue.redis import ID_PREFIX, PubSubMultiplexer, RedisQueue

from docparse.errors import WorkerLost
from docparse.jobs.chunks import chunk_key
from docparse.settings import Settings

PARSE_FUNCTION = "parse_document"
CHUNK_FUNCTION = "parse_chunk"


def _dump(value: object) -> str:
    return msgspec.json.encode(value).decode()


# Takes the next queued job and reads it, in one step. KEYS: the queued list, the active list. Returns nil when
# none waits, else {the job, how many still wait}.
_TAKE = """
local id = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
if not id then return false end
return {redis.call('GET', id) or '', redis.call('LLEN', KEYS[1])}
"""


class Queue(RedisQueue):
    """SAQ's Redis queue, with fewer round trips per job: a job's write and the publish that announces it are
    sent together (SAQ sends them one after the other, when a job starts and when it ends), and a worker that
    knows jobs wait takes one and reads it in one step (SAQ moves it, then reads it). Needs Redis 6.2 (LMOVE)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._take = self.redis.register_script(_TAKE)
        self._more_waiting = False  # as the last dequeue saw the queue

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:
        if self._more_waiting:
            taken = await self._take(keys=[self._queued, self._active])
            if taken is not None:
                data, waiting = taken
                self._more_waiting = waiting > 0
                return self.deserialize(data)  # (None, like SAQ's, for a job deleted in between)
        # Nothing waited: wait for the next job in a blocking move, then read it and whether more wait.
        job_id = await self.redis.blmove(self._queued, self._active, timeout, "LEFT", "RIGHT")  # type: ignore[arg-type]  # (seconds, fractions too)
        if job_id is None:
            self._more_waiting = False
            return None
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(job_id)
            pipe.llen(self._queued)
            data, waiting = await pipe.execute()
        self._more_waiting = waiting > 0
        return self.deserialize(data)

    async def _update(self, job: Job, status: Status | None = None, **kwargs: Any) -> None:
        if not status:
            stored = await self.job(job.key)
            status = stored.status if stored else None
        job.status = status or job.status
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(job.id, self.serialize(job))
            pipe.publish(job.id, job.status)
            await pipe.execute()

    async def _finish(self, job: Job, status: Status, *, result: Any = None, error: str | None = None) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrem(self._active, 1, job.id)
            pipe.zrem(self._incomplete, job.id)
            if job.ttl > 0:
                pipe.setex(job.id, job.ttl, self.serialize(job))
            elif job.ttl == 0:
                pipe.set(job.id, self.serialize(job))
            else:
                pipe.delete(job.id)
            pipe.publish(job.id, job.status)
            await pipe.execute()


def create_queue(settings: Settings, redis: Redis | None = None, *, name: str | None = None) -> Queue:
    """The parse queue (or the queue `name`), sharing `redis` when given. msgspec does SAQ's JSON: a job is encoded
    on every update. (No socket timeout by default: a worker waits on the queue in a blocking read.)"""
    redis = redis or Redis.from_url(
        settings.redis_url, health_check_interval=10, socket_keepalive=True, client_name="docparse"
    )
    return Queue(
        redis,
        name=name or settings.queue_name,
        dump=_dump,
        load=msgspec.json.decode,
        swept_error_message=WorkerLost.code,  # tells a sweep from a cancel (state.py)
    )


class ApiQueue(Queue):
    """The API's queue. Its pool is bounded: a burst of requests (a thousand event streams starting at once) waits
    for one of `redis_max_connections` connections rather than opening one each, which an unbounded pool keeps
    open for ever after. Connecting, every command and the wait for a free connection give up after
    `redis_timeout` seconds, so a request never hangs on a lost Redis (it answers 503 instead)."""

    def __init__(self, settings: Settings) -> None:
        timeout = settings.redis_timeout
        pool = BlockingConnectionPool.from_url(
            settings.redis_url,
            max_connections=settings.redis_max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            socket_keepalive=True,
            health_check_interval=10,
            client_name="docparse-api",
        )
        super().__init__(
            Redis(connection_pool=pool),
            name=settings.queue_name,
            dump=_dump,
            load=msgspec.json.decode,
            swept_error_message=WorkerLost.code,  # tells a sweep from a cancel (state.py)
        )
        # SAQ's pub/sub reader (one per process, shared by every event stream) blocks until a message comes: a
        # socket timeout would break that read every few seconds, so it has a client of its own, without one.
        self.events_redis = Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=timeout,
            socket_keepalive=True,
            client_name="docparse-api-events",
        )
        self._pubsub = PubSubMultiplexer(self.events_redis.pubsub(), prefix=f"{ID_PREFIX}{self.name}")

    async def disconnect(self) -> None:
        await super().disconnect()
        await self.events_redis.aclose()


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


def build_chunk_job(job_id: str, attempt: int, unit: int, settings: Settings) -> Job:
    """One unit of a split job (see chunks.py), built like a parse job. Its key is unique per attempt, so a
    retry's units never meet an old attempt's; SAQ keeps it only briefly (the job's record says how it ended)."""
    return Job(
        function=CHUNK_FUNCTION,
        kwargs={"job_id": job_id, "unit": unit, "attempt": attempt},
        key=chunk_key(job_id, attempt, unit),
        timeout=settings.job_timeout + 60,
        heartbeat=settings.heartbeat,
        retries=settings.retries,
        ttl=max(600, settings.heartbeat * 10),
    )


async def enqueue_parse(queue: RedisQueue, job_id: str, settings: Settings) -> Job:
    job = build_parse_job(job_id, settings)
    await queue.enqueue(job)
    return job
