"""Accessibility: axe-core on every screen (home, a running and a failed job's page, a result, History, the delete
dialog), failing on any violation; and what axe cannot see: focus after opening a result, keyboard-scrollable text."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

import documents
from conftest import Stack
from ui import Doc, expect_accessible, expect_status, job_card, open_home, page_region, upload, visible_text


def submit(stack: Stack, name: str, data: bytes, **form: str) -> str:
    response = stack.api.post("/upload", files={"file": (name, data)}, data=form)
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def test_every_screen_passes_axe(page: Page, stack: Stack) -> None:
    open_home(page)
    expect_accessible(page, "the empty home page")

    # the home page with a running job, a completed one and a failed one
    upload(page, Doc("report.pdf", documents.report_pdf(3)), Doc("damaged.pdf", documents.corrupt_pdf()))
    expect_status(job_card(page, "damaged.pdf"), "Failed")
    card = job_card(page, "report.pdf")
    expect_status(card, "Completed")
    upload(page, Doc("long.pdf", documents.long_pdf(60)), tables=True)
    expect(job_card(page, "long.pdf").get_by_text("Processing", exact=True)).to_be_visible()
    expect_accessible(page, "the home page with running, completed and failed jobs")

    # a running job's page
    job_card(page, "long.pdf").get_by_role("link", name="long.pdf").click()
    expect(page.get_by_role("heading", level=1, name="long.pdf")).to_be_visible()
    expect_accessible(page, "a running job's page")
    page.get_by_role("button", name="Cancel").click()
    expect_status(page.get_by_role("article", name="long.pdf"), "Cancelled")

    # a result: focus lands on its heading, not on the body
    page.go_back()
    card.get_by_role("link", name="View result").click()
    result_heading = page.get_by_role("heading", name="Result", exact=True)
    expect(result_heading).to_be_focused()
    expect(page.get_by_role("heading", level=1, name="report.pdf")).to_be_visible()
    first = page_region(page, 1)
    expect(visible_text(first, documents.page_text(1))).to_be_visible()
    expect_accessible(page, "a result page")

    # the page text box scrolls by keyboard: it takes focus and has a name
    text_box = first.get_by_role("group", name="Text of page 1")
    text_box.focus()
    expect(text_box).to_be_focused()

    # a failed job's page, which asks for a password
    secret = submit(stack, "secret.pdf", documents.encrypted_pdf("pw"))
    page.goto(f"/#/jobs/{secret}")
    expect(page.get_by_label("Document password")).to_be_visible(timeout=60_000)
    expect_accessible(page, "a failed job's page asking for a password")

    # History, and its delete dialog
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    history = page.get_by_role("region", name="History")
    expect(history.get_by_role("article")).to_have_count(4)
    expect(page.get_by_role("heading", level=1, name="History")).to_be_focused()
    expect_accessible(page, "History")
    history.get_by_role("button", name="Delete report.pdf").click()
    dialog = page.get_by_role("alertdialog", name="Delete report.pdf?")
    expect(dialog).to_be_visible()
    expect_accessible(page, "the delete dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(history.get_by_role("button", name="Delete report.pdf")).to_be_focused()


def test_korean_and_phone_screens_pass_axe(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_home(page)
    upload(page, Doc("report.pdf", documents.report_pdf(3)))
    card = job_card(page, "report.pdf")
    expect_status(card, "Completed")
    page.get_by_label("Language", exact=True).select_option(label="한국어")
    expect(page.get_by_role("heading", name="문서 업로드")).to_be_visible()
    expect_accessible(page, "the Korean home page on a phone")
    card.get_by_role("link", name="결과 보기").click()
    expect(page).to_have_url(re.compile(r"#/jobs/"))
    expect(page.get_by_role("region", name="1페이지", exact=True)).to_be_visible()
    expect_accessible(page, "a Korean result page on a phone")
