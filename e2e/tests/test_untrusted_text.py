"""Scenario 7: document text that looks like HTML and JavaScript is shown as text, and nothing of it runs."""

from __future__ import annotations

from playwright.sync_api import Page, expect

import documents
from conftest import Watched
from ui import Doc, expect_page_picture, expect_status, job_card, open_home, page_region, upload, visible_text


def test_html_in_a_document_is_shown_as_text_and_never_runs(page: Page, watched: Watched, shot) -> None:
    hostile_name = f"{documents.XSS_IMG}.pdf"  # the file name is untrusted too
    open_home(page)
    upload(page, Doc(hostile_name, documents.xss_pdf()), markdown=True)

    card = job_card(page, hostile_name)
    expect(card.get_by_role("heading", name=hostile_name)).to_be_visible()
    expect_status(card, "Completed")
    card.get_by_role("link", name="View result").click()

    region = page_region(page, 1)
    text = visible_text(region, documents.XSS_SCRIPT)
    expect(text).to_be_visible()
    expect(text).to_contain_text(documents.XSS_IMG)
    expect(text).to_contain_text("<b>not bold</b> &amp; done")
    details = page.get_by_role("region", name="Document")
    expect(details.get_by_text(documents.XSS_IMG, exact=True)).to_be_visible()  # the title
    expect(details.get_by_text(documents.XSS_SCRIPT, exact=True)).to_be_visible()  # the author
    outline = page.get_by_role("navigation", name="Outline")
    expect(outline.get_by_role("button", name=f"{documents.XSS_SCRIPT} 1")).to_be_visible()
    expect_page_picture(page, 1)
    shot("untrusted-text")

    # the markdown view renders markdown (a heading) but shows the HTML written in the document as text
    region.get_by_role("button", name="Markdown").click()
    expect(region.get_by_role("heading", name="Hostile text below")).to_be_visible()
    for line in (documents.XSS_SCRIPT, documents.XSS_IMG, "<b>not bold</b>"):
        expect(visible_text(region, line)).to_be_visible()
    shot("untrusted-markdown")
    page.wait_for_timeout(500)  # give an injected handler the chance to fire

    assert watched.dialogs == [], f"document content ran as script: {watched.dialogs}"
    main = page.get_by_role("main")
    assert main.locator("script").count() == 0
    assert page.locator("img[src='x'], [onerror]").count() == 0
    assert page.locator("b", has_text="not bold").count() == 0
    assert not [url for url in watched.requests if url.rstrip("/").endswith("/x")], "an injected <img src=x> loaded"
    assert not [m.text for m in watched.console if "alert" in m.text], "injected code reached the console"
