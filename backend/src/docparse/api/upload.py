"""Streams a multipart upload straight to storage: never whole in memory, size-limited while reading, typed by bytes."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from multipart import MultipartError, MultipartSegment, ParserLimitReached, PushMultipartParser

from docparse.errors import EmptyFile, FileTooLarge, InvalidRequest, UnsupportedType
from docparse.filetypes import detect_type
from docparse.jobs.orchestrator import UploadSink
from docparse.messages import Msg, format_size, sizes_apart

HEAD_BYTES = 64 * 1024  # enough to tell every supported type apart
FIELD_LIMIT = 64 * 1024  # text fields (password, pages, options) are small
FORM_OVERHEAD = 1024 * 1024  # room for boundaries and text fields on top of the file itself
# A body up to this size (by its Content-Length) is read before the queue's room is checked: the check when the job
# is recorded refuses it all the same, and a check before would cost every upload a Redis round trip to spare a
# refused client a moment of sending.
SMALL_BODY = 1024 * 1024
MAX_PARTS = 16
MAX_HEADERS = 8  # per part (the parser's default; RFC 7578 needs at most 3)
MAX_HEADER_LINE = 4096 + 128  # the parser's default; a file name must fit in its header line
# The parser says which of its limits was passed only in words: say it in ours.
PARSER_LIMITS = {
    "Maximum segment count exceeded": Msg("upload.limit_parts", count=MAX_PARTS),
    "Maximum segment header count exceeded": Msg("upload.limit_headers", count=MAX_HEADERS),
    "Maximum segment header length exceeded": Msg("upload.limit_header_line", size="4 KiB"),
}


@dataclass
class ReceivedUpload:
    filename: str
    file_type: str
    size: int
    sha256: str
    fields: dict[str, str] = field(default_factory=dict)


def sanitize_filename(raw: str | None) -> str:
    """A name safe to show and store: no directories, no control characters, at most 255 bytes."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    while len(name.encode()) > 255:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[:-1]}{dot}{ext}" if stem and len(ext) < 16 else name[:-1]
    return name or "upload"


def small_body(request: Request[Any, Any, Any]) -> bool:
    """Whether the request's Content-Length announces at most SMALL_BODY bytes (False without one: chunked)."""
    length = request.headers.get("content-length")
    return bool(length and length.isdigit() and int(length) <= SMALL_BODY)


async def receive_upload(request: Request[Any, Any, Any], destination: UploadSink, max_bytes: int) -> ReceivedUpload:
    """Write the `file` part of `request` to `destination`; return what was learnt on the way.

    Raises FileTooLarge as soon as the limit is passed (or at once, from Content-Length; every byte of the body
    counts, so a chunked body cannot pass it either), EmptyFile, UnsupportedType and InvalidRequest. On any error
    the partial file is removed."""
    media_type, params = request.content_type
    boundary = params.get("boundary")
    if media_type != "multipart/form-data" or not boundary:
        raise InvalidRequest(Msg("upload.not_multipart"))
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes + FORM_OVERHEAD:
        size, limit = sizes_apart(int(length), max_bytes)
        raise FileTooLarge(Msg("upload.too_large", size=size, limit=limit))
    try:
        return await _stream(request, boundary, destination, max_bytes)
    except BaseException:
        await destination.discard()
        raise


async def _stream(
    request: Request[Any, Any, Any], boundary: str, destination: UploadSink, max_bytes: int
) -> ReceivedUpload:
    digest = hashlib.sha256()
    head = bytearray()
    fields: dict[str, str] = {}
    size, received, filename = 0, 0, None
    body_limit = max_bytes + FORM_OVERHEAD
    segment: MultipartSegment | None = None
    text = bytearray()
    found = False  # only the first part named 'file' is kept
    writing = False
    try:
        with PushMultipartParser(
            boundary, max_segment_count=MAX_PARTS, max_header_count=MAX_HEADERS, max_header_size=MAX_HEADER_LINE
        ) as parser:
            async for chunk in request.stream():
                # The whole body, not only the kept file: parts that are dropped (a second file, unknown names)
                # would otherwise stream without end when no Content-Length announced their size.
                received += len(chunk)
                if received > body_limit:
                    raise FileTooLarge(_too_large(max_bytes))
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        segment, text = event, bytearray()
                        writing = event.name == "file" and event.filename is not None and not found
                        if writing:
                            filename, found = event.filename, True
                    elif event is None:  # end of a part
                        if segment is not None and segment.filename is None:
                            fields[segment.name] = text.decode(segment.charset or "utf-8", "replace")
                        if writing:
                            await destination.close()
                        segment, writing = None, False
                    elif writing:
                        size += len(event)
                        if size > max_bytes:
                            raise FileTooLarge(_too_large(max_bytes))
                        digest.update(event)
                        if len(head) < HEAD_BYTES:
                            head.extend(event[: HEAD_BYTES - len(head)])
                        await destination.write(event)
                    elif segment is not None and segment.filename is None:
                        text.extend(event)
                        if len(text) > FIELD_LIMIT:
                            raise InvalidRequest(Msg("upload.field_too_long", name=segment.name))
                if parser.closed:
                    break
    except ParserLimitReached as exc:
        limit = PARSER_LIMITS.get(str(exc), str(exc))
        raise InvalidRequest(Msg("upload.parser_limit", detail=limit)) from None
    except MultipartError as exc:
        raise InvalidRequest(Msg("upload.malformed", reason=str(exc))) from None
    # (The sink was closed, making the file the job's source, when its part ended; on any error the caller
    # discards it instead.)
    if not found:
        raise InvalidRequest(Msg("upload.no_file"))
    if size == 0:
        raise EmptyFile()
    file_type = detect_type(bytes(head), filename)
    if file_type is None:
        raise UnsupportedType()
    return ReceivedUpload(sanitize_filename(filename), file_type, size, digest.hexdigest(), fields)


def _too_large(max_bytes: int) -> Msg:
    return Msg("upload.too_large_stream", limit=format_size(max_bytes, 2, rounding="down"))
