"""The one error hierarchy: every failure a user can see has a stable code, an HTTP status and a readable message."""

from __future__ import annotations


class DocparseError(Exception):
    """Base of every expected failure. `code` is the stable machine name shown as `error.code`."""

    code: str = "internal"
    status_code: int = 500
    headers: dict[str, str] | None = None
    default_message: str = "Something went wrong inside docparse."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


# --- input problems (raised by the API before a job exists, or by parsing) ---


class UnsupportedType(DocparseError):
    code = "unsupported_type"
    status_code = 415
    default_message = (
        "This file type is not supported. Upload a PDF, XPS, EPUB, MOBI, FB2, CBZ, SVG, "
        "plain text or an image (PNG, JPEG, GIF, TIFF, BMP, ...)."
    )


class EmptyFile(DocparseError):
    code = "empty_file"
    status_code = 400
    default_message = "The uploaded file is empty."


class FileTooLarge(DocparseError):
    code = "file_too_large"
    status_code = 413
    default_message = "The uploaded file is larger than this server accepts."


class InvalidRequest(DocparseError):
    code = "invalid_request"
    status_code = 400
    default_message = "The request is not valid."


class Unauthorized(DocparseError):
    code = "unauthorized"
    status_code = 401
    default_message = "This server needs an API key: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
    headers = {"WWW-Authenticate": 'Bearer realm="docparse"'}


class Forbidden(DocparseError):
    code = "forbidden"
    status_code = 403
    default_message = "This key may not do that."


class Busy(DocparseError):
    code = "too_many_requests"
    status_code = 429
    default_message = "The queue is full right now; try again in a little while."
    headers = {"Retry-After": "30"}


class Unavailable(DocparseError):
    code = "unavailable"
    status_code = 503
    default_message = "docparse cannot reach its queue (Redis) right now; try again in a few seconds."
    headers = {"Retry-After": "5"}


class TooManyPages(DocparseError):
    code = "too_many_pages"
    status_code = 422
    default_message = "The document has more pages than this server accepts."


# --- document problems (found while parsing) ---


class Encrypted(DocparseError):
    code = "encrypted"
    status_code = 422
    default_message = "This document is password protected. Upload it again with its password."


class WrongPassword(DocparseError):
    code = "wrong_password"
    status_code = 422
    default_message = "The password does not open this document. Check it and try again."


class Corrupt(DocparseError):
    code = "corrupt"
    status_code = 422
    default_message = "The file is damaged and could not be read."


class PageTimeout(DocparseError):
    code = "page_timeout"
    status_code = 422
    default_message = "A page took too long to parse and was stopped."


class MemoryLimit(DocparseError):
    code = "memory_limit"
    status_code = 422
    default_message = "The document needed more memory than this server allows; it may be a decompression bomb."


class JobTimeout(DocparseError):
    code = "timeout"
    status_code = 422
    default_message = "The document took longer to parse than this server allows."


class WorkerLost(DocparseError):
    code = "worker_lost"
    status_code = 500
    default_message = "The worker processing this document stopped unexpectedly, and retries ran out."


# --- job lookups ---


class JobNotFound(DocparseError):
    code = "not_found"
    status_code = 404
    default_message = "No job with this id exists (it may have expired or been deleted)."


class JobNotReady(DocparseError):
    code = "not_ready"
    status_code = 409
    default_message = "The job has not completed yet."


def error_for_code(code: str, message: str | None = None) -> DocparseError:
    """Rebuild a typed error from its code (errors cross process boundaries as code + message)."""

    def subclasses(cls: type[DocparseError]) -> list[type[DocparseError]]:
        return [s for sub in cls.__subclasses__() for s in (sub, *subclasses(sub))]

    cls = next((c for c in subclasses(DocparseError) if c.code == code), DocparseError)
    return cls(message)


class JobCancelled(DocparseError):
    code = "cancelled"
    status_code = 409
    default_message = "The job was cancelled."


class JobConflict(DocparseError):
    code = "conflict"
    status_code = 409
    default_message = "The job is not in a state that allows this."
