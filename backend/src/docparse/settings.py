"""One place for configuration, read once from the environment (DOCPARSE_* and REDIS_URL)."""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from docparse.tessdata import LANGUAGES_PATTERN

MIB = 1024 * 1024


class Settings(BaseSettings):
    """Every setting, with the environment variable that sets it (see the README's table)."""

    model_config = SettingsConfigDict(env_prefix="DOCPARSE_", extra="ignore", frozen=True)

    # --- services ---
    redis_url: str = Field("redis://localhost:6379/0", validation_alias=AliasChoices("REDIS_URL", "DOCPARSE_REDIS_URL"))
    queue_name: str = "docparse"
    host: str = "127.0.0.1"
    port: int = 8080
    storage_dir: Path = Path(".docparse/storage")
    storage_url: str = Field(
        "",
        description="where jobs' files live: empty for storage_dir, a path or file:///path, or s3://bucket/prefix "
        "(S3 is configured by AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ALLOW_HTTP)",
    )
    cache_dir: Path = Field(
        Path(tempfile.gettempdir()) / "docparse-cache",
        description="local copies of S3 sources for parsing and page pictures, shared by the processes of a machine",
    )
    cache_mb: int = Field(
        2048, ge=1, description="MB the source cache is kept under (files used in the last minute stay)"
    )
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    worker_concurrency: int = Field(1, ge=1, description="jobs one worker process parses at once")
    redis_max_connections: int = Field(32, ge=2, description="Redis connections one API process keeps at most")
    redis_timeout: float = Field(
        5.0, gt=0, description="seconds an API request waits for Redis (to connect, to answer, for a free connection)"
    )

    # --- limits ---
    max_upload_mb: int = Field(1024, ge=1)
    max_pages: int = Field(10_000, ge=1)
    job_timeout: int = Field(3600, ge=1, description="seconds one attempt of a job may run")
    page_timeout: float = Field(30.0, gt=0, description="seconds one page may take before it is killed")
    ocr_page_timeout: float = Field(
        180.0, gt=0, description="seconds one page read by OCR may take before it is killed (OCR takes 1-16 s a page)"
    )
    retries: int = Field(3, ge=1, description="attempts per job when a worker dies under it")
    result_ttl: int = Field(7 * 24 * 3600, ge=1, description="seconds finished jobs and their results are kept")
    cleanup_interval: float = Field(60.0, gt=0, description="seconds between retention clean-ups")

    # --- worker tuning ---
    heartbeat: int = Field(30, ge=2, description="seconds without a sign of life before a job is re-queued")
    sweep_interval: int = Field(5, ge=1, description="seconds between checks for jobs of dead workers")
    progress_interval: float = Field(
        0.25,
        ge=0,
        description="seconds a parsed page may wait to be written with the pages after it: progress moves this often",
    )
    child_max_jobs: int = Field(
        5000, ge=1, description="jobs a parse process handles before it is replaced (its memory is watched too)"
    )
    child_max_rss_mb: int = Field(512, ge=0, description="a parse process above this RSS is replaced (0: never)")
    child_memory_mb: int = Field(
        1024, ge=0, description="memory a parse process may take beyond its own import, enforced (0: no ceiling)"
    )

    # --- chunks and result writes (see jobs/chunks.py, jobs/pagestore.py) ---
    chunk_seconds: float = Field(
        1.0, ge=0, description="seconds of work per chunk of a long document; 0 parses every document in one job"
    )
    chunk_probe: float = Field(
        0.1, gt=0, description="seconds a job parses before it decides, from its pace, whether to split"
    )
    chunk_window: int = Field(1, ge=1, description="chunks of one document waiting in the queue at most")
    segment_mb: int = Field(8, ge=1, description="parsed pages written together once they reach this size")

    # --- webhooks (see jobs/webhooks.py) ---
    webhook_secret: str = Field(
        "", description="Standard Webhooks signing secret ('whsec_' + base64); uploads with a callback_url need it"
    )
    webhook_allowed_hosts: str = Field(
        "", description="hosts or networks (CIDR) a callback may reach although they are not public, comma-separated"
    )
    webhook_key_urls: str = Field(
        "", description="a default callback_url per API key: '<key>=<url>,...' (used when an upload names none)"
    )
    webhook_timeout: float = Field(10.0, gt=0, description="seconds one webhook try waits for the receiver")
    webhook_retry_hours: float = Field(24.0, gt=0, description="hours a webhook delivery is tried again for")
    webhook_first_retry: float = Field(
        5.0, gt=0, description="seconds before a failed webhook is tried again; doubling (with jitter) up to an hour"
    )
    webhook_concurrency: int = Field(20, ge=1, description="webhook deliveries one worker process makes at once")

    # --- uploads of documents seen before ---
    idempotency_hours: float = Field(24.0, gt=0, description="hours an Idempotency-Key is remembered")

    # --- OCR ---
    ocr_languages: str = Field(
        "kor+eng",
        pattern=LANGUAGES_PATTERN,
        description="Tesseract languages for uploads that name none, joined by '+'",
    )

    # --- page pictures (drawn by the API's own render processes) ---
    render_processes: int = Field(2, ge=1, description="processes drawing page pictures, per API process")
    render_timeout: float = Field(10.0, gt=0, description="seconds one page picture may take before it is stopped")
    render_max_pixels: int = Field(
        16_000_000, ge=10_000, description="pixels (width x height) of a page picture at most; keeps the aspect"
    )
    render_max_image_pixels: int = Field(
        50_000_000, ge=0, description="no picture of a page holding a bigger raster image, outside PDF (0: no bound)"
    )

    frontend_dir: Path = Field(
        Path(__file__).resolve().parents[3] / "frontend" / "dist",
        description="the built web UI served at /; not served when the folder is missing",
    )

    # --- operations ---
    api_keys: str = Field("", description="comma-separated API keys; empty turns authentication off")
    admin_keys: str = Field("", description="comma-separated operator keys that open /monitor")
    max_queued: int = Field(1000, ge=1, description="jobs that may wait at most; an upload beyond gets 429")
    max_event_streams: int = Field(500, ge=1, description="event streams one API process serves at once; beyond: 503")

    # --- logs ---
    log_level: str = "INFO"
    log_json: bool | None = Field(None, description="JSON logs; default: when stderr is not a terminal")

    @property
    def api_key_list(self) -> list[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]

    @property
    def admin_key_list(self) -> list[str]:
        return [k.strip() for k in self.admin_keys.split(",") if k.strip()]

    @property
    def storage_is_local(self) -> bool:
        return not self.storage_url.startswith("s3://")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * MIB


@lru_cache
def get_settings() -> Settings:
    return Settings()
