"""What the API asks of the jobs layer: submit a stored upload, read a job's status and its stored results."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from saq.queue.redis import RedisQueue

from docparse.errors import JobNotFound, JobNotReady
from docparse.jobs.queue import enqueue_parse
from docparse.jobs.records import JobRecord, RecordStore, record_from_hash
from docparse.pageranges import parse_page_ranges
from docparse.jobs.status import JobState, JobStatus, build_status
from docparse.settings import Settings
from docparse.storage import LocalStorage


@dataclass(frozen=True)
class StoredUpload:
    """An upload already written to `storage.source_path(job_id)` by the API."""

    job_id: str
    filename: str
    file_type: str
    size: int
    sha256: str


class JobService:
    def __init__(self, queue: RedisQueue, settings: Settings, storage: LocalStorage) -> None:
        self.queue = queue
        self.settings = settings
        self.storage = storage
        self.records = RecordStore(queue.redis, settings.queue_name)

    async def submit(self, upload: StoredUpload, *, password: str | None, options: dict[str, Any]) -> JobStatus:
        record = JobRecord(
            job_id=upload.job_id,
            filename=upload.filename,
            file_type=upload.file_type,
            size=upload.size,
            sha256=upload.sha256,
            created_at=time.time(),
            options=options,
        )
        await self.records.create(record, password=password)
        await enqueue_parse(self.queue, upload.job_id, self.settings)
        return await self.status(upload.job_id)

    async def status(self, job_id: str) -> JobStatus:
        # One transaction, so our record and SAQ's job are read at the same instant (a fast job can finish
        # between two separate reads, and the merge would then see SAQ's "complete" beside a stale record).
        saq_id = self.queue.job_id(job_id)
        async with self.queue.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.records.key(job_id))
            pipe.get(saq_id)
            pipe.lpos(self.queue.namespace("queued"), saq_id)  # BLMOVE takes from the left: index = jobs ahead
            raw_record, raw_job, position = await pipe.execute()
        if not raw_record:
            raise JobNotFound()
        record = record_from_hash(raw_record)
        job = self.queue.deserialize(raw_job)
        return build_status(record, job, queue_position=position, ttl=self.settings.result_ttl)

    async def completed_status(self, job_id: str) -> JobStatus:
        status = await self.status(job_id)
        if status.status != JobState.COMPLETED:
            raise JobNotReady(f"The job is {status.status.value}, not completed: {status.message}.")
        return status

    def document_json(self, job_id: str) -> bytes:
        data = self.storage.read(self.storage.document_path(job_id))
        if data is None:
            raise JobNotReady("The document has not been opened yet.")
        return data

    def page_json(self, job_id: str, number: int) -> bytes | None:
        return self.storage.read(self.storage.page_path(job_id, number))

    def stored_pages(self, job_id: str, spec: str | None = None) -> Iterator[tuple[int, bytes]]:
        """Stored pages (those selected by `spec`, e.g. `1-5,9`), ascending, read one at a time so a huge
        result never sits whole in memory."""
        wanted = self.storage.page_numbers(job_id)
        if spec:
            keep = {i + 1 for i in parse_page_ranges(spec, wanted[-1] if wanted else 0, strict=False)}
            wanted = [n for n in wanted if n in keep]
        for number in wanted:
            data = self.page_json(job_id, number)
            if data is not None:
                yield number, data

    async def failed_pages_json(self, job_id: str) -> list[dict[str, Any]]:
        record = await self.records.get(job_id)
        return [{"number": p.number, "code": p.code, "message": p.message} for p in (record.failed_pages if record else [])]

    async def ready(self) -> dict[str, Any]:
        """Redis answers and at least one worker wrote its heartbeat recently."""
        try:
            await self.queue.redis.ping()
            info = await self.queue.info()
        except Exception as exc:  # any Redis failure means not ready, with the reason
            return {"ready": False, "redis": False, "workers": 0, "reason": f"Redis: {exc}"}
        workers = len(info.get("workers", {}))
        reason = None if workers else "no worker has reported in the last 10 s"
        return {"ready": workers > 0, "redis": True, "workers": workers, "queued": info["queued"],
                "active": info["active"], "reason": reason}  # fmt: skip
