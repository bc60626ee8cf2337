"""Nothing from MuPDF reaches stdout (a parent process may read it as a protocol); its complaints are collected."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from docparse.errors import Corrupt
from docparse.parsing import ParseOptions, document_info, open_document, parse_page

BROKEN_CONTENT = b"BT /NoSuchFont 12 Tf 72 72 Td (hello) Tj ET ) ] >> } Q Q Q /Im9 Do"


@pytest.fixture(scope="module")
def broken_content_pdf(docs_dir: Path) -> Path:
    """Two pages; the first one's content stream is full of syntax errors, the second is clean."""
    doc = pymupdf.open()
    for _ in range(2):
        doc.new_page().insert_text((72, 72), "hello")
    doc.update_stream(doc[0].get_contents()[0], BROKEN_CONTENT)
    path = docs_dir / "broken-content.pdf"
    doc.save(path)
    doc.close()
    return path


def test_page_warnings_are_collected_not_printed(broken_content_pdf: Path, capfd: pytest.CaptureFixture[str]) -> None:
    doc = open_document(broken_content_pdf, "pdf", None)
    try:
        document_info(doc, path=broken_content_pdf, file_type="pdf")
        broken = parse_page(doc, 0, ParseOptions(tables=True, markdown=True))
        clean = parse_page(doc, 1, ParseOptions(tables=True, markdown=True))
    finally:
        doc.close()
    assert "hello" in broken.text
    assert any("syntax error" in warning for warning in broken.warnings)
    assert clean.warnings == []  # each page gets its own
    assert capfd.readouterr().out == ""


def test_failed_open_prints_nothing(corrupt_pdf: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Corrupt):
        open_document(corrupt_pdf, "pdf", None)
    assert capfd.readouterr().out == ""


def test_warnings_are_capped(docs_dir: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "hello")
    doc.update_stream(page.get_contents()[0], b" ".join(b"/Im%d Do" % number for number in range(200)))
    path = docs_dir / "many-warnings.pdf"
    doc.save(path)
    doc.close()
    opened = open_document(path, "pdf", None)
    try:
        warnings = parse_page(opened, 0, ParseOptions()).warnings
    finally:
        opened.close()
    assert len(warnings) == 50
    assert warnings[-1].startswith("... and ")
