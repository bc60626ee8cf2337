"""Response bodies of the HTTP API (job status bodies come from the jobs layer)."""

from __future__ import annotations

import msgspec

from docparse.jobs.status import JobStatus
from docparse.results import DocumentInfo, Page


class UploadAccepted(msgspec.Struct):
    status: str
    job_id: str
    filename: str
    file_type: str
    message: str
    size: int
    status_url: str
    result_url: str
    events_url: str
    reused_from: str | None = None
    """Set when the job completed at once with a copy of this earlier job's result (the same file and options)."""


class JobList(msgspec.Struct):
    jobs: list[JobStatus]
    next_cursor: str | None


class FailedPage(msgspec.Struct):
    number: int
    code: str
    message: str


class ResultBody(msgspec.Struct):
    document: DocumentInfo
    pages: list[Page]
    failed_pages: list[FailedPage]


class ResultEnvelope(msgspec.Struct):
    """GET /jobs/{id}/result as JSON (it is streamed from storage, page by page)."""

    job_id: str
    result: ResultBody


class RetryRequest(msgspec.Struct, forbid_unknown_fields=True):
    password: str | None = None


class OcrConfig(msgspec.Struct):
    """What OCR can read on this server."""

    available: bool
    """Tesseract and traineddata for at least one language are installed."""
    languages: list[str]
    """Languages with traineddata installed, e.g. ["eng", "kor"]: what `ocr_languages` may name."""
    default_languages: str
    """What an upload without `ocr_languages` is read with, e.g. "kor+eng"."""
    page_timeout: float
    """Seconds one page read by OCR may take."""


class ServerConfig(msgspec.Struct):
    max_upload_bytes: int
    max_pages: int
    page_timeout: float
    result_ttl: int
    supported_types: list[str]
    api_key_required: bool
    ocr: OcrConfig
    webhooks: bool = False
    """Whether uploads may name a callback_url (the server has a signing secret)."""


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    ready: bool
    redis: bool
    workers: int
    queued: int | None = None
    active: int | None = None
    reason: str | None = None


class ParseFlags(msgspec.Struct, forbid_unknown_fields=True):
    """Opt-in parse options sent in the `options` form field, as JSON or as a comma list (`tables,markdown`).

    tables: detect tables on every page (PyMuPDF find_tables; ~5-10 pages/s, ~50x slower than text).
    markdown: per-page markdown (adds a markdown pass over every page; see README for measured cost).
    images / links: include image boxes and links (on by default; cheap)."""

    tables: bool = False
    markdown: bool = False
    images: bool = True
    links: bool = True
