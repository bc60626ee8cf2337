"""PyMuPDF, silenced: MuPDF's complaints are collected per document or page instead of being printed."""

from __future__ import annotations

import logging
import sys

# PyMuPDF 2.0 imports its layout model (onnxruntime) and pymupdf4llm whenever they are installed: ~1.3 s and
# ~80 MB more per parse process. We use neither (tables run with use_layout=False, markdown is our own), so
# they are kept out — this only works before the first `import pymupdf` in the process.
for _unused in ("pymupdf.layout", "pymupdf4llm"):
    sys.modules.setdefault(_unused, None)  # type: ignore[arg-type]  # None there is how Python refuses an import

import pymupdf  # noqa: E402

# A parent process may use our stdout as its protocol channel, and PyMuPDF prints to stdout by default: MuPDF
# errors (on by default), MuPDF warnings (off) and its own messages, e.g. "find_tables: exception occurred".
# Errors and warnings are still stored, for take_warnings(); PyMuPDF's messages go to the "pymupdf" logger.
pymupdf.no_recommend_layout()
pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)
pymupdf.set_messages(pylogging=True, pylogging_name="pymupdf", pylogging_level=logging.WARNING)

MAX_WARNINGS = 50


def take_warnings() -> list[str]:
    """MuPDF's warnings and errors since the last call, at most MAX_WARNINGS; the store is emptied.

    Called after opening and after every page: PyMuPDF keeps every message in a global list that otherwise
    grows for as long as the process lives.
    """
    text = pymupdf.TOOLS.mupdf_warnings(reset=True)
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_WARNINGS:
        lines = [*lines[: MAX_WARNINGS - 1], f"... and {len(lines) - MAX_WARNINGS + 1} more"]
    return lines


def mupdf_reason(exc: BaseException) -> str | None:
    """MuPDF's own words for a failure (e.g. "no objects found"), without PyMuPDF's wrapper text or file paths."""
    cause: BaseException | None = exc
    while cause is not None:
        text = getattr(cause, "m_text", None)  # MuPDF's exception classes carry the bare message here
        if text:
            return str(text)
        cause = cause.__cause__
    return None
