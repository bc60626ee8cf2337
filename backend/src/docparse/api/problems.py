"""One mapper from errors to RFC 9457 problem details, each with a stable machine `code` and a `detail` in the
caller's language (Accept-Language: English or Korean)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from docparse.api.i18n import negotiate
from docparse.errors import DocparseError, Unavailable
from docparse.messages import CATALOGUE, Lang, Msg, localize, render

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


class Problem(msgspec.Struct):
    """RFC 9457 problem details, with docparse's stable machine `code`."""

    type: str
    title: str
    status: int
    detail: str
    code: str


_WHEN = {
    400: "The request is not valid (code invalid_request, empty_file).",
    401: "API keys are on and the request has none that matches (code unauthorized).",
    404: "No such job, or not yours (code not_found).",
    409: "The job is not in a state that allows this (codes not_ready, conflict).",
    413: "The upload is larger than the server accepts (code file_too_large).",
    415: "The bytes are not a supported document type (code unsupported_type).",
    422: "The request is well-formed but cannot be done (e.g. page_timeout while rendering).",
    429: "Too many jobs are waiting (code too_many_requests; see Retry-After).",
    503: "Redis cannot be reached, or too many event streams are open (code unavailable; see Retry-After).",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problem details a handler can answer (400, 401 and 503 always: any parameter can be
    malformed, keys may be on, and Redis may be away)."""
    return {
        status: ResponseSpec(Problem, description=_WHEN[status], media_type=PROBLEM_JSON, generate_examples=False)
        for status in sorted({*statuses, 400, 401, 503})
    }


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, lang: Lang = "en"
) -> Response[Problem]:
    body = Problem(
        type=f"urn:docparse:error:{code}", title=HTTPStatus(status).phrase, status=status, detail=detail, code=code
    )
    said = {"Content-Language": lang, "Vary": "Accept-Language"}
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers={**(headers or {}), **said})


def _lang(request: Request[Any, Any, Any]) -> Lang:
    return negotiate(request.headers.get("accept-language"))


def docparse_error_handler(request: Request[Any, Any, Any], exc: DocparseError) -> Response[Problem]:
    lang = _lang(request)
    # Raised with a Msg (in this process): rendered as such; otherwise English that crossed from the jobs layer.
    detail = render(exc.text, lang) if exc.text is not None else localize(exc.code, exc.message, lang)
    return problem(exc.status_code, exc.code, detail, exc.headers, lang)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    """Litestar's own errors: its words in English; in another language, ours for the status, followed by
    Litestar's details (its validation report names the parameter)."""
    lang = _lang(request)
    detail = exc.detail
    validation = isinstance(exc, ValidationException) and exc.extra
    if lang != "en":
        if validation:
            detail = render(Msg("http.validation", reason=str(exc.extra)), lang)
        elif f"http.{exc.status_code}" in CATALOGUE:
            said = render(Msg(f"http.{exc.status_code}"), lang)
            detail = said if detail == HTTPStatus(exc.status_code).phrase else f"{said} ({detail})"
    elif validation:
        detail = f"{detail}: {exc.extra}"
    return problem(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), detail, exc.headers, lang)


def redis_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """Redis away, too slow, or no free connection in the pool: the client may try again shortly (503), and
    nothing is logged as a bug."""
    log.warning("Redis unavailable", path=request.url.path, error=str(exc))
    return docparse_error_handler(request, Unavailable())


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error", path=request.url.path, exc_info=exc)
    lang = _lang(request)
    return problem(500, "internal", render(Msg("error.internal_logged"), lang), lang=lang)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DocparseError: docparse_error_handler,
    HTTPException: http_error_handler,
    RedisConnectionError: redis_error_handler,
    RedisTimeoutError: redis_error_handler,
    Exception: internal_error_handler,
}
