"""open_document (types, passwords, broken files) and document_info."""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgspec
import pytest

from docparse.errors import Corrupt, DocparseError, EmptyFile, Encrypted, UnsupportedType, WrongPassword
from docparse.parsing import DocumentInfo, OutlineEntry, ParseOptions, document_info, open_document, parse_page
from docparse.parsing.document import pdf_date_to_iso

from .samples import OWNER_PASSWORD, USER_PASSWORD, page_words


def info_of(path: Path, file_type: str, password: str | None = None) -> DocumentInfo:
    doc = open_document(path, file_type, password)
    try:
        return document_info(doc, path=path, file_type=file_type, size=path.stat().st_size, sha256="x" * 64)
    finally:
        doc.close()


def test_encrypted_without_password(encrypted_pdf: Path) -> None:
    with pytest.raises(Encrypted) as caught:
        open_document(encrypted_pdf, "pdf", None)
    assert caught.value.code == "encrypted"


def test_empty_password_is_no_password(encrypted_pdf: Path) -> None:
    with pytest.raises(Encrypted):
        open_document(encrypted_pdf, "pdf", "")


def test_wrong_password(encrypted_pdf: Path) -> None:
    with pytest.raises(WrongPassword) as caught:
        open_document(encrypted_pdf, "pdf", "not-it")
    assert caught.value.code == "wrong_password"


@pytest.mark.parametrize("password", [USER_PASSWORD, OWNER_PASSWORD])
def test_right_password_gives_text(encrypted_pdf: Path, password: str) -> None:
    """Guards the PyMuPDF 2.0 trap: reading needs_pass after authenticate() empties every later get_text()."""
    doc = open_document(encrypted_pdf, "pdf", password)
    try:
        info = document_info(doc, path=encrypted_pdf, file_type="pdf")
        for index in range(doc.page_count):
            page = parse_page(doc, index, ParseOptions())
            assert page_words(index + 1) in page.text
        assert info.encrypted is True
        assert "AES" in (info.encryption or "")
        assert info.metadata.title == "Fixture Document"  # metadata is encrypted too: readable only after unlocking
    finally:
        doc.close()


@pytest.mark.parametrize("password", [None, "", "ignored"])
def test_owner_password_only_opens_without_one(owner_only_pdf: Path, password: str | None) -> None:
    doc = open_document(owner_only_pdf, "pdf", password)
    try:
        assert page_words(1) in parse_page(doc, 0, ParseOptions()).text
        assert document_info(doc, path=owner_only_pdf, file_type="pdf").encrypted is True
    finally:
        doc.close()


def test_password_for_unencrypted_file_is_ignored(pdf_path: Path) -> None:
    doc = open_document(pdf_path, "pdf", "whatever")
    try:
        assert page_words(1) in parse_page(doc, 0, ParseOptions()).text
    finally:
        doc.close()


def test_corrupt(corrupt_pdf: Path) -> None:
    with pytest.raises(Corrupt) as caught:
        open_document(corrupt_pdf, "pdf", None)
    message = caught.value.message
    assert message.startswith("MuPDF could not open this file as PDF")
    assert str(corrupt_pdf) not in message  # no server paths in what the user reads


def test_truncated_pdf_fails_cleanly_or_parses(truncated_pdf: Path) -> None:
    try:
        doc = open_document(truncated_pdf, "pdf", None)
    except DocparseError as exc:
        assert exc.code == "corrupt"
        return
    try:
        for index in range(doc.page_count):
            try:
                parse_page(doc, index, ParseOptions(tables=True, markdown=True))
            except DocparseError as exc:
                assert exc.code == "corrupt"
    finally:
        doc.close()


def test_random_bytes_as_pdf(random_file: Path) -> None:
    with pytest.raises(Corrupt):
        open_document(random_file, "pdf", None)


def test_random_bytes_as_image(random_file: Path) -> None:
    """MuPDF opens any bytes as an image lazily; the first page is loaded on open so this fails there."""
    with pytest.raises(Corrupt):
        open_document(random_file, "png", None)


def test_text_with_svg_type(text_file: Path) -> None:
    with pytest.raises(Corrupt):
        open_document(text_file, "svg", None)


def test_empty_file(docs_dir: Path) -> None:
    path = docs_dir / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(EmptyFile):
        open_document(path, "pdf", None)


def test_unsupported_type(text_file: Path) -> None:
    with pytest.raises(UnsupportedType):
        open_document(text_file, "docx", None)


def test_document_info(pdf_path: Path) -> None:
    data = pdf_path.read_bytes()
    doc = open_document(pdf_path, "pdf", None)
    try:
        info = document_info(doc, path=pdf_path, file_type="pdf")  # size and sha256 computed from the file
    finally:
        doc.close()
    assert info.file_type == "pdf"
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.page_count == 4
    assert info.encrypted is False and info.encryption is None
    assert info.is_reflowable is False
    meta = info.metadata
    assert meta.title == "Fixture Document"
    assert meta.author == "docparse tests"
    assert meta.subject is None  # empty strings become None
    assert meta.keywords == "alpha, bravo"
    assert meta.creation_date == "2020-01-01T12:00:00Z"
    assert meta.modification_date == "2021-02-03T04:05:06+05:30"
    assert meta.format and meta.format.startswith("PDF")
    assert info.outline == [
        OutlineEntry(level=1, title="Part One", page=1),
        OutlineEntry(level=2, title="Section 1.1", page=2),
        OutlineEntry(level=1, title="Part Two", page=3),
    ]
    encoded = msgspec.json.decode(msgspec.json.encode(info))
    assert encoded["metadata"]["subject"] is None and "outline" in encoded


def test_given_size_and_hash_are_kept(pdf_path: Path) -> None:
    info = info_of(pdf_path, "pdf")
    assert info.size == pdf_path.stat().st_size
    assert info.sha256 == "x" * 64


def test_epub_info(epub_file: Path) -> None:
    info = info_of(epub_file, "epub")
    assert info.is_reflowable is True
    assert info.metadata.title == "Fixture Book"
    assert info.metadata.author == "Ishmael"
    assert info.encrypted is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("D:20200101120000Z", "2020-01-01T12:00:00Z"),
        ("D:20200101120000Z00'00'", "2020-01-01T12:00:00Z"),
        ("D:20220414132421+05'24'", "2022-04-14T13:24:21+05:24"),
        ("D:19991231235959-08'00'", "1999-12-31T23:59:59-08:00"),
        ("D:20200101120000+0100", "2020-01-01T12:00:00+01:00"),
        ("20020111090519", "2002-01-11T09:05:19"),
        ("D:2020", "2020-01-01T00:00:00"),
        ("D:202003", "2020-03-01T00:00:00"),
        ("D:20201301000000Z", "D:20201301000000Z"),  # month 13: kept as it was
        ("Tuesday, 5 May", "Tuesday, 5 May"),
        (None, None),
    ],
)
def test_pdf_dates(raw: str | None, expected: str | None) -> None:
    assert pdf_date_to_iso(raw) == expected
