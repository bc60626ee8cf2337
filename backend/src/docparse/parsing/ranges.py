"""Page selections like "1-3,7,10-" turned into zero-based page indices."""

from __future__ import annotations

import re

from docparse.errors import InvalidRequest

# One part of a selection: "7", "1-3", "10-" (to the end) or "-3" (from the start).
_PART = re.compile(r"(\d+)?\s*(-)?\s*(\d+)?")


def parse_page_ranges(spec: str | None, page_count: int) -> list[int]:
    """Sorted unique zero-based indices of the 1-based pages `spec` names; every page when `spec` is empty."""
    if spec is None or not spec.strip():
        return list(range(page_count))
    selected: set[int] = set()
    for part in spec.split(","):
        first, last = _bounds(part.strip(), page_count)
        selected.update(range(first - 1, last))
    return sorted(selected)


def _bounds(part: str, page_count: int) -> tuple[int, int]:
    """(first, last) 1-based and inclusive for one part, checked against the document."""
    match = _PART.fullmatch(part)
    if not part or match is None or not (match[1] or match[3]):
        raise InvalidRequest(f"pages: '{part}' is not a page or a range like 1-3, 7 or 10-.")
    start, dash, end = match.groups()
    first = int(start) if start else 1
    last = int(end) if end else (page_count if dash else first)
    if first < 1:
        raise InvalidRequest("pages: pages are numbered from 1.")
    if end and last < first:
        raise InvalidRequest(f"pages: '{part}' runs backwards; write it as {last}-{first}.")
    if max(first, last) > page_count:
        raise InvalidRequest(f"pages: {max(first, last)} is beyond the document's {page_count} pages.")
    return first, last
