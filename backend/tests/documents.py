"""Test documents made on the spot with PyMuPDF, so the core tests need no files from outside the repository."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pymupdf


def page_words(number: int) -> str:
    return f"Page {number} says alpha{number} bravo{number} charlie{number}."


def make_pdf(path: Path, pages: int = 3, *, password: str | None = None, title: str = "Fixture") -> Path:
    """A PDF whose page n carries `page_words(n)`, with metadata, a TOC and a link; AES-256 when `password`."""
    doc = pymupdf.open()
    for n in range(1, pages + 1):
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 72), page_words(n), fontsize=12)
        page.insert_text((72, 100), "The quick brown fox jumps over the lazy dog.", fontsize=11)
    doc.set_metadata({"title": title, "author": "docparse tests"})
    doc.set_toc([[1, f"Chapter {n}", n] for n in range(1, min(pages, 3) + 1)])
    doc[0].insert_link({"kind": pymupdf.LINK_URI, "from": pymupdf.Rect(72, 60, 300, 80), "uri": "https://example.org/"})
    kwargs = {}
    if password:
        kwargs = {"encryption": pymupdf.PDF_ENCRYPT_AES_256, "user_pw": password, "owner_pw": password + "-owner"}
    doc.save(path, **kwargs)
    doc.close()
    return path


def make_png(path: Path) -> Path:
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 30), False)
    pix.clear_with(200)
    pix.save(path)
    return path


def make_epub(path: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")  # stored first, uncompressed
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles>'
            "</container>",
        )
        z.writestr(
            "content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">x</dc:identifier>'
            "<dc:title>Fixture Book</dc:title><dc:language>en</dc:language></metadata>"
            '<manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest>'
            '<spine><itemref idref="c1"/></spine></package>',
        )
        z.writestr(
            "c1.xhtml",
            '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>c1</title></head>'
            "<body><h1>Chapter One</h1><p>Call me Ishmael, said the fixture.</p></body></html>",
        )
    path.write_bytes(buf.getvalue())
    return path


def make_corrupt_pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    return path
