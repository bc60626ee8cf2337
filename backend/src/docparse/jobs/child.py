"""The parse process: imports PyMuPDF once, then parses documents page by page, sending each page to the parent.

It speaks JSON lines: requests on stdin, events on its original stdout. The worker kills it when a page hangs
or a job is cancelled, so nothing here needs a timeout of its own.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import sys
import time
from functools import partial
from typing import IO, Any

import msgspec

from docparse.errors import DocparseError, MemoryLimit, TooManyPages
from docparse.jobs.runner import MEMORY_ENV, MEMORY_EXIT

_encode = msgspec.json.Encoder().encode


def _send(channel: IO[bytes], event: dict[str, Any]) -> None:
    channel.write(_encode(event) + b"\n")
    channel.flush()


def _send_with(channel: IO[bytes], event: dict[str, Any], data: bytes, *, flush: bool = True) -> None:
    """An event line followed by `data` (its length is in the event): results go to the parent as they are,
    without being wrapped in another layer of JSON. Without `flush`, it leaves with the next event that is
    flushed (an event that follows within microseconds: one write for both, one read in the parent)."""
    channel.write(_encode(event) + b"\n" + data)
    if flush:
        channel.flush()


_SURROGATE = re.compile("[\ud800-\udfff]")


def _to_json(value: Any) -> bytes:
    """JSON of a result. Text MuPDF could not decode arrives with lone surrogates, which JSON cannot carry:
    those characters become U+FFFD (only on that rare, slower path)."""
    try:
        return msgspec.json.encode(value)
    except UnicodeEncodeError:
        return msgspec.json.encode(_scrub(msgspec.to_builtins(value)))


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    return value


# MuPDF's words when an allocation fails (it throws, or on some pages only warns and leaves the page blank).
_ALLOC_FAILED = re.compile(r"\b(?:malloc|calloc|realloc) \(.*\) failed|out of memory")
_spent = False  # an allocation failed here: the parent replaces this process after the request


def _out_of_memory(exc: BaseException | None = None, warnings: list[str] | None = None) -> bool:
    """Whether `exc` (or one of `warnings`) says memory ran out, and if so mark this process spent."""
    global _spent
    texts = [*(warnings or []), *([str(exc)] if exc is not None else [])]
    hit = isinstance(exc, MemoryError) or any(_ALLOC_FAILED.search(t) for t in texts)
    _spent = _spent or hit
    return hit


def _error_event(exc: BaseException, what: str = "The document") -> dict[str, Any]:
    if _out_of_memory(exc):
        return {"ev": "error", "code": MemoryLimit.code, "message": _memory_message(what)}
    if isinstance(exc, DocparseError):
        return {"ev": "error", "code": exc.code, "message": exc.message}
    return {"ev": "error", "code": "corrupt", "message": f"The file could not be read: {exc}".strip()}


def _memory_message(what: str) -> str:
    return f"{what} needed more memory than this server allows; the file may be a decompression bomb."


_stop_requested = False


def _request_stop(*_: object) -> None:
    """SIGTERM: finish the page under way (its result is kept), then exit."""
    global _stop_requested
    _stop_requested = True


def handle(channel: IO[bytes], request: dict[str, Any]) -> None:
    """Parse pages of one document and send each page's JSON to the parent as it is done; the parent stores them.

    `indices` (0-based) are the pages to parse; None means the pages the options select, checked against
    `max_pages`. Pages numbered in `skip` (stored by an earlier run) are not parsed again. With `info`, the
    document's facts are sent with "opened". With `budget`, the parse stops after the page that ends past it
    ("done" says `stopped`): the parent hands the rest to other workers."""
    from docparse import parsing

    options = msgspec.convert(request["options"], parsing.ParseOptions)
    try:
        doc = _open(request)
    except Exception as exc:  # every failure to open is reported, typed; the process lives on
        _send(channel, {**_error_event(exc, "Opening the document"), "spent": _spent})
        return
    try:
        indices = request.get("indices")
        if indices is None:
            if doc.page_count > request["max_pages"]:
                raise TooManyPages(
                    f"The document has {doc.page_count} pages; this server accepts at most {request['max_pages']}."
                )
            indices = parsing.parse_page_ranges(options.pages, doc.page_count)
        skip = set(request.get("skip") or ())
        todo = [i for i in indices if i + 1 not in skip]
        opened: dict[str, Any] = {"ev": "opened", "page_count": doc.page_count, "indices": indices, "todo": todo}
        info = b""
        if request.get("info"):
            info = _to_json(
                parsing.document_info(
                    doc, path=request["path"], file_type=request["file_type"], size=request["size"],
                    sha256=request["sha256"],
                )
            )  # fmt: skip
            opened["info"] = len(info)
        _send_with(channel, opened, info)  # now: the parent times each page from here
        budget = request.get("budget")
        deadline = time.monotonic() + budget if budget is not None else None
        for index in todo:
            number = index + 1
            try:
                # Telling the parent that OCR starts gives the page the OCR page timeout instead.
                page = parsing.parse_page(
                    doc, index, options, on_ocr=partial(_send, channel, {"ev": "ocr", "number": number})
                )
                if _out_of_memory(warnings=page.warnings):  # MuPDF left (part of) the page blank instead
                    raise MemoryError
            except Exception as exc:  # one bad page does not sink the document
                event = _error_event(exc, f"Page {number}")
                _send(
                    channel, {"ev": "page_error", "number": number, "code": event["code"], "message": event["message"]}
                )
            else:
                data = _to_json(page)
                last = index == todo[-1]  # "done" follows at once
                _send_with(channel, {"ev": "page", "number": number, "size": len(data)}, data, flush=not last)
            if _stop_requested:
                channel.flush()
                sys.exit(0)
            if deadline is not None and time.monotonic() >= deadline and index != todo[-1]:
                _send(channel, {"ev": "done", "rss_mb": _rss_mb(), "spent": _spent, "stopped": True})
                return
        _send(channel, {"ev": "done", "rss_mb": _rss_mb(), "spent": _spent})
    except Exception as exc:
        _close_kept()  # it may be what failed
        _send(channel, {**_error_event(exc), "spent": _spent})


# The document of the last request stays open: the chunks of one document often come to the same process one
# after another, and opening a big PDF again costs ~150 ms (its cross-reference table, its page tree).
_kept: tuple[tuple[str, str, str | None], Any] | None = None


def _open(request: dict[str, Any]) -> Any:
    global _kept
    from docparse import parsing

    key = (request["path"], request["sha256"], request.get("password"))
    if _kept is not None and _kept[0] == key and os.path.exists(key[0]):
        return _kept[1]
    _close_kept()
    doc = parsing.open_document(request["path"], request["file_type"], request.get("password"))
    _kept = (key, doc)
    return doc


def _close_kept() -> None:
    global _kept
    if _kept is not None:
        _kept[1].close()
        _kept = None


def render(channel: IO[bytes], request: dict[str, Any]) -> None:
    """Render one page to a PNG and send it to the parent."""
    from docparse import parsing
    from docparse.parsing.render import render_page

    try:
        doc = parsing.open_document(request["path"], request["file_type"], request.get("password"))
        try:
            limits = {k: request[k] for k in ("max_pixels", "max_image_pixels") if k in request}
            data = render_page(doc, request["number"] - 1, request["width"], **limits)
        finally:
            doc.close()
    except Exception as exc:
        _send(channel, {**_error_event(exc, f"Page {request['number']}"), "spent": _spent})
        return
    _send_with(channel, {"ev": "rendered", "size": len(data), "spent": _spent}, data)


# Between documents, MuPDF's caches are emptied only once the process holds this much more than after its import:
# emptying them after every document made each small one load its fonts again (~3 ms, twice its parse).
KEEP_CACHED_MB = 16


def _release_memory() -> None:
    """Empty MuPDF's object store and hand freed heap back to the system, so a long-lived process does not keep
    the high-water mark of its biggest document."""
    import ctypes

    import pymupdf

    pymupdf.TOOLS.store_shrink(100)
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _limit_memory() -> None:
    """Cap this process's address space at what the import left it plus DOCPARSE_CHILD_MEMORY_MB, so a
    decompression bomb fails an allocation (reported as memory_limit) instead of taking the machine's memory.
    The kernel enforces it while the page runs; the baseline is measured because PyMuPDF's import alone
    reserves ~190 MB of address space."""
    extra_mb = int(os.environ.get(MEMORY_ENV) or 0)
    if extra_mb <= 0:
        return
    with open("/proc/self/status") as f:
        baseline = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = baseline + extra_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (ceiling if hard == resource.RLIM_INFINITY else min(ceiling, hard), hard))


def _rss_mb() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)
    except (OSError, ValueError):
        return 0


def main() -> None:
    # Keep the protocol on a private copy of stdout; anything else printed (MuPDF messages) goes to stderr.
    signal.signal(signal.SIGTERM, _request_stop)
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import docparse.parsing  # noqa: F401  (the slow import happens once, before "ready")

    # Tesseract is loaded by the first page that needs OCR (~0.7 s for kor+eng), not here: most processes never
    # read a scan. From then on parsing.ocr keeps that engine warm for every later page and job of this process.

    _limit_memory()
    baseline_mb = _rss_mb()
    _send(channel, {"ev": "ready", "pid": os.getpid()})
    decode = msgspec.json.Decoder().decode
    for line in sys.stdin.buffer:
        if line.strip():
            request = decode(line)
            try:
                (render if request.get("op") == "render" else handle)(channel, request)
            except MemoryError:  # where it could not even be reported: the exit code says it
                os._exit(MEMORY_EXIT)
            if _rss_mb() > baseline_mb + KEEP_CACHED_MB:
                _release_memory()


if __name__ == "__main__":
    main()
