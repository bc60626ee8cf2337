"""Structured logs for the API and the workers: JSON when not on a terminal, key=value pairs on one; no secrets,
and ERROR kept for real faults."""

from __future__ import annotations

import logging
import re
import sys

import structlog

from docparse.errors import DocparseError
from docparse.settings import Settings

# A key in a URL (`?api_key=k`; the monitor's session cookie) or a header as it gets printed (`Authorization:
# Bearer k`, `"x-api-key": "k"`, `(b'authorization', b'Bearer k')`): the name and what follows it stay.
_SECRET = re.compile(
    r"(?P<name>\b(?:api_key|docparse_monitor)=)[^&;\s\"'\\]+"
    r"|(?P<header>\b(?:authorization|x-api-key)['\"]?\s*[:=,]\s*(?:b?['\"])?(?:(?:bearer|basic)\s+)?)[^\s\"',;)\\]+",
    re.IGNORECASE,
)


# A piece of each name above without an "i" (IGNORECASE also matches U+0131 and U+0130 there, which casefold() does
# not turn into "i"): a line with none of them, once casefolded, cannot hold a secret. Almost no line does, and these
# four tests cost ~0.5 µs against ~15 µs for _SECRET's search (run on every log line, each access line included).
_SECRET_HINTS = ("_key", "_mon", "author", "-key")


def redact(text: str) -> str:
    """`text` with every API key, operator key or monitor session in it replaced by REDACTED."""
    folded = text.casefold()
    if not any(hint in folded for hint in _SECRET_HINTS):
        return text
    return _SECRET.sub(lambda m: (m.group("name") or m.group("header")) + "REDACTED", text)


class _RedactingFormatter(structlog.stdlib.ProcessorFormatter):
    """Redacts the finished line, so nothing escapes: uvicorn's access log (whose request line holds the query
    string the web UI's EventSource puts its key in), any message or value, and tracebacks."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _ExpectedEndings(logging.Filter):
    """SAQ logs every exception a job raises as "Error processing job" at ERROR, with a traceback. A DocparseError
    is an ending the task chose and recorded (a document it cannot read, a cancel, a timeout): it is logged at INFO
    (WARNING for server-side codes) without the traceback, so ERROR is left to real faults. The job_id stays: it
    comes from the log context."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if record.name != "saq" or record.levelno < logging.ERROR or not isinstance(error, DocparseError):
            return True
        level = logging.WARNING if error.status_code >= 500 else logging.INFO
        record.levelno, record.levelname = level, logging.getLevelName(level)
        record.msg, record.args = "job ended: %s (%s)", (error.code, error.message)
        record.exc_info = record.exc_text = None
        return logging.getLogger(record.name).isEnabledFor(level)  # now below ERROR: is that level wanted?


class _SaqPerJobLines(logging.Filter):
    """SAQ's three INFO lines per job (enqueuing, processing, finished) repeat what our own lines and the access
    log say, and at many small jobs a second they cost more CPU than the job's Redis writes. At DEBUG they stay."""

    _MESSAGES = frozenset({"Enqueuing %s", "Processing %s", "Finished %s"})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno != logging.INFO or record.msg not in self._MESSAGES or _debugging()


def _debugging() -> bool:
    return logging.getLogger("saq").isEnabledFor(logging.DEBUG)


def configure_logging(settings: Settings) -> None:
    """Route structlog and the standard library (SAQ, uvicorn) through one formatter at the configured level."""
    as_json = settings.log_json if settings.log_json is not None else not sys.stderr.isatty()
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ExpectedEndings())
    handler.setFormatter(
        _RedactingFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    saq_logger = logging.getLogger("saq")
    saq_logger.filters[:] = [f for f in saq_logger.filters if not isinstance(f, _SaqPerJobLines)]
    saq_logger.addFilter(_SaqPerJobLines())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
