"""What the jobs layer asks of storage: objects under `jobs/<job_id>/`, the same on a local disk and on S3.

Layout (keys relative to the storage root or bucket prefix):
  jobs/<id>/source                 the upload, streamed in
  jobs/<id>/document.json          facts about the document (DocumentInfo)
  jobs/<id>/pages/<segment>        parsed pages, many per object (see jobs/results.py for the format)
  jobs/<id>/images/<n>-<w>.png     page pictures, drawn on demand
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import AsyncIterator
from pathlib import Path


def job_prefix(job_id: str) -> str:
    # Job ids are UUIDs made by us; parsing them keeps a crafted id from naming another key.
    return f"jobs/{uuid.UUID(job_id)}/"


def source_key(job_id: str) -> str:
    return job_prefix(job_id) + "source"


def document_key(job_id: str) -> str:
    return job_prefix(job_id) + "document.json"


def segment_key(job_id: str, name: str) -> str:
    return job_prefix(job_id) + f"pages/{name}"


def image_key(job_id: str, number: int, width: int) -> str:
    return job_prefix(job_id) + f"images/{number}-{width}.png"


class SourceWriter(abc.ABC):
    """An upload on its way into storage, written in pieces (multipart on S3) with bounded memory."""

    @abc.abstractmethod
    async def write(self, data: bytes) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None:
        """Make the written bytes the job's source (atomically: nobody sees a half-written source)."""

    @abc.abstractmethod
    async def abort(self) -> None:
        """Drop what was written; nothing of it stays."""


class Storage(abc.ABC):
    """Objects of jobs. Writes are atomic (a reader sees the whole object or none); keys are built above."""

    @abc.abstractmethod
    async def ensure(self) -> None:
        """Check the store is reachable (and create the local root); raise with a clear message if not."""

    @abc.abstractmethod
    def open_source(self, job_id: str) -> SourceWriter: ...

    @abc.abstractmethod
    async def local_source(self, job_id: str) -> Path:
        """A local file with the job's source for PyMuPDF to open: the file itself on a local disk, a copy in a
        bounded cache shared by the processes of this machine otherwise (downloaded once, not once per chunk).
        Raises FileNotFoundError when the job has no source."""

    @abc.abstractmethod
    async def has_source(self, job_id: str) -> bool: ...

    @abc.abstractmethod
    async def put(self, key: str, data: bytes) -> None: ...

    @abc.abstractmethod
    async def get(self, key: str) -> bytes | None:
        """The whole object, None when there is none."""

    @abc.abstractmethod
    async def get_range(self, key: str, start: int, length: int) -> bytes:
        """`length` bytes from `start`. Raises FileNotFoundError when the object is missing."""

    @abc.abstractmethod
    async def copy_results(self, from_job: str, to_job: str) -> None:
        """Copy a job's results (document.json and page segments, not its source or pictures) to another job, as
        copies of their own: deleting either job leaves the other whole."""

    @abc.abstractmethod
    async def delete_job(self, job_id: str) -> None:
        """Remove every object of the job (and its cached source on this machine); missing is fine."""

    @abc.abstractmethod
    def jobs(self) -> AsyncIterator[tuple[str, float]]:
        """(job_id, when its newest object was written, Unix time) for every job with objects in storage."""

    async def close(self) -> None:  # noqa: B027  (optional: only stores holding connections need it)
        """Release connections."""
