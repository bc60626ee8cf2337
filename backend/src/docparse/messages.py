"""What docparse says to people, in English and Korean: one catalogue entry per message id, both languages side by side.

How the layers use it (a leaf module: `api`, `jobs` and `parsing` may all import it; it imports none of them):

- Code below the API stays language-neutral. A typed error carries a `Msg` (message id + parameters) or, where
  it crosses a process or is stored, its English text: errors travel from the parse process to the worker and sit
  in a job's Redis record as `code` + English `message` (records written before this module look the same).
- The API renders at response time, in the caller's language (`api/i18n.py` negotiates `Accept-Language`):
  `render(msg, lang)` for a `Msg`, and `localize(code, text, lang)` for stored English. `localize` recognises the
  text by matching it against the English templates below, takes the parameters back out (page numbers, limits,
  MuPDF's own words) and renders the same entry again (in English too, which mends plurals in old records). A
  text no template matches keeps its details after the code's own message in that language.
- A job's status message is never translated from text: `status_text` builds it from the status's own fields
  (state, pages, queue position), so the jobs layer renders it in English and the API renders it again for
  the caller.

Templates use `{name}` placeholders. English has a second form for a count of one (`one=`, chosen by the
parameter named in `count=`); Korean has no plural. Numbers are written with a thousands separator, sizes in
binary units (KiB, MiB, GiB: what the web UI shows), durations in seconds. Entries that wrap another message
(`{detail}`) come before the ones they wrap, since `localize` takes the first template that matches.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["LANGUAGES", "Lang", "Msg", "english", "format_size", "localize", "render", "sizes_apart", "status_text"]

Lang = Literal["en", "ko"]
LANGUAGES: tuple[Lang, ...] = ("en", "ko")


@dataclass(frozen=True)
class Msg:
    """A message to render later: its catalogue id and parameters (numbers, words, or other `Msg`s)."""

    id: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __init__(self, id: str, /, **params: object) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "params", params)


@dataclass(frozen=True)
class _Entry:
    en: str
    ko: str
    one: str | None = None  # English for a count of one
    count: str = "count"  # the parameter that chooses between `one` and `en`


def _e(en: str, ko: str, *, one: str | None = None, count: str = "count") -> _Entry:
    return _Entry(en, ko, one, count)


_MEMORY_EN = "needed more memory than this server allows; the file may be a decompression bomb."
_MEMORY_KO = "이 서버가 허용하는 것보다 많은 메모리가 필요했습니다. 압축 폭탄 파일일 수 있습니다."

CATALOGUE: dict[str, _Entry] = {
    # --- wrappers first (see the module docstring) ---
    "job.no_page_read": _e("{detail} No page could be read.", "{detail} 읽을 수 있는 페이지가 없습니다."),
    "result.not_completed": _e(
        "The job is {state}, not completed: {status}.", "작업이 아직 완료되지 않았습니다({state}): {status}"
    ),
    "page.not_available": _e(
        "Page {page} is not available ({status}).",
        "{page}페이지는 아직 볼 수 없습니다({status}).",
    ),
    # --- a job's status message (status_text) ---
    "status.queued_ahead": _e(
        "Queued; {count} jobs ahead",
        "대기 중: 앞에 {count}개 작업",
        one="Queued; {count} job ahead",
    ),
    "status.queued_next": _e("Queued; next in line", "대기 중: 다음 차례"),
    "status.queued": _e("Queued", "대기 중"),
    "status.opening": _e("Opening the document", "문서를 여는 중..."),
    "status.progress_failed": _e(
        "{done}/{total} pages processed, {failed} failed",
        "{done}/{total} 페이지 처리 중... ({failed}페이지 실패)",
        one="{done}/{total} page processed, {failed} failed",
        count="total",
    ),
    "status.progress": _e(
        "{done}/{total} pages processed",
        "{done}/{total} 페이지 처리 중...",
        one="{done}/{total} page processed",
        count="total",
    ),
    "status.completed_pages_failed": _e(
        "Completed: {done}/{total} pages processed, {failed} failed",
        "완료: {done}/{total} 페이지 처리됨, {failed}페이지 실패",
        one="Completed: {done}/{total} page processed, {failed} failed",
        count="total",
    ),
    "status.completed_pages": _e(
        "Completed: {done}/{total} pages processed",
        "완료: {done}/{total} 페이지 처리됨",
        one="Completed: {done}/{total} page processed",
        count="total",
    ),
    "status.completed": _e("Completed", "완료"),
    "status.cancelled_after": _e(
        "Cancelled after {done}/{total} pages processed",
        "취소됨: {done}/{total} 페이지 처리 후",
        one="Cancelled after {done}/{total} page processed",
        count="total",
    ),
    "status.cancelled": _e("Cancelled", "취소됨"),
    "status.failed": _e("Failed", "실패"),
    # --- the words for states and kinds of file, used inside other messages ---
    "term.queued": _e("queued", "대기 중"),
    "term.processing": _e("processing", "처리 중"),
    "term.completed": _e("completed", "완료"),
    "term.failed": _e("failed", "실패"),
    "term.cancelled": _e("cancelled", "취소됨"),
    "term.plain text": _e("plain text", "일반 텍스트"),
    # --- each error code's own message (DocparseError.default_message) ---
    "error.internal": _e("Something went wrong inside docparse.", "docparse 내부에서 문제가 발생했습니다."),
    "error.unsupported_type": _e(
        "This file type is not supported. Upload a PDF, XPS, EPUB, MOBI, FB2, CBZ, SVG, "
        "plain text or an image (PNG, JPEG, GIF, TIFF, BMP, ...).",
        "지원하지 않는 파일 형식입니다. PDF, XPS, EPUB, MOBI, FB2, CBZ, SVG, 일반 텍스트 또는 "
        "이미지(PNG, JPEG, GIF, TIFF, BMP 등)를 업로드하세요.",
    ),
    "error.empty_file": _e("The uploaded file is empty.", "업로드한 파일이 비어 있습니다."),
    "error.file_too_large": _e(
        "The uploaded file is larger than this server accepts.", "업로드한 파일이 이 서버가 받는 크기보다 큽니다."
    ),
    "error.invalid_request": _e("The request is not valid.", "요청이 올바르지 않습니다."),
    "error.unauthorized": _e(
        "This server needs an API key: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.",
        "이 서버에는 API 키가 필요합니다. 'Authorization: Bearer <키>' 또는 'X-API-Key: <키>' 헤더로 보내세요.",
    ),
    "error.forbidden": _e("This key may not do that.", "이 키로는 할 수 없는 작업입니다."),
    "error.too_many_requests": _e(
        "The queue is full right now; try again in a little while.",
        "지금은 처리 대기열이 가득 찼습니다. 잠시 후 다시 시도하세요.",
    ),
    "error.unavailable": _e(
        "docparse cannot reach its queue (Redis) right now; try again in a few seconds.",
        "docparse가 지금 작업 대기열(Redis)에 연결할 수 없습니다. 몇 초 후 다시 시도하세요.",
    ),
    "error.too_many_pages": _e(
        "The document has more pages than this server accepts.",
        "문서의 페이지 수가 이 서버가 처리하는 한도를 넘습니다.",
    ),
    "error.encrypted": _e(
        "This document is password protected. Upload it again with its password.",
        "암호로 보호된 문서입니다. 암호와 함께 다시 업로드하세요.",
    ),
    "error.wrong_password": _e(
        "The password does not open this document. Check it and try again.",
        "암호가 맞지 않아 문서를 열 수 없습니다. 암호를 확인하고 다시 시도하세요.",
    ),
    "error.corrupt": _e("The file is damaged and could not be read.", "파일이 손상되어 읽을 수 없습니다."),
    "error.page_timeout": _e(
        "A page took too long to parse and was stopped.", "한 페이지의 처리 시간이 너무 길어 중단되었습니다."
    ),
    "error.memory_limit": _e(
        "The document needed more memory than this server allows; it may be a decompression bomb.",
        "문서 처리에 이 서버가 허용하는 것보다 많은 메모리가 필요했습니다. 압축 폭탄 파일일 수 있습니다.",
    ),
    "error.timeout": _e(
        "The document took longer to parse than this server allows.",
        "문서 처리 시간이 이 서버가 허용하는 시간을 넘었습니다.",
    ),
    "error.worker_lost": _e(
        "The worker processing this document stopped unexpectedly, and retries ran out.",
        "이 문서를 처리하던 워커가 예기치 않게 멈췄고, 재시도 횟수도 모두 소진되었습니다.",
    ),
    "error.not_found": _e(
        "No job with this id exists (it may have expired or been deleted).",
        "이 ID의 작업이 없습니다(보관 기간이 지났거나 삭제되었을 수 있습니다).",
    ),
    "error.not_ready": _e("The job has not completed yet.", "작업이 아직 완료되지 않았습니다."),
    "error.cancelled": _e("The job was cancelled.", "작업이 취소되었습니다."),
    "error.conflict": _e(
        "The job is not in a state that allows this.", "작업이 지금 이 요청을 처리할 수 있는 상태가 아닙니다."
    ),
    "error.callback_refused": _e("This callback URL may not be called.", "이 콜백 URL로는 알림을 보낼 수 없습니다."),
    "error.webhook_failed": _e(
        "The webhook receiver did not take the delivery; it will be tried again.",
        "웹훅 수신 측이 알림을 받지 못했습니다. 나중에 다시 보냅니다.",
    ),
    "error.idempotency_key_reused": _e(
        "This Idempotency-Key was already used with another file or other options.",
        "이 Idempotency-Key는 이미 다른 파일이나 다른 옵션으로 사용되었습니다.",
    ),
    "error.idempotency_in_flight": _e(
        "An upload with this Idempotency-Key is still under way; send it again in a moment.",
        "같은 Idempotency-Key의 업로드가 아직 처리 중입니다. 잠시 후 다시 보내 주세요.",
    ),
    "error.internal_logged": _e(
        "Something went wrong inside docparse. The error was logged.",
        "docparse 내부에서 문제가 발생했습니다. 오류는 기록되었습니다.",
    ),
    # --- HTTP errors Litestar raises itself (by status) ---
    "http.400": _e("Bad Request", "잘못된 요청입니다."),
    "http.404": _e("Not Found", "찾을 수 없습니다."),
    "http.405": _e("Method Not Allowed", "허용되지 않는 메서드입니다."),
    "http.validation": _e("Validation failed: {reason}", "요청 값이 올바르지 않습니다: {reason}"),
    # --- upload ---
    "upload.accepted": _e(
        "The file was uploaded and queued for processing.", "파일이 업로드되어 처리 대기열에 등록되었습니다."
    ),
    "upload.reused": _e(
        "This file was parsed before with the same options; its result was copied and the job is complete.",
        "같은 옵션으로 이미 처리한 파일이라 이전 결과를 복사했고 작업이 완료되었습니다.",
    ),
    "upload.not_multipart": _e(
        "Send the document as multipart/form-data, in a field named 'file'.",
        "문서를 multipart/form-data 형식의 'file' 필드에 담아 보내세요.",
    ),
    "upload.too_large": _e(
        "The upload is {size}; this server accepts files up to {limit}.",
        "업로드 크기가 {size}입니다. 이 서버는 {limit}까지의 파일만 받습니다.",
    ),
    "upload.too_large_stream": _e(
        "The file is larger than {limit}, the most this server accepts.",
        "파일이 이 서버가 받는 최대 크기({limit})보다 큽니다.",
    ),
    "upload.field_too_long": _e("The form field '{name}' is too long.", "폼 필드 '{name}'의 값이 너무 깁니다."),
    "upload.parser_limit": _e(
        "The multipart body passes a limit of this server: {detail}.",
        "multipart 본문이 이 서버의 한도를 넘습니다: {detail}.",
    ),
    "upload.limit_parts": _e("more than {count} parts", "파트가 {count}개 초과", one="more than {count} part"),
    "upload.limit_headers": _e(
        "more than {count} headers in one part",
        "한 파트에 헤더가 {count}개 초과",
        one="more than {count} header in one part",
    ),
    "upload.limit_header_line": _e(
        "a header line longer than {size} (a file name must fit in one)",
        "헤더 한 줄이 {size} 초과(파일 이름이 한 줄에 들어가야 합니다)",
    ),
    "upload.malformed": _e(
        "The multipart body is malformed: {reason}",
        "multipart 본문 형식이 잘못되었습니다: {reason}",
    ),
    "upload.no_file": _e(
        "No file was sent: put the document in a multipart field named 'file'.",
        "파일이 없습니다. 문서를 multipart의 'file' 필드에 담아 보내세요.",
    ),
    "options.ocr": _e(
        "ocr: 'auto' (pages without a text layer), 'always' or 'never'.",
        "ocr: 'auto'(텍스트 레이어가 없는 페이지), 'always', 'never' 중 하나여야 합니다.",
    ),
    "options.ocr_languages": _e(
        "ocr_languages: Tesseract language names joined by '+', e.g. 'kor+eng'.",
        "ocr_languages: '+'로 이은 Tesseract 언어 이름이어야 합니다(예: 'kor+eng').",
    ),
    "options.ocr_missing": _e(
        "ocr_languages: this server has no traineddata for {missing}; it reads {installed}.",
        "ocr_languages: 이 서버에는 {missing}의 traineddata가 없습니다. 읽을 수 있는 언어: {installed}.",
    ),
    "options.invalid": _e(
        "options: {reason}. Known options: tables, markdown, images, links.",
        "options: {reason}. 사용할 수 있는 옵션: tables, markdown, images, links.",
    ),
    "options.not_json": _e("options: not valid JSON.", "options: 올바른 JSON이 아닙니다."),
    "cursor.invalid": _e(
        "cursor: not one this server gave out; pass next_cursor back as it came.",
        "cursor: 이 서버가 준 값이 아닙니다. 받은 next_cursor 값을 그대로 보내세요.",
    ),
    # --- page ranges ---
    "pages.not_a_range": _e(
        "pages: '{spec}' is not a page or a range like 1-3, 7 or 10-.",
        "pages: 알 수 없는 값 '{spec}'. 1-3, 7, 10- 처럼 페이지 번호나 범위로 쓰세요.",
    ),
    "pages.from_one": _e(
        "pages: '{spec}' is not a valid range (pages are numbered from 1).",
        "pages: 잘못된 범위 '{spec}'. 페이지 번호는 1부터 시작합니다.",
    ),
    "pages.backwards": _e(
        "pages: '{spec}' runs backwards; write {last}-{first}.",
        "pages: 범위 '{spec}'의 순서가 거꾸로입니다. {last}-{first}처럼 쓰세요.",
    ),
    "pages.beyond": _e(
        "pages: {first} is beyond the document's {count} pages.",
        "pages: {first}페이지가 없습니다. 문서는 {count}페이지까지 있습니다.",
        one="pages: {first} is beyond the document's {count} page.",
    ),
    # --- jobs: management, results, the queue ---
    "busy.waiting": _e(
        "{count} jobs are already waiting; try again in a little while.",
        "이미 {count}개의 작업이 대기 중입니다. 잠시 후 다시 시도하세요.",
        one="{count} job is already waiting; try again in a little while.",
    ),
    "cancel.nothing": _e(
        "The job is already {state}; there is nothing to cancel.",
        "작업이 이미 {state} 상태입니다. 취소할 것이 없습니다.",
    ),
    "retry.not_allowed": _e(
        "Only failed or cancelled jobs can be retried; this one is {state}.",
        "실패했거나 취소된 작업만 다시 시도할 수 있습니다. 이 작업은 {state} 상태입니다.",
    ),
    "streams.full": _e(
        "This server already serves {count} event streams; try again shortly, or poll.",
        "이 서버는 이미 이벤트 스트림 {count}개를 제공하고 있습니다. "
        "잠시 후 다시 시도하거나 상태를 주기적으로 조회하세요.",
        one="This server already serves {count} event stream; try again shortly, or poll.",
    ),
    "result.not_opened": _e("The document has not been opened yet.", "문서를 아직 열지 않았습니다."),
    "page.no_such": _e(
        "The document has no page {page}; it has {count}.", "문서에 {page}페이지가 없습니다. 전체 {count}페이지입니다."
    ),
    "page.failed": _e("Page {page} could not be parsed.", "{page}페이지를 파싱하지 못했습니다."),
    "job.deleted_before_run": _e("The job was deleted before it could run.", "작업이 실행되기 전에 삭제되었습니다."),
    "job.file_gone": _e(
        "The uploaded file is gone; the job was probably deleted.",
        "업로드한 파일이 없습니다. 작업이 삭제된 것으로 보입니다.",
    ),
    "job.timeout": _e(
        "Parsing took longer than {seconds} s and was stopped.", "처리 시간이 {seconds}초를 넘어 중단되었습니다."
    ),
    "job.cancelled_after": _e(
        "The job was cancelled after {count} pages.",
        "작업이 {count}페이지를 처리한 뒤 취소되었습니다.",
        one="The job was cancelled after {count} page.",
    ),
    "storage.unavailable": _e(
        "docparse cannot reach its storage {url}: {reason}", "docparse가 저장소 {url}에 연결할 수 없습니다: {reason}"
    ),
    # --- parsing: opening a document, pages, pictures ---
    "open.too_many_pages": _e(
        "The document has {count} pages; this server accepts at most {max}.",
        "문서가 {count}페이지입니다. 이 서버는 최대 {max}페이지까지 처리합니다.",
        one="The document has {count} page; this server accepts at most {max}.",
    ),
    "open.timeout": _e(
        "Opening the document took longer than {seconds} s; it was stopped.",
        "문서를 여는 데 {seconds}초 넘게 걸려 중단되었습니다.",
    ),
    "open.memory": _e(f"Opening the document {_MEMORY_EN}", f"문서를 여는 데 {_MEMORY_KO}"),
    "open.crashed": _e(
        "The parser crashed while opening the file; it is probably damaged.",
        "파일을 여는 중 파서가 비정상 종료되었습니다. 파일이 손상된 것으로 보입니다.",
    ),
    "open.unsupported": _e("'{kind}' is not a type docparse reads.", "docparse는 '{kind}' 형식을 읽지 않습니다."),
    "open.no_pages": _e(
        "The {kind} file has no pages MuPDF could find.", "MuPDF가 이 {kind} 파일에서 페이지를 찾지 못했습니다."
    ),
    "open.unreadable_reason": _e(
        "MuPDF could not open this file as {kind}: {reason}.",
        "MuPDF가 이 파일을 {kind} 형식으로 열지 못했습니다: {reason}.",
    ),
    "open.unreadable": _e(
        "MuPDF could not open this file as {kind}.",
        "MuPDF가 이 파일을 {kind} 형식으로 열지 못했습니다.",
    ),
    "file.unreadable": _e("The file could not be read: {reason}", "파일을 읽을 수 없습니다: {reason}"),
    "page.unreadable": _e("Page {page} could not be read: {reason}.", "{page}페이지를 읽을 수 없습니다: {reason}."),
    "page.timeout": _e(
        "Page {page} took longer than {seconds} s and was stopped.",
        "{page}페이지 처리에 {seconds}초 넘게 걸려 중단되었습니다.",
    ),
    "page.memory": _e(f"Page {{page}} {_MEMORY_EN}", f"{{page}}페이지 처리에 {_MEMORY_KO}"),
    "page.crashed": _e(
        "The parser crashed on page {page}; the page is probably damaged.",
        "{page}페이지에서 파서가 비정상 종료되었습니다. 페이지가 손상된 것으로 보입니다.",
    ),
    "render.memory": _e(f"Rendering page {{page}} {_MEMORY_EN}", f"{{page}}페이지를 그리는 데 {_MEMORY_KO}"),
    "render.timeout": _e(
        "Rendering page {page} took longer than {seconds} s.", "{page}페이지를 그리는 데 {seconds}초 넘게 걸렸습니다."
    ),
    "render.image_memory": _e(
        "Page {page} holds a {width} x {height} px image; drawing it would need more memory than this server "
        "allows (at most {megapixels} megapixels).",
        "{page}페이지에 {width} x {height} px 이미지가 있어, 그리려면 이 서버가 허용하는 것보다 많은 메모리가 "
        "필요합니다(최대 {megapixels}메가픽셀).",
    ),
    # --- the API key guard of the monitor ---
    "monitor.off": _e(
        "The monitor is off because API keys are on and no operator key is set: set DOCPARSE_ADMIN_KEYS to open it "
        "with an operator key.",
        "API 키가 켜져 있고 운영자 키가 설정되지 않아 모니터가 꺼져 있습니다. 운영자 키로 열려면 "
        "DOCPARSE_ADMIN_KEYS를 설정하세요.",
    ),
    "monitor.not_for_tenants": _e(
        "The monitor shows every tenant's jobs: it takes an operator key (DOCPARSE_ADMIN_KEYS), not an API key.",
        "모니터는 모든 사용자의 작업을 보여 주므로 API 키가 아니라 운영자 키(DOCPARSE_ADMIN_KEYS)가 필요합니다.",
    ),
    "monitor.needs_key": _e(
        "The monitor needs an operator key: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>', "
        "or open /monitor?api_key=<key> once in a browser.",
        "모니터에는 운영자 키가 필요합니다. 'Authorization: Bearer <키>' 또는 'X-API-Key: <키>' 헤더로 보내거나, "
        "브라우저에서 /monitor?api_key=<키>를 한 번 여세요.",
    ),
}

# Parameters that hold another message (translated in turn), words with a `term.` entry, and numbers (matched as
# digits, so that a wrapper's text is not taken for a number).
_NESTED = frozenset({"detail", "status"})
_TERMS = frozenset({"state", "kind"})
_NUMBERS = frozenset({"count", "done", "total", "failed", "page", "first", "last", "max", "seconds", "width", "height"})


def render(msg: Msg, lang: Lang = "en") -> str:
    entry = CATALOGUE[msg.id]
    template = entry.ko if lang == "ko" else entry.en
    if lang != "ko" and entry.one is not None and _number(msg.params.get(entry.count)) == 1:
        template = entry.one
    return template.format_map({name: _param(name, value, lang) for name, value in msg.params.items()})


def english(msg: Msg) -> str:
    return render(msg, "en")


def _param(name: str, value: object, lang: Lang) -> str:
    if isinstance(value, Msg):
        return render(value, lang)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,g}"
    text = str(value)
    if name in _NESTED:
        return localize(None, text, lang)
    if name in _TERMS and f"term.{text}" in CATALOGUE:
        return render(Msg(f"term.{text}"), lang)
    return text


def _number(value: object) -> int | None:
    if isinstance(value, int):
        return value
    try:
        return int(str(value).replace(",", ""))
    except ValueError:
        return None


def _pattern(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        parts.append(re.escape(literal))
        if name in seen:
            parts.append(f"(?P={name})")
        elif name:
            seen.add(name)
            parts.append(rf"(?P<{name}>[\d.,]+)" if name in _NUMBERS else rf"(?P<{name}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (id, _pattern(template))
    for id, entry in CATALOGUE.items()
    if not id.startswith("term.")
    for template in (entry.en, *([entry.one] if entry.one else []))
]


def recognise(text: str) -> Msg | None:
    """The message `text` (English, as rendered from the catalogue or written alike) was made from."""
    for id, pattern in _PATTERNS:
        if match := pattern.fullmatch(text):
            return Msg(id, **match.groupdict())
    return None


@functools.lru_cache(maxsize=4096)
def localize(code: str | None, text: str, lang: Lang) -> str:
    """`text`, an English message (of an error with `code`, when known), in `lang`. See the module docstring."""
    msg = recognise(text)
    if msg is not None:
        return render(msg, lang)
    if lang == "en" or code is None or f"error.{code}" not in CATALOGUE:
        return text
    return f"{render(Msg(f'error.{code}'), lang)} ({text})"


def status_text(state: str, done: int, total: int | None, failed: int, position: int | None) -> Msg:
    """A job's status message, from the status's own fields (a failed job's message is its error's instead)."""
    if state == "queued":
        if position:
            return Msg("status.queued_ahead", count=position)
        return Msg("status.queued_next" if position == 0 else "status.queued")
    pages = {"done": done, "total": total}
    if state == "processing":
        if not total:
            return Msg("status.opening")
        return Msg("status.progress_failed", **pages, failed=failed) if failed else Msg("status.progress", **pages)
    if state == "completed":
        if not total:
            return Msg("status.completed")
        if failed:
            return Msg("status.completed_pages_failed", **pages, failed=failed)
        return Msg("status.completed_pages", **pages)
    if state == "cancelled":
        return Msg("status.cancelled_after", **pages) if total else Msg("status.cancelled")
    return Msg("status.failed")


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def format_size(size: int, decimals: int = 1, *, rounding: Literal["nearest", "up", "down"] = "nearest") -> str:
    """`size` bytes in binary units with at most `decimals` decimals (trailing zeros dropped): 1073741824 is
    '1 GiB', 1536 '1.5 KiB'."""
    power = 0
    while power < len(_UNITS) - 1 and size >= 1024 ** (power + 1):
        power += 1
    scaled = size / 1024**power * 10**decimals
    whole = math.ceil(scaled) if rounding == "up" else math.floor(scaled) if rounding == "down" else round(scaled)
    value = whole / 10**decimals
    number = f"{value:,.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:,.0f}"
    return f"{number} {_UNITS[power]}"


def sizes_apart(size: int, limit: int) -> tuple[str, str]:
    """`size` (over `limit`) and `limit`, with just enough decimals that they read differently (a 1.08 GB file
    against a 1 GiB limit: '1.01 GiB' and '1 GiB')."""
    for decimals in range(1, 4):
        shown = format_size(size, decimals), format_size(limit, decimals)
        if shown[0] != shown[1]:
            return shown
    return format_size(size, 3, rounding="up"), format_size(limit, 3, rounding="down")
