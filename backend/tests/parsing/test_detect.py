"""detect_type: the type from the first bytes only, and None for what MuPDF cannot read."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from docparse.filetypes import SUPPORTED_TYPES, detect_type
from docparse.parsing import open_document, parse_page
from docparse.results import ParseOptions

FIXTURE_TYPES = {
    "pdf_path": "pdf",
    "encrypted_pdf": "pdf",
    "table_pdf": "pdf",
    "corrupt_pdf": "pdf",
    "text_file": "txt",
    "png_file": "png",
    "jpeg_file": "jpeg",
    "pnm_file": "pnm",
    "psd_file": "psd",
    "svg_file": "svg",
    "epub_file": "epub",
    "cbz_file": "cbz",
    "xps_file": "xps",
    "random_file": None,
}


def head_of(path: Path) -> bytes:
    with open(path, "rb") as file:
        return file.read(64 * 1024)


def zip_bytes(entries: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(("fixture", "expected"), FIXTURE_TYPES.items(), ids=list(FIXTURE_TYPES))
def test_fixture_files(fixture: str, expected: str | None, request: pytest.FixtureRequest) -> None:
    assert detect_type(head_of(request.getfixturevalue(fixture))) == expected


@pytest.mark.parametrize(
    "fixture",
    [name for name, kind in FIXTURE_TYPES.items() if kind and "corrupt" not in name and "encrypted" not in name],
)
def test_every_detected_fixture_opens_and_parses(fixture: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(fixture)
    file_type = detect_type(head_of(path))
    assert file_type in SUPPORTED_TYPES
    doc = open_document(path, file_type, None)
    try:
        page = parse_page(doc, 0, ParseOptions())
        assert page.width > 0 and page.height > 0
    finally:
        doc.close()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"GIF89a\x10\x00\x10\x00", "gif"),
        (b"GIF87a\x10\x00\x10\x00", "gif"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
        (b"BM" + struct.pack("<IHHI", 1000, 0, 0, 54) + struct.pack("<I", 40) + bytes(36), "bmp"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjp2 ", "jpx"),
        (b"\xff\x4f\xff\x51\x00\x2f", "jpx"),
        (b"\x97JB2\r\n\x1a\n\x01\x00\x00\x00\x01", "jbig2"),
        (b"P4\n16 16\n\xfb\x7f", "pnm"),
        (b"P6\n# made by hand\n64 48\n255\n\xc8", "pnm"),
        (b"P7\nWIDTH 4\nHEIGHT 4\n", "pnm"),
        (b"8BPS\x00\x01\x00\x00\x00\x00\x00\x00", "psd"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "pdf"),
        (b"\r\n\x00garbage\xff\xfe before the header %PDF-1.7\n", "pdf"),
        (b"%1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj \n<<\n/Type /Catalog>>\nendobj\ntrailer\n", "pdf"),  # no header at all
        (b"trailer<</Root<<[-2147483648 7 R 8 4 R]>>>>", "pdf"),  # a PDF fragment, all ASCII: corrupt, not text
        (b"  xref 0 1\nstartxref 2\n", "pdf"),
        (b"%PDFn\r\ntrailer\r\n<</Root 5 0 R>>", "pdf"),  # a damaged header
        (bytes(60) + b"BOOKMOBI" + bytes(20), "mobi"),
        (bytes(60) + b"TEXtREAd" + bytes(20), "mobi"),
        (b'<?xml version="1.0"?>\n<FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0">', "fb2"),
        ('<?xml version="1.0" encoding="windows-1251"?><FictionBook><p>Привет</p>'.encode("cp1251"), "fb2"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "svg"),
        (b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" [\n<!ENTITY a "b">\n]>\n<svg>', "svg"),
        (b"\xef\xbb\xbf<svg:svg xmlns:svg='http://www.w3.org/2000/svg'/>", "svg"),
        (b"<!DOCTYPE html><html><body><svg></svg></body></html>", "txt"),  # HTML with inline SVG is not an SVG
        (b"plain words\n", "txt"),
        (b"BMW and BMX are not bitmaps\n", "txt"),
        (b"This text talks about %PDF-1.7 headers.\n", "txt"),
        (b"\xef\xbb\xbfwith a UTF-8 BOM\n", "txt"),
        ("UTF-16 with a BOM\n".encode("utf-16"), "txt"),
        ("ends in the middle of é".encode()[:-1], "txt"),  # a multi-byte character cut by the 64 KiB limit
        (b"", None),
        (b"RIFF\xa8\x01\x00\x00WEBPVP8 ", None),  # WebP: MuPDF cannot read it
        (b"II\xbc\x01\x08\x00\x00\x00", None),  # JPEG XR: recognised, but this MuPDF build cannot decode it
        (b"caf\xe9 in latin-1\n", None),  # not UTF-8
        (b"text with a NUL\x00 byte", None),
        (b"\x7fELF\x02\x01\x01\x00", None),
        ("UTF-16 without a BOM".encode("utf-16-le"), None),
    ],
)
def test_heads(head: bytes, expected: str | None) -> None:
    assert detect_type(head) == expected


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ({"META-INF/container.xml": "<container/>", "content.opf": "<package/>"}, "epub"),
        ({"[Content_Types].xml": "<Types/>", "Documents/1/Pages/1.fpage": "<FixedPage/>"}, "xps"),
        ({"ComicInfo.xml": "<ComicInfo/>", "001.jpg": b"\xff\xd8\xff", "002.jpg": b"\xff\xd8\xff"}, "cbz"),
        ({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>", "word/media/a.png": b"x"}, None),  # DOCX
        ({"mimetype": "application/vnd.oasis.opendocument.text", "Pictures/a.png": b"x"}, None),  # ODT
        ({"notes.txt": "hello", "data.csv": "a,b"}, None),
    ],
    ids=["epub-without-mimetype", "xps", "cbz-with-comicinfo", "docx", "odt", "plain-zip"],
)
def test_zip_containers(entries: dict[str, bytes | str], expected: str | None) -> None:
    assert detect_type(zip_bytes(entries)) == expected


def test_only_the_head_is_needed(epub_file: Path, cbz_file: Path) -> None:
    assert detect_type(epub_file.read_bytes()[:200]) == "epub"
    assert detect_type(cbz_file.read_bytes()[:100]) == "cbz"


def test_the_name_only_vetoes_plain_text_for_binary_formats() -> None:
    assert detect_type(b"just some words\n", "notes.txt") == "txt"
    assert detect_type(b"just some words\n", "notes") == "txt"
    assert detect_type(b"oops\n", "report.PDF") is None  # a broken PDF, not a text document
    assert detect_type(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "misnamed.txt") == "pdf"  # bytes decide the rest
