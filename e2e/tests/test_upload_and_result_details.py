"""What a person trips on between choosing a file and reading its result: the browser judges a file by its bytes
as the server does, the password does not stay for the next files, a bad page range is fixed by choosing another
(not by a Retry that fails again), plurals, the note on a Markdown download without Markdown, Korean line breaks,
the phone layout, and the UI's language sent to the API."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, Request, expect

import documents
from ui import Doc, choose, expect_status, job_card, open_home, page_region, upload, visible_text

WEBP = b"RIFF\xa8\x01\x00\x00WEBPVP8 " + bytes(64)  # the server's MuPDF cannot read WebP: /config leaves it out


def upload_item(page: Page, filename: str):
    return page.get_by_role("list", name="Files to upload").get_by_role("listitem").filter(has_text=filename)


def test_the_browser_judges_files_by_their_bytes_and_forgets_the_password(page: Page, stack) -> None:
    open_home(page)
    choose(page, Doc("report.bin", documents.report_pdf(1)), Doc("photo.webp", WEBP))
    photo = upload_item(page, "photo.webp")
    expect(photo.get_by_text("Not uploaded", exact=True)).to_be_visible()
    expect(photo.get_by_role("alert")).to_contain_text("This file type is not supported.")
    assert stack.api.post("/upload", files={"file": ("photo.webp", WEBP)}).status_code == 415  # the server agrees
    expect(upload_item(page, "report.bin").get_by_text("Ready to upload", exact=True)).to_be_visible()

    page.get_by_label("Password", exact=True).fill("only for these files")
    page.get_by_role("button", name="Upload", exact=True).click()
    card = job_card(page, "report.bin")
    expect_status(card, "Completed")
    expect(card.get_by_text(re.compile(r"^Parsed 1 page in "))).to_be_visible()  # "1 page", not "1 pages"
    expect(page.get_by_label("Password", exact=True)).to_have_value("")


def test_a_page_range_beyond_the_document_is_fixed_with_a_new_range(page: Page, tmp_path: Path) -> None:
    # a file on disk, as a person picks it (the browser reads it again for the second upload)
    path = tmp_path / "one-page.pdf"
    path.write_bytes(documents.report_pdf(1))
    open_home(page)
    page.get_by_label("Pages", exact=True).fill("5-9")
    page.get_by_label("Choose files").set_input_files(path)
    page.get_by_role("button", name="Upload", exact=True).click()
    card = job_card(page, "one-page.pdf")
    expect_status(card, "Failed")
    expect(card.get_by_text("The page range does not fit this document.")).to_be_visible()
    expect(card.get_by_text("beyond the document's 1 page")).to_be_visible()  # the server's words, singular
    expect(card.get_by_role("button", name="Retry")).to_have_count(0)

    card.get_by_label("New page range").fill("1")
    card.get_by_role("button", name="Upload again with these pages").click()
    # the new job takes the failed one's place, and parses page 1
    expect_status(card, "Completed")
    expect(card).to_have_count(1)
    expect(card.get_by_text(re.compile(r"^Parsed 1 page"))).to_be_visible()


def test_result_says_when_markdown_was_not_asked_for(page: Page) -> None:
    open_home(page)
    upload(page, Doc("plain.pdf", documents.report_pdf(2)))
    card = job_card(page, "plain.pdf")
    expect_status(card, "Completed")
    card.get_by_role("link", name="View result").click()
    expect(page.get_by_text("Markdown was not asked for at upload")).to_be_visible()

    open_home(page)
    upload(page, Doc("rich.pdf", documents.report_pdf(2)), markdown=True)
    rich = job_card(page, "rich.pdf")
    expect_status(rich, "Completed")
    rich.get_by_role("link", name="View result").click()
    expect(visible_text(page_region(page, 1), documents.page_text(1)).first).to_be_visible()
    expect(page.get_by_role("button", name="Markdown")).not_to_have_count(0)
    expect(page.get_by_text("Markdown was not asked for at upload")).to_have_count(0)


def test_korean_breaks_between_words_and_reaches_the_api_in_korean(page: Page) -> None:
    sent: list[tuple[str, str | None]] = []

    def record(request: Request) -> None:
        if "/jobs" in request.url or "/upload" in request.url or "/config" in request.url:
            sent.append((request.url, request.headers.get("accept-language")))

    page.on("request", record)
    open_home(page)
    page.get_by_label("Language", exact=True).select_option(label="한국어")
    hint = page.get_by_text(re.compile(r"파일당 최대"))
    expect(hint).to_be_visible()
    assert hint.evaluate("el => getComputedStyle(el).wordBreak") == "keep-all"
    page.get_by_label("파일 선택").set_input_files([Doc("report.pdf", documents.report_pdf(2)).payload()])
    page.get_by_role("button", name="업로드", exact=True).click()
    expect(job_card(page, "report.pdf").get_by_text("완료", exact=True)).to_be_visible(timeout=60_000)
    after = [language for url, language in sent if "/jobs" in url or "/upload" in url]
    assert after and all(language == "ko" for language in after), sent
    events = [language for url, language in sent if url.endswith("/events")]
    assert events and set(events) == {"ko"}, sent  # the fetch-based event stream too


def test_on_a_phone_page_one_starts_near_the_top_and_the_toolbar_scrolls_away(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_home(page)
    upload(page, Doc("report.pdf", documents.report_pdf(6)))
    card = job_card(page, "report.pdf")
    expect_status(card, "Completed")
    card.get_by_role("link", name="View result").click()
    first = page_region(page, 1)
    expect(first).to_be_visible()
    top = first.evaluate("el => el.getBoundingClientRect().top + window.scrollY")
    assert top < 1000, f"page 1 starts {top:.0f} px down on a phone"
    # the details and the outline are one tap away, folded
    expect(page.get_by_text("Document details and outline")).to_be_visible()
    toolbar = page.get_by_role("spinbutton", name="Go to page")
    height = toolbar.evaluate("el => el.closest('.toolbar').getBoundingClientRect().height")
    assert height < 844 / 4, f"the toolbar is {height:.0f} px high"
    # pages are mounted as they come near (the list is virtualised): scroll down a few screens to reach page 4
    page.evaluate("window.scrollBy(0, 3000)")
    page_region(page, 4).scroll_into_view_if_needed()
    expect(toolbar).not_to_be_in_viewport()
