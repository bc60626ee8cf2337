"""Scenario 2: several files of different types chosen at once (PDF, EPUB, PNG) are uploaded and all complete."""

from __future__ import annotations

from playwright.sync_api import Page, expect

import documents
from ui import Doc, expect_status, job_card, open_home, page_region, upload, visible_text


def test_pdf_epub_and_png_at_once(page: Page, shot) -> None:
    files = [
        Doc("report.pdf", documents.report_pdf(5)),
        Doc("novel.epub", documents.epub_book()),
        Doc("scan.png", documents.png_image()),
    ]
    open_home(page)
    upload(page, *files)

    jobs = page.get_by_role("region", name="Jobs")
    for doc, kind in zip(files, ["PDF", "EPUB", "PNG"], strict=True):
        card = job_card(jobs, doc.name)
        expect(card).to_be_visible()
        expect(card.get_by_text(kind, exact=True)).to_be_visible()
    for doc in files:
        expect_status(job_card(jobs, doc.name), "Completed")
    expect(jobs.get_by_role("article")).to_have_count(3)
    # every chosen file left the upload list once the server accepted it
    expect(page.get_by_role("list", name="Files to upload")).to_have_count(0)
    shot("several-files-completed")

    # the EPUB's text is there, page by page
    job_card(jobs, "novel.epub").get_by_role("link", name="View result").click()
    expect(visible_text(page_region(page, 1), "It was a bright cold day in April.")).to_be_visible()
    expect(page.get_by_role("region", name="Document").get_by_text("EPUB", exact=True)).to_be_visible()
