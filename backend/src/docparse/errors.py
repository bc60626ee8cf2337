"""The one error hierarchy: every failure a user can see has a stable code, an HTTP status and a readable message.

The words live in the message catalogue (docparse.messages): each code's own message is its `error.<code>` entry,
and an error raised with a `Msg` keeps it, so the API can say it in the caller's language."""

from __future__ import annotations

from typing import ClassVar

from docparse.messages import CATALOGUE, Msg, english


class DocparseError(Exception):
    """Base of every expected failure. `code` is the stable machine name shown as `error.code`.

    `message` is English (what logs and job records hold); `text` is the same message as a catalogue id with
    parameters, set when the error was raised with a `Msg` (or without a message)."""

    code: str = "internal"
    status_code: int = 500
    headers: dict[str, str] | None = None
    default_message: ClassVar[str] = english(Msg("error.internal"))

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        # A code's own message is its catalogue entry (tests/test_messages.py checks every code has one; a class
        # that sets default_message itself and has none yet speaks English only).
        if f"error.{cls.code}" in CATALOGUE:
            cls.default_message = english(Msg(f"error.{cls.code}"))

    def __init__(self, message: str | Msg | None = None) -> None:
        if message is None and f"error.{self.code}" in CATALOGUE:
            message = Msg(f"error.{self.code}")
        self.text = message if isinstance(message, Msg) else None
        self.message = english(message) if isinstance(message, Msg) else message or self.default_message
        super().__init__(self.message)


# --- input problems (raised by the API before a job exists, or by parsing) ---


class UnsupportedType(DocparseError):
    code = "unsupported_type"
    status_code = 415


class EmptyFile(DocparseError):
    code = "empty_file"
    status_code = 400


class FileTooLarge(DocparseError):
    code = "file_too_large"
    status_code = 413


class InvalidRequest(DocparseError):
    code = "invalid_request"
    status_code = 400


class Unauthorized(DocparseError):
    code = "unauthorized"
    status_code = 401
    headers = {"WWW-Authenticate": 'Bearer realm="docparse"'}


class Forbidden(DocparseError):
    code = "forbidden"
    status_code = 403


class Busy(DocparseError):
    code = "too_many_requests"
    status_code = 429
    headers = {"Retry-After": "30"}


class Unavailable(DocparseError):
    code = "unavailable"
    status_code = 503
    headers = {"Retry-After": "5"}


class TooManyPages(DocparseError):
    code = "too_many_pages"
    status_code = 422


# --- document problems (found while parsing) ---


class Encrypted(DocparseError):
    code = "encrypted"
    status_code = 422


class WrongPassword(DocparseError):
    code = "wrong_password"
    status_code = 422


class Corrupt(DocparseError):
    code = "corrupt"
    status_code = 422


class PageTimeout(DocparseError):
    code = "page_timeout"
    status_code = 422


class MemoryLimit(DocparseError):
    code = "memory_limit"
    status_code = 422


class JobTimeout(DocparseError):
    code = "timeout"
    status_code = 422


class WorkerLost(DocparseError):
    code = "worker_lost"
    status_code = 500


# --- job lookups ---


class JobNotFound(DocparseError):
    code = "not_found"
    status_code = 404


class JobNotReady(DocparseError):
    code = "not_ready"
    status_code = 409


def error_for_code(code: str, message: str | None = None) -> DocparseError:
    """Rebuild a typed error from its code (errors cross process boundaries as code + message)."""

    def subclasses(cls: type[DocparseError]) -> list[type[DocparseError]]:
        return [s for sub in cls.__subclasses__() for s in (sub, *subclasses(sub))]

    cls = next((c for c in subclasses(DocparseError) if c.code == code), DocparseError)
    return cls(message)


class JobCancelled(DocparseError):
    code = "cancelled"
    status_code = 409


class JobConflict(DocparseError):
    code = "conflict"
    status_code = 409


# --- integrations: webhooks and idempotent uploads ---


class CallbackRefused(DocparseError):
    """A callback URL that may not be called (not http(s), or resolving to a non-public address)."""

    code = "callback_refused"
    status_code = 422


class WebhookFailed(DocparseError):
    """A webhook try the receiver did not take (no answer, 5xx, 429...): tried again later."""

    code = "webhook_failed"
    status_code = 502


class IdempotencyKeyReused(DocparseError):
    """An Idempotency-Key sent again with another file or other options."""

    code = "idempotency_key_reused"
    status_code = 422


class IdempotencyInFlight(DocparseError):
    """An upload with the same Idempotency-Key is still under way, or failed: send it again shortly."""

    code = "idempotency_in_flight"
    status_code = 409
    headers = {"Retry-After": "2"}
