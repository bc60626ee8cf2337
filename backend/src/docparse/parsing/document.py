"""Opening a document (passwords included) and describing it: metadata, encryption, outline."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, datetime, timedelta, timezone

import pymupdf

from docparse.errors import Corrupt, EmptyFile, Encrypted, UnsupportedType, WrongPassword
from docparse.filetypes import SUPPORTED_TYPES
from docparse.parsing.engine import mupdf_reason, take_warnings
from docparse.results import DocumentInfo, Metadata, OutlineEntry

# Our type names where MuPDF's differ; the others are the same.
_MUPDF_TYPES = {"jpeg": "jpg", "jbig2": "jb2"}
# Types whose single page is an image: load it on open so a broken image fails as the file, not as page 1.
_IMAGE_TYPES = frozenset({"png", "jpeg", "gif", "tiff", "bmp", "jpx", "pnm", "psd", "jbig2"})
# PDF dates: D:YYYYMMDDHHmmSS then Z or +HH'mm' (every part after the year optional, "D:" often missing).
_PDF_DATE = re.compile(
    r"(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*"
    r"(?:([Zz])(?:00'?(?:00'?)?)?|([+\-])(\d{2})'?(?:(\d{2})'?)?)?\s*"
)


def open_document(path: str | os.PathLike[str], file_type: str, password: str | None) -> pymupdf.Document:
    """Open a file of a type that `detect_type` found, unlocking it with `password` when it needs one.

    Raises UnsupportedType, EmptyFile, Corrupt (cannot be opened, or no pages), Encrypted (password needed,
    none given) or WrongPassword. A password given for a file that needs none is ignored.
    """
    if file_type not in SUPPORTED_TYPES:
        raise UnsupportedType(f"'{file_type}' is not a type docparse reads.")
    take_warnings()  # this document's warnings start now
    try:
        doc = pymupdf.open(path, filetype=_MUPDF_TYPES.get(file_type, file_type))
    except pymupdf.EmptyFileError as exc:
        raise EmptyFile() from exc
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise Corrupt(_unreadable(file_type, exc)) from exc
    try:
        _unlock(doc, password)
        _check_pages(doc, file_type)
    except BaseException:
        doc.close()
        raise
    return doc


def _unlock(doc: pymupdf.Document, password: str | None) -> None:
    # PyMuPDF 2.0 trap (seen on the corpus): reading `needs_pass` after a successful authenticate() makes every
    # later get_text() return "". So it is read exactly once, here, before authenticating, and never again.
    # Files with an empty user password do not need one: MuPDF already tried "" when it opened them.
    if not doc.needs_pass:
        return
    if not password:
        raise Encrypted()
    if not doc.authenticate(password):
        raise WrongPassword()


def _check_pages(doc: pymupdf.Document, file_type: str) -> None:
    try:
        if doc.page_count < 1:
            raise Corrupt(f"The {_label(file_type)} file has no pages MuPDF could find.")
        if file_type in _IMAGE_TYPES:
            doc.load_page(0)
    except Corrupt:
        raise
    except Exception as exc:
        raise Corrupt(_unreadable(file_type, exc)) from exc


def _unreadable(file_type: str, exc: BaseException) -> str:
    reason = mupdf_reason(exc)
    message = f"MuPDF could not open this file as {_label(file_type)}"
    return f"{message}: {reason}." if reason else f"{message}."


def _label(file_type: str) -> str:
    return "plain text" if file_type == "txt" else file_type.upper()


def document_info(
    doc: pymupdf.Document,
    *,
    path: str | os.PathLike[str],
    file_type: str,
    size: int | None = None,
    sha256: str | None = None,
) -> DocumentInfo:
    """Facts about an opened document; `size` and `sha256` are computed from `path` when not given."""
    if size is None:
        size = os.path.getsize(path)
    if sha256 is None:
        sha256 = file_sha256(path)
    # Whether the file is encrypted comes from the metadata PyMuPDF read when the document was unlocked, not
    # from needs_pass (see _unlock). It also covers files that opened with an empty user password.
    raw = doc.metadata or {}
    encryption = raw.get("encryption") or None
    return DocumentInfo(
        file_type=file_type,
        size=size,
        sha256=sha256,
        page_count=doc.page_count,
        metadata=_metadata(raw),
        encrypted=encryption is not None,
        encryption=encryption,
        outline=_outline(doc),
        is_reflowable=bool(doc.is_reflowable),
        warnings=take_warnings(),
    )


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _metadata(raw: dict[str, str | None]) -> Metadata:
    def value(key: str) -> str | None:
        # Some producers end their strings with a NUL (imagemagick's titles do).
        text = (raw.get(key) or "").replace("\x00", "").strip()
        return text or None

    return Metadata(
        title=value("title"),
        author=value("author"),
        subject=value("subject"),
        keywords=value("keywords"),
        creator=value("creator"),
        producer=value("producer"),
        creation_date=pdf_date_to_iso(value("creationDate")),
        modification_date=pdf_date_to_iso(value("modDate")),
        format=value("format"),
    )


def pdf_date_to_iso(raw: str | None) -> str | None:
    """ "D:20200101120000Z" → "2020-01-01T12:00:00Z"; a value that is no PDF date comes back unchanged."""
    if raw is None:
        return None
    match = _PDF_DATE.fullmatch(raw)
    if match is None:
        return raw
    year, month, day, hour, minute, second, zulu, sign, tz_hours, tz_minutes = match.groups()
    try:
        tz = None
        if zulu:
            tz = UTC
        elif sign:
            offset = timedelta(hours=int(tz_hours), minutes=int(tz_minutes or 0))
            tz = timezone(-offset if sign == "-" else offset)
        moment = datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=tz
        )
    except ValueError:  # month 13, offset beyond 24 h, ...
        return raw
    return moment.isoformat().replace("+00:00", "Z")


def _outline(doc: pymupdf.Document) -> list[OutlineEntry]:
    try:
        toc = doc.get_toc(simple=True)
    except Exception:  # a broken outline must not cost the document; MuPDF's warning says what happened
        return []
    return [OutlineEntry(level=level, title=title, page=page if page > 0 else None) for level, title, page, *_ in toc]
