"""Tells a document's type from its first bytes (never from its name alone), without importing PyMuPDF."""

from __future__ import annotations

import codecs
import re
import struct

SUPPORTED_TYPES: tuple[str, ...] = (
    "pdf", "xps", "epub", "mobi", "fb2", "cbz", "svg", "txt",
    "png", "jpeg", "gif", "tiff", "bmp", "jpx", "pnm", "psd", "jbig2",
)  # fmt: skip
"""Every type `detect_type` can answer; each one was opened with PyMuPDF 2.0 / MuPDF 1.28."""

# Signatures at offset 0. Deliberately absent, because this MuPDF build cannot read them although it recognises
# some: WebP, and JPEG XR ("II\xbc", opens but every page fails with "unsupported").
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jpx"),  # JPEG 2000 file (JP2 box)
    (b"\xff\x4f\xff\x51", "jpx"),  # JPEG 2000 codestream
    (b"\x97JB2\r\n\x1a\n", "jbig2"),
    (b"8BPS\x00\x01", "psd"),
)
# BMP starts with just "BM", which plain text can too: also require a known DIB header size at offset 14.
_BMP_DIB_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}
# PNM: "P1".."P6" then width and height (comments allowed), "P7" (PAM) or "PF"/"Pf" (float maps).
_PNM = re.compile(rb"P[1-6]\s+(?:#[^\n]*\n\s*)*\d+\s+\d+|P7\s|P[Ff]\s")
_MOBI_IDS = (b"BOOKMOBI", b"TEXtREAd")  # Palm database type+creator at offset 60
_IMAGE_NAME = re.compile(r"\.(?:png|jpe?g|gif|bmp|tiff?|jpx|jp2|j2k|psd|pnm|pbm|pgm|ppm|pam)$", re.IGNORECASE)
# Before the root element of an XML document: declarations, comments, a DOCTYPE (maybe with an internal subset).
_XML_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)", re.DOTALL | re.IGNORECASE)
_XML_ROOT = re.compile(r"\s*<(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
# PDF syntax in a file without a (proper) "%PDF" header: MuPDF repairs and opens some of these, and the others
# deserve "corrupt" rather than being read as plain text.
_PDF_SYNTAX = re.compile(rb"startxref|trailer\s*<<|\d+\s+\d+\s+obj\b")
# Control characters that do not occur in text files (tab, newlines, form feed, DOS end-of-file and escape do).
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0e-\x19\x1c-\x1f]")


# Names of formats that are never plain text: a "report.pdf" whose bytes are plain text is a broken PDF, not a
# text document, and is refused rather than parsed as text.
_BINARY_EXTENSIONS = (".pdf", ".xps", ".oxps", ".epub", ".mobi", ".cbz", ".png", ".jpg", ".jpeg", ".gif", ".tif",
                      ".tiff", ".bmp", ".jp2", ".jpx", ".psd")  # fmt: skip


def detect_type(head: bytes, filename: str | None = None) -> str | None:
    """The type of a file from its first bytes (64 KiB is plenty): one of SUPPORTED_TYPES, or None if unsupported.

    The name is never trusted to say what a file is; it only vetoes "plain text" for a file named as a binary
    format."""
    kind = _detect(head)
    if kind == "txt" and filename and filename.lower().endswith(_BINARY_EXTENSIONS):
        return None
    return kind


def _detect(head: bytes) -> str | None:
    if not head:
        return None
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if _is_bmp(head):
        return "bmp"
    if _PNM.match(head):
        return "pnm"
    text = _decode_text(head)
    # The header may follow some junk (MuPDF looks in the first KiB); in a text file, "%PDF" is just a word.
    if head.startswith(b"%PDF") or (text is None and b"%PDF" in head[:1024]):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(_zip_names(head), head)
    if head[60:68] in _MOBI_IDS:
        return "mobi"
    # Markup is recognised in any ASCII-compatible encoding (FB2 is often windows-1251), so fall back to latin-1.
    root = _xml_root(text if text is not None else head.decode("latin-1"))
    if root == "FictionBook":
        return "fb2"
    if root == "svg":
        return "svg"
    if _PDF_SYNTAX.search(head):
        return "pdf"
    if text is None:
        return None
    return "txt" if _is_plain_text(text) else None


def _is_bmp(head: bytes) -> bool:
    return head.startswith(b"BM") and len(head) >= 18 and struct.unpack_from("<I", head, 14)[0] in _BMP_DIB_SIZES


def _decode_text(head: bytes) -> str | None:
    """The head as text if it is UTF-8 (or UTF-16 with a BOM) without NUL bytes, else None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif b"\x00" in head:
        return None
    else:
        encoding = "utf-8-sig"
    # Incremental, not final: `head` may end in the middle of a multi-byte character.
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        text = decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def _is_plain_text(text: str) -> bool:
    return _BINARY_CONTROL.search(text) is None


def _xml_root(text: str) -> str | None:
    """The local name of the first element after the XML prolog, e.g. "svg" for `<svg:svg ...>`."""
    text = text.lstrip("\ufeff")
    pos = 0
    while match := _XML_PROLOG.match(text, pos):
        pos = match.end()
    root = _XML_ROOT.match(text, pos)
    return root[1] if root else None


def _zip_names(head: bytes) -> list[str]:
    """Names of the ZIP entries whose local headers lie within `head` (names are never compressed)."""
    names: list[str] = []
    pos = 0
    while len(names) < 1000 and 0 <= pos <= len(head) - 30:
        if head[pos : pos + 4] != b"PK\x03\x04":
            # After an entry with a data descriptor the next header's position is unknown: look for it.
            pos = head.find(b"PK\x03\x04", pos)
            continue
        flags, size, name_length, extra_length = struct.unpack_from("<H10xI4xHH", head, pos + 6)
        name = head[pos + 30 : pos + 30 + name_length]
        names.append(name.decode("utf-8", "replace"))
        data = pos + 30 + name_length + extra_length
        known_size = not flags & 0x08 and size != 0xFFFFFFFF
        pos = data + size if known_size else data
    return names


def _zip_type(names: list[str], head: bytes) -> str | None:
    """EPUB, XPS or CBZ by the entries a ZIP starts with; None for other ZIPs (DOCX, ODF, JAR, plain archives)."""
    if ("mimetype" in names and b"application/epub+zip" in head) or "META-INF/container.xml" in names:
        return "epub"
    if (
        b"FixedDocumentSequence" in head
        or any(name.lower().endswith((".fdseq", ".fdoc", ".fpage")) for name in names)
        or ("[Content_Types].xml" in names and any(name.startswith("Documents/") for name in names))
    ):
        return "xps"
    office = "[Content_Types].xml" in names or "mimetype" in names or any(n.startswith("META-INF/") for n in names)
    if not office and any(_IMAGE_NAME.search(name) for name in names):
        return "cbz"
    return None
