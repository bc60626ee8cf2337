"""Page selections like `1-3,7,10-`: validated at upload (no page count yet) and resolved once the count is known."""

from __future__ import annotations

import re

from docparse.errors import InvalidRequest
from docparse.messages import Msg

_PART = re.compile(r"^\s*(\d+)?\s*(-)?\s*(\d+)?\s*$")


def _parts(spec: str) -> list[tuple[int, int | None]]:
    """(first, last) pairs, 1-based and inclusive; last None means 'to the end'."""
    parts = []
    for raw in spec.split(","):
        match = _PART.match(raw)
        if not raw.strip() or not match or not (match[1] or match[3]):
            raise InvalidRequest(Msg("pages.not_a_range", spec=raw.strip()))
        first = int(match[1]) if match[1] else 1
        last = int(match[3]) if match[3] else (None if match[2] else first)
        if first < 1:
            raise InvalidRequest(Msg("pages.from_one", spec=raw.strip()))
        if last is not None and last < first:
            raise InvalidRequest(Msg("pages.backwards", spec=raw.strip(), first=first, last=last))
        parts.append((first, last))
    return parts


def validate_page_spec(spec: str | None) -> None:
    if spec:
        _parts(spec)


def parse_page_ranges(spec: str | None, page_count: int, *, strict: bool = True) -> list[int]:
    """Zero-based, sorted, unique page indices selected by `spec` (all pages when empty).

    With `strict`, pages beyond `page_count` are an error; otherwise they are dropped (for reading results)."""
    if not spec or not spec.strip():
        return list(range(page_count))
    selected: set[int] = set()
    for first, last in _parts(spec):
        if strict and first > page_count:
            raise InvalidRequest(Msg("pages.beyond", first=first, count=page_count))
        end = page_count if last is None else min(last, page_count)
        selected.update(range(first - 1, end))
    return sorted(selected)
