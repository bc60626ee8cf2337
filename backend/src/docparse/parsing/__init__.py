"""The parsing domain: PyMuPDF in, plain msgspec Structs out. Knows nothing of HTTP, queues or storage.

Importing it imports PyMuPDF (~1.2 s, ~125 MB with its layout model) and silences MuPDF's printing.
"""

from __future__ import annotations

from docparse.filetypes import SUPPORTED_TYPES, detect_type
from docparse.pageranges import parse_page_ranges
from docparse.parsing import engine as _engine  # noqa: F401  (silences PyMuPDF before anything else uses it)
from docparse.parsing.document import document_info, open_document
from docparse.parsing.page import parse_page
from docparse.results import (
    Block,
    DocumentInfo,
    Image,
    Link,
    Metadata,
    Notice,
    OutlineEntry,
    Page,
    PageOcr,
    ParseOptions,
    Table,
)

__all__ = [
    "SUPPORTED_TYPES",
    "Block",
    "DocumentInfo",
    "Image",
    "Link",
    "Metadata",
    "Notice",
    "OutlineEntry",
    "Page",
    "PageOcr",
    "ParseOptions",
    "Table",
    "detect_type",
    "document_info",
    "open_document",
    "parse_page",
    "parse_page_ranges",
]
