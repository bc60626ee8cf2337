"""The one seam between HTTP and the jobs layer: what the API may ask, whatever queue and storage are behind it."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from docparse.jobs.idempotency import IdempotentReply
from docparse.jobs.metrics import Snapshot
from docparse.jobs.state import JobState
from docparse.jobs.status import JobStatus
from docparse.jobs.webhooks import Deliveries
from docparse.settings import Settings


@dataclass(frozen=True)
class StoredUpload:
    """An upload written in full through the job's upload sink."""

    job_id: str
    filename: str
    file_type: str
    size: int
    sha256: str


class UploadSink(Protocol):
    """Where the API streams an upload's file as it arrives (a local file today; an object store could replace it
    without the API knowing)."""

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None:
        """The file is complete (safe to call twice)."""

    async def discard(self) -> None:
        """Remove whatever was written for the job (safe to call twice, and after close)."""


class Orchestrator(abc.ABC):
    """Accept uploads, report status, list, cancel, retry, delete, and read results. `owner`, when given, limits
    a call to that owner's jobs: another's job is as unknown as a missing one (JobNotFound). (An abstract class,
    not a Protocol: Litestar checks an injected value with isinstance.)"""

    settings: Settings  # the limits and options the server applies (the API shows some of them)

    @abc.abstractmethod
    async def startup(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def ready(self) -> dict[str, Any]:
        """Whether the queue answers and a worker is alive, with the reason when not."""

    @abc.abstractmethod
    async def metrics_snapshot(self) -> Snapshot: ...

    @abc.abstractmethod
    async def check_room(self) -> None:
        """Busy (429) when the queue is full."""

    @abc.abstractmethod
    def open_upload(self, job_id: str) -> UploadSink: ...

    @abc.abstractmethod
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
        """Record the job and queue it: both, or neither. With `reuse`, a document this owner had parsed with the
        same options gets a copy of that result at once instead: returns that job's id (None when queued)."""

    @abc.abstractmethod
    async def check_callback(self, url: str) -> None:
        """CallbackRefused unless `url` may be called back (see webhooks.py)."""

    @abc.abstractmethod
    async def deliveries(self, job_id: str, owner: str | None = None) -> Deliveries:
        """The webhook deliveries of a job and every try of each."""

    @abc.abstractmethod
    async def claim_idempotency(self, owner: str, key: str, job_id: str) -> IdempotentReply | None:
        """Take `key` for the upload `job_id`: None when taken; the first upload's reply when the key was used
        (waiting for it while that upload is under way; IdempotencyInFlight if it does not end in time)."""

    @abc.abstractmethod
    async def finish_idempotency(self, owner: str, key: str, job_id: str, reply: IdempotentReply | None) -> None:
        """The upload that took `key` ended: remember its reply for DOCPARSE_IDEMPOTENCY_HOURS, or (None) free
        the key after a failure."""

    @abc.abstractmethod
    async def status(self, job_id: str, owner: str | None = None) -> JobStatus: ...

    @abc.abstractmethod
    async def statuses(self, job_ids: list[str], owner: str | None = None) -> list[JobStatus | None]: ...

    @abc.abstractmethod
    async def list_jobs(
        self, *, status: JobState | None, limit: int, cursor: str | None, owner: str | None = None
    ) -> tuple[list[JobStatus], str | None]:
        """A page of history, newest first, and the cursor of the next page (None at the end)."""

    @abc.abstractmethod
    def watch(self, job_id: str) -> AsyncIterator[JobStatus]:
        """The status now and on every change, until a terminal one (Unavailable when too many are open)."""

    @abc.abstractmethod
    async def cancel(self, job_id: str, owner: str | None = None) -> JobStatus: ...

    @abc.abstractmethod
    async def retry(self, job_id: str, *, password: str | None = None, owner: str | None = None) -> JobStatus: ...

    @abc.abstractmethod
    async def delete(self, job_id: str, *, owner: str | None = None) -> None: ...

    @abc.abstractmethod
    async def completed_status(self, job_id: str, owner: str | None = None) -> JobStatus:
        """The status of a completed job; JobNotReady otherwise."""

    @abc.abstractmethod
    async def document_json(self, job_id: str) -> bytes:
        """The document's information; JobNotReady until it is opened."""

    @abc.abstractmethod
    async def page_json(self, job_id: str, number: int) -> bytes | None: ...

    @abc.abstractmethod
    def stored_pages(self, job_id: str, spec: str | None = None) -> AsyncIterator[tuple[int, bytes]]:
        """The pages stored so far (those `spec` selects), ascending, a few at a time."""

    @abc.abstractmethod
    async def failed_pages_json(self, job_id: str) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    async def page_image(self, job_id: str, number: int, width: int, owner: str | None = None) -> bytes:
        """A PNG of a page about `width` pixels wide."""
