"""Where uploads and results live: one directory per job under the storage root."""

from __future__ import annotations

from docparse.storage.local import LocalStorage

__all__ = ["LocalStorage"]
