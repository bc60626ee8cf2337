"""Scenario 9: the Korean UI, switched to by hand or picked from the browser's language."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

import documents
from ui import Doc, expect_status, job_card, open_home, upload

# English → Korean of the labels a person sees first
LABELS = {
    "Upload documents": "문서 업로드",
    "Jobs": "작업",
}


def test_switch_to_korean_and_back(page: Page, shot) -> None:
    open_home(page)
    upload(page, Doc("report.pdf", documents.report_pdf(3)))
    card = job_card(page, "report.pdf")
    expect_status(card, "Completed")

    page.get_by_label("Language", exact=True).select_option(label="한국어")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    for english, korean in LABELS.items():
        expect(page.get_by_role("heading", name=korean, exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name=english, exact=True)).to_have_count(0)
    nav = page.get_by_role("navigation", name="주 메뉴")
    expect(nav.get_by_role("link", name="새 업로드")).to_be_visible()
    expect(nav.get_by_role("link", name="기록")).to_be_visible()
    expect(page.get_by_role("button", name="업로드", exact=True)).to_be_visible()
    expect(page.get_by_label("파일 선택")).to_be_attached()
    expect(page.get_by_label("표 (느림)")).to_be_visible()
    expect(card.get_by_text("완료", exact=True)).to_be_visible()
    expect(card.get_by_role("link", name="결과 보기")).to_be_visible()
    expect(card.get_by_text("3페이지를")).to_be_visible()
    shot("korean-ui", readme=True)

    # the choice is remembered on reload, and the history speaks Korean too
    page.reload()
    expect(page.get_by_role("heading", name="문서 업로드")).to_be_visible()
    page.get_by_role("link", name="기록").click()
    expect(page.get_by_role("heading", name="기록", exact=True)).to_be_visible()
    expect(page.get_by_label("상태")).to_be_visible()
    expect(page.get_by_role("article", name="report.pdf").get_by_text("완료", exact=True)).to_be_visible()

    # and back to English
    page.get_by_label("언어", exact=True).select_option(label="English")
    expect(page.get_by_role("heading", name="History", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.parametrize("context", ["ko-KR"], indirect=True)
def test_korean_browser_gets_the_korean_ui(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="문서 업로드")).to_be_visible()
    expect(page.get_by_label("언어", exact=True)).to_have_value("ko")
