"""Tells a document's type from its first bytes (never from its name), without importing PyMuPDF."""

from __future__ import annotations

import re

SUPPORTED_TYPES = ("pdf", "xps", "epub", "mobi", "fb2", "cbz", "svg", "txt", "png", "jpeg", "gif", "tiff", "bmp")

_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
)
_IMAGE_NAME = re.compile(rb"\.(?:png|jpe?g|gif|bmp|tiff?|webp)$", re.IGNORECASE)


def detect_type(head: bytes) -> str | None:
    """One of SUPPORTED_TYPES for the first bytes `head` (64 KiB is plenty), or None when unsupported."""
    if not head:
        return None
    # Some PDFs carry junk before the header; MuPDF accepts the header within the first KiB.
    if b"%PDF-" in head[:1024]:
        return "pdf"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind if kind != "bmp" or len(head) >= 26 else None
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(head)
    if head[60:68] == b"BOOKMOBI":
        return "mobi"
    return _text_type(head)


def _zip_type(head: bytes) -> str | None:
    """ZIP containers by what their first entries say (EPUB stores its mimetype first)."""
    if head[30:38] == b"mimetype" and b"application/epub+zip" in head[38:100]:
        return "epub"
    if b"FixedDocumentSequence" in head or b"FixedDocSeq" in head or b"Documents/1/" in head:
        return "xps"
    first_name = _first_entry_name(head)
    if (first_name and _IMAGE_NAME.search(first_name)) or b"ComicInfo.xml" in head:
        return "cbz"
    return None


def _first_entry_name(head: bytes) -> bytes | None:
    if len(head) < 30:
        return None
    name_len = int.from_bytes(head[26:28], "little")
    return head[30 : 30 + name_len] or None


def _text_type(head: bytes) -> str | None:
    """SVG, FB2 or plain text: UTF-8 (or UTF-16 with a BOM) without NUL bytes."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = head.decode("utf-16")
        except UnicodeDecodeError:
            return None
    else:
        if b"\x00" in head:
            return None
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a multi-byte character cut at the end of `head` is fine
                return None
            text = head[: exc.start].decode("utf-8")
    start = text.lstrip("\ufeff \t\r\n")[:4096]
    lowered = start.lower()
    if "<fictionbook" in lowered:
        return "fb2"
    if lowered.startswith(("<?xml", "<svg", "<!doctype svg", "<!--")) and "<svg" in text.lower():
        return "svg"
    if lowered.startswith("<?xml"):
        return None  # some other XML dialect
    control = sum(1 for ch in start if ord(ch) < 32 and ch not in "\t\r\n\f")
    return "txt" if control <= len(start) // 100 else None
