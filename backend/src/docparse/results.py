"""The parse result as plain data (msgspec Structs): made by parsing/, stored by jobs/, described by the API."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from docparse.tessdata import LANGUAGES_PATTERN

BBox = tuple[float, float, float, float]
"""[x0, y0, x1, y1] in points (1/72 inch) on the page as displayed (rotation applied), origin top left,
rounded to 2 decimals."""


OcrLanguages = Annotated[str, msgspec.Meta(pattern=LANGUAGES_PATTERN)]
"""Tesseract language names joined by "+" (they name traineddata files, so nothing path-like is allowed)."""


class ParseOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What to extract. Text, blocks, links and images are cheap; tables and markdown are opt-in because they cost."""

    pages: str | None = None
    """Pages to parse, 1-based, like "1-3,7" or "10-"; None or "" means every page."""
    tables: bool = False
    """Detect tables (line-based `find_tables()`): measured 14-27 pages/s, against 150-1700 for text alone."""
    markdown: bool = False
    """Per-page markdown. One more text pass, with font sizes: a page then parses at 0.25-0.6x the speed of plain
    text (about 90-550 pages/s measured; pymupdf4llm managed 1-4 pages/s on the same files)."""
    images: bool = True
    """Image bboxes and pixel sizes, listed by the text pass itself (no measurable cost)."""
    links: bool = True
    """Links with their targets: 0.04-0.08 ms per page on link-rich PDFs (5-10% of the text's cost)."""
    ocr: Literal["auto", "always", "never"] = "auto"
    """When to read a page with Tesseract. auto: pages without a usable text layer that images cover (scans,
    photos, image files); born-digital pages cost nothing extra. always: every page, its text layer replaced
    (for text layers that are garbage). never: no OCR. An OCR page takes seconds (0.4-1 pages/s)."""
    ocr_languages: OcrLanguages | None = None
    """Tesseract languages joined by "+", e.g. "kor+eng"; None: the server's default."""


class OutlineEntry(msgspec.Struct):
    """One entry of the document's outline (bookmarks / table of contents)."""

    level: int
    title: str
    page: int | None
    """1-based target page, None when the entry points nowhere in this document."""


class Metadata(msgspec.Struct):
    """The document's own description of itself; None where it says nothing."""

    title: str | None = None
    author: str | None = None
    subject: str | None = None
    keywords: str | None = None
    creator: str | None = None
    producer: str | None = None
    creation_date: str | None = None
    """ISO 8601 when the PDF date could be read (e.g. "2020-01-01T12:00:00Z"), else the raw value."""
    modification_date: str | None = None
    format: str | None = None
    """MuPDF's name for the format, e.g. "PDF 1.7", "EPUB", "Image"."""


class DocumentInfo(msgspec.Struct):
    """Facts about the whole document, known right after opening it."""

    file_type: str
    size: int
    sha256: str
    page_count: int
    metadata: Metadata
    encrypted: bool
    """Whether the file has encryption, even when it opened without a password."""
    encryption: str | None
    """MuPDF's description of the encryption, e.g. "Standard V5 R6 256-bit AES"."""
    outline: list[OutlineEntry]
    is_reflowable: bool
    """True for EPUB, MOBI, FB2, TXT...: their pages come from a layout, so the page count depends on it."""
    warnings: list[str]
    """What MuPDF complained about while opening (e.g. a repaired cross-reference table); at most 50."""


class Block(msgspec.Struct):
    """A text paragraph or an image, in MuPDF's reading order."""

    type: str
    """"text" or "image"."""
    bbox: BBox
    text: str | None
    """The block's lines joined by newlines; None for images."""


class Link(msgspec.Struct):
    """A clickable area on the page."""

    kind: str
    """"uri" (to outside the document) or "goto" (to a page of it)."""
    bbox: BBox
    uri: str | None
    page: int | None
    """1-based target page of a "goto" link; None if it cannot be resolved."""


class Image(msgspec.Struct):
    """An image drawn on the page."""

    bbox: BBox
    width: int | None
    """Pixel width of the image itself (not its size on the page)."""
    height: int | None
    colorspace: str | None
    xref: int | None = None
    """PDF object number of the image. Not looked up (None): the text pass does not know it, and asking
    page.get_images() and matching by pixel size cost 12-19% more on every page that has images."""


class Table(msgspec.Struct):
    """A table found by PyMuPDF's line-based detector."""

    bbox: BBox
    row_count: int
    col_count: int
    cells: list[list[str | None]]
    """Row by row; None for a cell merged into its neighbour."""


class PageOcr(msgspec.Struct):
    """How a page's text was read by OCR."""

    engine: str
    """E.g. "tesseract 5.5.4"."""
    languages: str
    """E.g. "kor+eng"."""
    confidence: float | None
    """Mean word confidence, 0-1, as Tesseract reports it; None when it found no words."""
    dpi: int
    """Resolution of the picture Tesseract read."""
    angle: float
    """Degrees the page picture was turned anticlockwise to read it: 90, 180, 270 for a sideways or upside-down
    scan, a few degrees for a skewed one (0: read as displayed)."""


class Notice(msgspec.Struct):
    """Something docparse itself reports about a page, with a stable code (MuPDF's own words are in `warnings`)."""

    code: str
    """"ocr_unavailable": the page needed OCR but Tesseract or a language's traineddata is not installed.
    "ocr_failed": Tesseract failed on the page; its text layer (often empty) is kept."""
    message: str


class Page(msgspec.Struct):
    """Everything parsed from one page."""

    number: int
    """1-based."""
    width: float
    height: float
    rotation: int
    text: str
    """What PyMuPDF's `page.get_text()` returns (it differs only on lines of glyphs without size, rarely)."""
    char_count: int
    """Characters of `text` that are not whitespace: 0 hints at a scanned page without a text layer."""
    blocks: list[Block]
    links: list[Link]
    images: list[Image]
    tables: list[Table]
    markdown: str | None
    warnings: list[str]
    """What MuPDF complained about while reading this page; at most 50."""
    ocr: PageOcr | None = None
    """Set when the text and text blocks come from OCR rather than the page's text layer."""
    notices: list[Notice] = []
    """Typed warnings of docparse's own, e.g. a page that needed OCR where Tesseract is not installed."""
