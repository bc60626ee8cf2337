"""Pictures of pages: a page rendered to PNG at a requested width, for drawing parsed boxes over it."""

from __future__ import annotations

import pymupdf

MAX_WIDTH = 3000  # pixels; a bound on the memory one picture can take


def render_page(doc: pymupdf.Document, index: int, width: int) -> bytes:
    """PNG of page `index` (0-based), `width` pixels wide, as displayed (rotation applied), like the boxes."""
    page = doc[index]
    zoom = max(1, min(width, MAX_WIDTH)) / page.rect.width
    return page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False).tobytes("png")
