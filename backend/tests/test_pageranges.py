"""Page selections: 1-based selections in, zero-based sorted unique indices out, clear errors."""

from __future__ import annotations

import pytest

from docparse.errors import InvalidRequest
from docparse.pageranges import parse_page_ranges, validate_page_spec


@pytest.mark.parametrize(
    ("spec", "count", "expected"),
    [
        (None, 3, [0, 1, 2]),
        ("", 3, [0, 1, 2]),
        ("   ", 2, [0, 1]),
        ("1-3,7", 10, [0, 1, 2, 6]),
        ("7,1-3", 10, [0, 1, 2, 6]),
        ("2,2,1-2", 5, [0, 1]),
        ("5-", 7, [4, 5, 6]),
        ("-2", 7, [0, 1]),
        (" 1 - 2 , 4 ", 5, [0, 1, 3]),
        ("3-3", 3, [2]),
        ("10", 10, [9]),
        ("1-", 1, [0]),
        ("8-12", 10, [7, 8, 9]),  # a range running past the end stops at the last page
    ],
)
def test_selections(spec: str | None, count: int, expected: list[int]) -> None:
    assert parse_page_ranges(spec, count) == expected


@pytest.mark.parametrize(
    ("spec", "count", "message"),
    [
        ("12", 10, "pages: 12 is beyond the document's 10 pages."),
        ("11-", 10, "pages: 11 is beyond the document's 10 pages."),
        ("0", 10, "numbered from 1"),
        ("0-2", 10, "numbered from 1"),
        ("3-1", 10, "runs backwards"),
        ("a", 10, "'a' is not a page"),
        ("1,,2", 10, "'' is not a page"),
        ("1-2-3", 10, "'1-2-3' is not a page"),
        ("-", 10, "'-' is not a page"),
        ("1.5", 10, "'1.5' is not a page"),
        ("-3-", 10, "is not a page"),
    ],
)
def test_errors(spec: str, count: int, message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_page_ranges(spec, count)
    assert message in caught.value.message
    assert caught.value.code == "invalid_request"


def test_lenient_mode_drops_pages_beyond_the_end() -> None:
    assert parse_page_ranges("2,12-", 10, strict=False) == [1]


@pytest.mark.parametrize("spec", ["1-3,7", "10-", "-2", None, ""])
def test_validation_without_a_page_count_accepts(spec: str | None) -> None:
    validate_page_spec(spec)


@pytest.mark.parametrize("spec", ["3-1", "a", "0", "1,,2"])
def test_validation_without_a_page_count_refuses(spec: str) -> None:
    with pytest.raises(InvalidRequest):
        validate_page_spec(spec)
