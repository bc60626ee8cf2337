"""Where uploads and results live: objects under `jobs/<job_id>/` in a local directory or an S3 bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docparse.storage.base import (
    SourceWriter,
    Storage,
    document_key,
    image_key,
    job_prefix,
    segment_key,
    source_key,
)
from docparse.storage.objects import ObjectStorage, parse_storage_url

if TYPE_CHECKING:
    from docparse.settings import Settings

MIB = 1024 * 1024


def open_storage(settings: Settings) -> Storage:
    """The storage the settings name: DOCPARSE_STORAGE_URL, or the directory DOCPARSE_STORAGE_DIR when it is empty."""
    return ObjectStorage(
        parse_storage_url(settings.storage_url, settings.storage_dir),
        cache_dir=settings.cache_dir,
        cache_bytes=settings.cache_mb * MIB,
    )


__all__ = [
    "ObjectStorage",
    "SourceWriter",
    "Storage",
    "document_key",
    "image_key",
    "job_prefix",
    "open_storage",
    "segment_key",
    "source_key",
]
