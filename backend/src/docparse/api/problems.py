"""One mapper from errors to RFC 9457 problem details, each with a stable machine `code`."""

from __future__ import annotations

from http import HTTPStatus

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from docparse.errors import DocparseError

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "file_too_large",
    429: "too_many_requests",
}


def problem(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = {
        "type": f"urn:docparse:error:{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def docparse_error_handler(_: Request, exc: DocparseError) -> Response:
    return problem(exc.status_code, exc.code, exc.message, exc.headers)


def http_error_handler(_: Request, exc: HTTPException) -> Response:
    detail = exc.detail
    if isinstance(exc, ValidationException) and exc.extra:
        detail = f"{detail}: {exc.extra}"
    return problem(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), detail, exc.headers)


def internal_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", path=request.url.path, exc_info=exc)
    return problem(500, "internal", "Something went wrong inside docparse. The error was logged.")


EXCEPTION_HANDLERS = {
    DocparseError: docparse_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
