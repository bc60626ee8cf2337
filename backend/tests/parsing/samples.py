"""Helpers that build test documents with PyMuPDF (shared by conftest.py and the tests)."""

from __future__ import annotations

from pathlib import Path

import pymupdf

USER_PASSWORD = "user-secret"
OWNER_PASSWORD = "owner-secret"
PNG_SIZE = (40, 30)
TABLE = [["Name", "Qty", "Price"], ["apple", "3", "1.20"], ["pear", "5", "0.80"]]


def page_words(number: int) -> str:
    return f"Page {number} says alpha{number} bravo{number} charlie{number}."


def png_bytes(width: int = PNG_SIZE[0], height: int = PNG_SIZE[1], shade: int = 200) -> bytes:
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, height), False)
    pix.clear_with(shade)
    return pix.tobytes("png")


def build_pdf(pages: int = 4) -> pymupdf.Document:
    """Page n says page_words(n) under a big heading; metadata, a two-level outline, a URI and an internal link on
    page 1, a PNG on page 2. The last page (4 by default) is the internal link's target, has a URI link over its
    words and is rotated by 90 degrees."""
    doc = pymupdf.open()
    for number in range(1, pages + 1):
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 72), f"Heading {number}", fontsize=24)
        page.insert_text((72, 120), page_words(number), fontsize=11)
        page.insert_text((72, 140), "The quick brown fox jumps over the lazy dog.", fontsize=11)
    doc.set_metadata({
        "title": "Fixture Document",
        "author": "docparse tests",
        "subject": "",
        "keywords": "alpha, bravo",
        "creationDate": "D:20200101120000Z",
        "modDate": "D:20210203040506+05'30'",
    })  # fmt: skip
    doc.set_toc([[1, "Part One", 1], [2, "Section 1.1", 2], [1, "Part Two", 3]])
    first = doc[0]
    first.insert_link(
        {"kind": pymupdf.LINK_URI, "from": pymupdf.Rect(72, 100, 300, 125), "uri": "https://example.org/"}
    )
    first.insert_link({"kind": pymupdf.LINK_GOTO, "from": pymupdf.Rect(72, 130, 300, 145), "page": pages - 1})
    doc[1].insert_image(pymupdf.Rect(100, 300, 300, 450), stream=png_bytes())
    last = doc[pages - 1]
    last.insert_link({"kind": pymupdf.LINK_URI, "from": pymupdf.Rect(72, 100, 300, 125), "uri": "https://example.com/"})
    last.set_rotation(90)
    return doc


def save(doc: pymupdf.Document, path: Path, **kwargs: object) -> Path:
    doc.save(path, **kwargs)
    doc.close()
    return path
