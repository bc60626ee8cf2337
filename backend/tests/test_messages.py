"""The message catalogue and language negotiation, without Redis: every entry in both languages, English text
from below the API recognised and said again in Korean with its details, plurals, sizes."""

from __future__ import annotations

import re
import string

import pytest

from docparse.api.i18n import negotiate
from docparse.errors import DocparseError, Encrypted, InvalidRequest, error_for_code
from docparse.jobs import child, runner
from docparse.messages import CATALOGUE, Msg, format_size, localize, recognise, render, sizes_apart, status_text
from docparse.pageranges import parse_page_ranges
from docparse.parsing import document


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("ko-KR,ko;q=0.9,en;q=0.8", "ko"),
        ("ko", "ko"),
        ("KO-kr", "ko"),
        ("en-US,en;q=0.9,ko;q=0.8", "en"),
        ("en;q=0.5, ko;q=0.9", "ko"),
        ("ko, en", "ko"),  # a tie goes to the range listed first
        ("en, ko", "en"),
        ("fr-FR,fr;q=0.9,ko;q=0.3", "ko"),  # French is not spoken here; Korean is acceptable
        ("fr", "en"),
        ("*", "en"),
        ("ko;q=0.5, *", "en"),  # * (every other language, English too) is preferred
        ("ko, *;q=0.1", "ko"),
        ("ko;q=0, *", "en"),
        ("ko;q=0", "en"),
        ("ko;q=nonsense", "en"),
        ("ko-KR;q=0.2, en;q=0.1", "ko"),
        ("", "en"),
        (None, "en"),
        (" ko-KR ; q=1.0 ,en;q=0.9", "ko"),
    ],
)
def test_negotiation(header: str | None, lang: str) -> None:
    assert negotiate(header) == lang


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("entry_id", list(CATALOGUE))
def test_every_entry_says_the_same_in_both_languages(entry_id: str) -> None:
    entry = CATALOGUE[entry_id]
    assert (entry.en and entry.ko and entry.en != entry.ko) or entry_id.startswith("http.")
    assert _fields(entry.ko) == _fields(entry.en), "Korean and English take the same parameters"
    if entry.one is not None:
        assert _fields(entry.one) == _fields(entry.en) and entry.count in _fields(entry.en)


def test_every_error_code_has_its_message_in_both_languages() -> None:
    def subclasses(cls: type[DocparseError]) -> list[type[DocparseError]]:
        return [s for sub in cls.__subclasses__() for s in (sub, *subclasses(sub))]

    for cls in [DocparseError, *subclasses(DocparseError)]:
        error = cls()
        assert error.message == cls.default_message == CATALOGUE[f"error.{cls.code}"].en
        assert localize(cls.code, error.message, "ko") == CATALOGUE[f"error.{cls.code}"].ko


def test_no_count_of_one_is_plural_in_english() -> None:
    """Render every entry with every number parameter at 1 (and other words as a placeholder)."""
    for entry_id, entry in CATALOGUE.items():
        params: dict[str, object] = {name: 1 for name in _fields(entry.en)}
        for name in ("detail", "status", "state", "kind", "reason", "spec", "name", "size", "limit", "url"):
            if name in params:
                params[name] = "x"
        text = render(Msg(entry_id, **params))
        assert not re.search(r"\b1 (pages|jobs|parts|headers|event streams)\b", text), (entry_id, text)
        assert not re.search(r"/1 pages\b", text), (entry_id, text)


def test_the_design_notes_examples_in_korean() -> None:
    assert render(Msg("upload.accepted"), "ko") == "파일이 업로드되어 처리 대기열에 등록되었습니다."
    assert render(status_text("processing", 4, 10, 0, None), "ko") == "4/10 페이지 처리 중..."
    assert render(status_text("processing", 4, 10, 0, None)) == "4/10 pages processed"


@pytest.mark.parametrize(
    ("state", "done", "total", "failed", "position", "en", "ko"),
    [
        ("queued", 0, None, 0, None, "Queued", "대기 중"),
        ("queued", 0, None, 0, 0, "Queued; next in line", "대기 중: 다음 차례"),
        ("queued", 0, None, 0, 1, "Queued; 1 job ahead", "대기 중: 앞에 1개 작업"),
        ("queued", 0, None, 0, 1200, "Queued; 1,200 jobs ahead", "대기 중: 앞에 1,200개 작업"),
        ("processing", 0, None, 0, None, "Opening the document", "문서를 여는 중..."),
        ("processing", 0, 1, 0, None, "0/1 page processed", "0/1 페이지 처리 중..."),
        ("processing", 3, 9, 1, None, "3/9 pages processed, 1 failed", "3/9 페이지 처리 중... (1페이지 실패)"),
        ("completed", 1, 1, 0, None, "Completed: 1/1 page processed", "완료: 1/1 페이지 처리됨"),
        ("completed", 2415, 2415, 0, None, "Completed: 2,415/2,415 pages processed", "완료: 2,415/2,415 페이지 처리됨"),
        ("cancelled", 2, 10, 0, None, "Cancelled after 2/10 pages processed", "취소됨: 2/10 페이지 처리 후"),
        ("cancelled", 0, None, 0, None, "Cancelled", "취소됨"),
    ],
)
def test_status_messages(
    state: str, done: int, total: int | None, failed: int, position: int | None, en: str, ko: str
) -> None:
    text = status_text(state, done, total, failed, position)
    assert (render(text, "en"), render(text, "ko")) == (en, ko)
    assert recognise(en) == Msg(text.id, **{k: f"{v:,}" for k, v in text.params.items()})


class _MuPDFError(Exception):
    """Like MuPDF's exceptions, which carry their bare words in `m_text`."""

    def __init__(self, text: str) -> None:
        super().__init__(f"wrapped: {text}")
        self.m_text = text


def _english_from_below_the_api() -> list[tuple[str, str, str]]:
    """(code, English as the jobs and parsing layers write it, Korean): made by their own functions where they
    are reachable, copied from tasks.py and service.py where they are not."""
    open_timeout = runner._open_failure(TimeoutError(), 30.0)
    page_timeout = runner._page_failure(7, TimeoutError(), 2.5)
    crashed = runner._page_failure(3, RuntimeError("boom"), 2.5)
    with pytest.raises(InvalidRequest) as beyond:
        parse_page_ranges("5-9", 1)
    return [
        (open_timeout.code, open_timeout.message, "문서를 여는 데 30초 넘게 걸려 중단되었습니다."),
        (page_timeout.code, page_timeout.message, "7페이지 처리에 2.5초 넘게 걸려 중단되었습니다."),
        (crashed.code, crashed.message, "3페이지에서 파서가 비정상 종료되었습니다. 페이지가 손상된 것으로 보입니다."),
        (
            "memory_limit",
            child._memory_message("Page 12"),
            "12페이지 처리에 이 서버가 허용하는 것보다 많은 메모리가 필요했습니다. 압축 폭탄 파일일 수 있습니다.",
        ),
        (
            "corrupt",
            document._unreadable("pdf", _MuPDFError("code=7: no objects found")),
            "MuPDF가 이 파일을 PDF 형식으로 열지 못했습니다: code=7: no objects found.",
        ),
        ("invalid_request", beyond.value.message, "pages: 5페이지가 없습니다. 문서는 1페이지까지 있습니다."),
        # tasks.py
        (
            "corrupt",
            "Page 3 could not be read: syntax error in content stream. No page could be read.",
            "3페이지를 읽을 수 없습니다: syntax error in content stream. 읽을 수 있는 페이지가 없습니다.",
        ),
        ("timeout", "Parsing took longer than 600 s and was stopped.", "처리 시간이 600초를 넘어 중단되었습니다."),
        ("cancelled", "The job was cancelled after 1 pages.", "작업이 1페이지를 처리한 뒤 취소되었습니다."),
        ("not_found", "The job was deleted before it could run.", "작업이 실행되기 전에 삭제되었습니다."),
        # service.py
        ("too_many_requests", "1 jobs are already waiting; try again in a little while.", None),
        (
            "not_ready",
            "The job is processing, not completed: 4/10 pages processed.",
            "작업이 아직 완료되지 않았습니다(처리 중): 4/10 페이지 처리 중...",
        ),
        (
            "conflict",
            "The job is already completed; there is nothing to cancel.",
            "작업이 이미 완료 상태입니다. 취소할 것이 없습니다.",
        ),
        ("not_found", "The document has no page 12; it has 10.", "문서에 12페이지가 없습니다. 전체 10페이지입니다."),
        # storage/objects.py
        (
            "unavailable",
            "docparse cannot reach its storage s3://bucket: connection refused",
            "docparse가 저장소 s3://bucket에 연결할 수 없습니다: connection refused",
        ),
    ]  # type: ignore[list-item]


def test_english_from_below_the_api_is_said_in_korean_with_its_details() -> None:
    for code, english, korean in _english_from_below_the_api():
        assert recognise(english) is not None, english
        if korean is not None:
            assert localize(code, english, "ko") == korean


def test_old_records_mend_their_plurals_in_english() -> None:
    assert localize("cancelled", "The job was cancelled after 1 pages.", "en") == "The job was cancelled after 1 page."
    assert localize("too_many_requests", "1 jobs are already waiting; try again in a little while.", "en") == (
        "1 job is already waiting; try again in a little while."
    )


def test_unknown_text_keeps_its_details_after_the_codes_message() -> None:
    korean = localize("corrupt", "Something MuPDF said", "ko")
    assert korean == "파일이 손상되어 읽을 수 없습니다. (Something MuPDF said)"
    assert localize("corrupt", "Something MuPDF said", "en") == "Something MuPDF said"
    assert localize("no_such_code", "Whatever", "ko") == "Whatever"


def test_an_error_raised_with_a_msg_keeps_it_and_has_english() -> None:
    error = error_for_code("encrypted")
    assert isinstance(error, Encrypted) and error.text == Msg("error.encrypted")
    raised = InvalidRequest(Msg("pages.beyond", first=5, count=1))
    assert raised.message == "pages: 5 is beyond the document's 1 page."
    korean = render(raised.text or Msg("error.internal"), "ko")
    assert korean == "pages: 5페이지가 없습니다. 문서는 1페이지까지 있습니다."
    assert InvalidRequest("plain words").text is None


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1,023 B"),
        (1536, "1.5 KiB"),
        (10 * 2**20, "10 MiB"),
        (2**30, "1 GiB"),
        (int(1.5 * 2**30), "1.5 GiB"),
        (2**40 * 3, "3 TiB"),
    ],
)
def test_sizes_in_binary_units(size: int, text: str) -> None:
    assert format_size(size) == text


def test_a_refused_size_never_reads_as_the_limit() -> None:
    gib = 2**30
    assert sizes_apart(1_080_000_000, gib) == ("1.01 GiB", "1 GiB")  # the 1.08 GB file against 1 GiB
    assert sizes_apart(gib + 2**20, gib) == ("1.001 GiB", "1 GiB")
    assert sizes_apart(gib + 1, gib) == ("1.001 GiB", "1 GiB")
    assert sizes_apart(3 * 2**20 + 500, 2**20) == ("3 MiB", "1 MiB")
