"""The caller's language: `Accept-Language` negotiation, and job statuses and errors said in that language.

The words are in docparse.messages; this module picks the language per request and applies it to what the jobs
layer returns (which is in English), at response time."""

from __future__ import annotations

import functools
from typing import Any

import msgspec
from litestar import Request
from litestar.di import Provide
from litestar.params import HeaderParameter
from litestar.types import ParametersMap

from docparse.jobs.state import JobState
from docparse.jobs.status import ErrorInfo, JobStatus
from docparse.messages import LANGUAGES, Lang, Msg, localize, render, status_text

DEFAULT: Lang = "en"


@functools.lru_cache(maxsize=512)
def negotiate(header: str | None) -> Lang:
    """The language docparse speaks that `header` (an Accept-Language value) prefers: English or Korean.

    A range counts for its primary language (`ko-KR` is Korean); an exact `ko` or `en` range wins over regional
    ones, `*` stands for every language not named, `q=0` refuses one. The highest q wins; a tie goes to the
    range listed first. English when nothing matches."""
    exact: dict[str, float] = {}
    regional: dict[str, float] = {}
    order: dict[str, int] = {}
    wildcard: float | None = None
    for index, item in enumerate((header or "").split(",")):
        tag, *params = item.split(";")
        tag = tag.strip().lower()
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0  # a malformed weight: the range is ignored
        if tag == "*":
            wildcard = q if wildcard is None else wildcard
            order.setdefault("*", index)
            continue
        language = tag.split("-", 1)[0]
        if language not in LANGUAGES:
            continue
        order.setdefault(language, index)
        if "-" in tag:
            regional[language] = max(regional.get(language, 0.0), q)
        else:
            exact.setdefault(language, q)
    best, best_q, best_order = DEFAULT, 0.0, len(order) + 1_000_000
    for language in LANGUAGES:
        q = exact.get(language, regional.get(language, wildcard if wildcard is not None else 0.0))
        position = order.get(language, order.get("*", 1_000_000))
        if q > best_q or (q == best_q and q > 0 and position < best_order):
            best, best_q, best_order = language, q, position
    return best


def provide_lang(request: Request[Any, Any, Any]) -> Lang:
    return negotiate(request.headers.get("accept-language"))


LANG = Provide(provide_lang, sync_to_thread=False)
"""The `lang` dependency of handlers whose answers carry messages."""

ACCEPT_LANGUAGE: ParametersMap = {
    "accept_language": HeaderParameter(
        name="Accept-Language",
        annotation=str | None,
        required=False,
        description="The language of `message`s and problem `detail`s: Korean (`ko`) or English (`en`, the "
        "default), with q-values as browsers send them (`ko-KR,ko;q=0.9,en;q=0.8` is Korean).",
    )
}
"""Documents the header on every route of a controller (its problem details follow it too)."""


def status_message(status: JobStatus) -> Msg | str:
    """What `status.message` says, as a `Msg` (a failed job's is its error's English message)."""
    if status.status == JobState.FAILED:
        return status.error.message if status.error else Msg("status.failed")
    failed = len(status.failed_pages)
    return status_text(status.status, status.pages_done, status.pages_total, failed, status.queue_position)


def localize_status(status: JobStatus, lang: Lang) -> JobStatus:
    """`status` with its message and error said in `lang` (the message is rebuilt from the status's fields)."""
    error = status.error
    if error is not None:
        error = ErrorInfo(error.code, localize(error.code, error.message, lang))
    said = status_message(status)
    message = render(said, lang) if isinstance(said, Msg) else error.message if error else said
    return msgspec.structs.replace(status, message=message, error=error)
