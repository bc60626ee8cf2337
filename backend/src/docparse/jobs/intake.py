"""A job's intake: its upload streamed into storage, then recorded and queued in two round trips — or completed at
once with a copy of a result the same owner already has for the same file and options."""

from __future__ import annotations

import time
from typing import Any

import msgspec
import structlog
from saq.queue.redis import RedisQueue

from docparse.errors import Busy
from docparse.jobs import state
from docparse.jobs.idempotency import fingerprint
from docparse.jobs.metrics import count_upload, upload_counts
from docparse.jobs.orchestrator import StoredUpload, UploadSink
from docparse.jobs.pagestore import PageStore
from docparse.jobs.queue import enqueue_parse
from docparse.jobs.records import Admission, JobRecord, RecordStore
from docparse.jobs.state import JobState
from docparse.settings import Settings
from docparse.storage.base import SourceWriter, Storage

log = structlog.get_logger(__name__)


class _SourceSink:
    """An upload streamed into storage as the job's source, opened on the first bytes."""

    def __init__(self, storage: Storage, job_id: str) -> None:
        self.storage, self.job_id = storage, job_id
        self._out: SourceWriter | None = None
        self._closed = False

    async def write(self, data: bytes) -> None:
        if self._out is None:
            self._out = self.storage.open_source(self.job_id)
        await self._out.write(data)

    async def close(self) -> None:
        if self._out is not None and not self._closed:
            self._closed = True
            await self._out.close()

    async def discard(self) -> None:
        if self._out is not None and not self._closed:
            self._closed = True
            await self._out.abort()
        await self.storage.delete_job(self.job_id)  # everything: nothing half-accepted is left behind


class Intake:
    """Uploads becoming jobs (see JobService, which hands these calls here)."""

    def __init__(
        self, queue: RedisQueue, settings: Settings, storage: Storage, records: RecordStore, pages: PageStore
    ) -> None:
        self.queue, self.settings, self.storage, self.records, self.pages = queue, settings, storage, records, pages

    def open_upload(self, job_id: str) -> UploadSink:
        return _SourceSink(self.storage, job_id)

    async def check_room(self) -> None:
        """Busy (429) when DOCPARSE_MAX_QUEUED jobs already wait: at most that many ever wait."""
        if await self.queue.count("queued") >= self.settings.max_queued:
            raise self._busy()

    def _busy(self) -> Busy:
        return Busy(f"{self.settings.max_queued} jobs are already waiting; try again in a little while.")

    async def submit(
        self,
        upload: StoredUpload,
        *,
        password: str | None,
        options: dict[str, Any],
        owner: str = "",
        callback_url: str | None = None,
        reuse: bool = True,
    ) -> str | None:
        """Record the job and queue it: both, or neither — or, with `reuse`, complete it at once with a copy of the
        result of this owner's job that parsed the same file with the same options. (The caller knows what it
        uploaded; reading the status back would cost a round trip on the hottest path.)"""
        record = JobRecord(
            job_id=upload.job_id,
            filename=upload.filename,
            file_type=upload.file_type,
            size=upload.size,
            sha256=upload.sha256,
            created_at=time.time(),
            options=options,
            owner=owner,
            callback_url=callback_url or "",
        )
        lookup = fingerprint(record.sha256, record.options) if reuse else None
        admission = await self._admit(record, password, lookup)
        if admission.remembered is not None:
            source = await self._reusable(record, admission.remembered, password)
            if source is not None:
                try:
                    await self._reuse(record, source, password)
                    return source.job_id
                except Exception:  # the copy failed half-way: parse it after all (copies nobody indexes do no harm)
                    log.warning("reusing a result failed; parsing instead", source=source.job_id, exc_info=True)
            await self._admit(record, password, None)
        try:
            await enqueue_parse(self.queue, upload.job_id, self.settings)
        except BaseException:
            # A record without its queued job would be listed as queued, then fail as corrupt (the caller removes
            # the file).
            await self._forget(record)
            raise
        return None

    async def _admit(self, record: JobRecord, password: str | None, lookup: str | None) -> Admission:
        """Record the job and count its upload, in one round trip: Busy when the queue is full (checked again: it
        may have filled up while the upload arrived), nothing written when `lookup` finds a result to reuse."""
        room = (self.queue.namespace("queued"), self.settings.max_queued)
        counts = upload_counts(record.size)
        admission = await self.records.admit(record, password=password, room=room, lookup=lookup, counts=counts)
        if not admission.admitted and admission.remembered is None:
            raise self._busy()
        return admission

    async def _forget(self, record: JobRecord) -> None:
        """Undo an admission whose job was not queued after all: the record goes, and so does its count (the
        client hears an error, so the upload was not accepted). If Redis is gone this fails too; the rescue then
        drops the record (see chores.py), and the count stays one too many."""
        try:
            await self.records.delete(record.job_id)
            await count_upload(self.queue.redis, self.settings.queue_name, record.size, undo=True)
        except Exception:
            log.warning("could not remove the record of a job that was not queued", exc_info=True)

    async def _reusable(self, record: JobRecord, job_id: str, password: str | None) -> JobRecord | None:
        """The remembered job `job_id`, if it still exists, completed this owner's file with these options (and,
        for an encrypted file, was opened with the same password)."""
        source, source_password = await self.records.get_with_password(job_id)
        if (
            source is None
            or source.status != JobState.COMPLETED
            or (source.owner, source.sha256, source.options) != (record.owner, record.sha256, record.options)
            or source_password != password
        ):
            return None
        return source

    async def _reuse(self, record: JobRecord, source: JobRecord, password: str | None) -> None:
        """The job completed at once with copies of `source`'s results: copies, so deleting either job leaves
        the other whole. Its admission checks no room: it queues nothing (and the room was checked just before,
        when the remembered result was found)."""
        # a copy: if this fails, the job is parsed with the record it came with
        record = msgspec.structs.replace(record, reused_from=source.job_id, reused_parsed_at=source.finished_at)
        await self.storage.copy_results(source.job_id, record.job_id)
        await self.records.admit(record, password=password, counts=upload_counts(record.size))
        try:
            await self.pages.copy(source.job_id, record.job_id)
            now = time.time()
            await state.complete(
                self.records, record.job_id, self.settings.result_ttl, pages_done=source.pages_done,
                pages_total=source.pages_total, failed_pages=source.failed_pages, started_at=now, finished_at=now,
            )  # fmt: skip
        except BaseException:
            await self._forget(record)  # submit parses it instead, admitting it anew
            raise
        log.info("result reused", job_id=record.job_id, source=source.job_id)
