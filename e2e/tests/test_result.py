"""Scenario 1: one real 30-page PDF, from upload through live progress to the result viewer and the JSON download."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

import documents
from ui import (
    Doc,
    expect_page_picture,
    expect_status,
    job_card,
    open_home,
    page_region,
    pages_done,
    recorded_progress,
    upload,
    visible_text,
)

PAGES = 30


def test_upload_progress_result_and_download(page: Page, shot) -> None:
    report = Doc("report.pdf", documents.report_pdf(PAGES))
    open_home(page)
    # Tables make each page take a moment, so the progress can be seen moving.
    upload(page, report, tables=True)

    card = job_card(page, "report.pdf")
    expect(card).to_be_visible()
    expect(card.get_by_role("progressbar", name="Parsing progress of report.pdf")).to_be_visible()
    expect(card.get_by_text("Processing", exact=True)).to_be_visible()
    expect_status(card, "Completed")
    expect(card.get_by_text(f"Parsed {PAGES} pages in")).to_be_visible()

    seen = pages_done(recorded_progress(page, "report.pdf"), PAGES)
    assert seen and seen[-1] == PAGES, f"the bar never showed {PAGES}/{PAGES} pages: {seen}"
    assert any(0 < n < PAGES for n in seen), f"no progress was shown between 0 and {PAGES} pages: {seen}"
    assert seen == sorted(seen), f"progress went backwards: {seen}"

    card.get_by_role("link", name="View result").click()
    expect(page).to_have_url(re.compile(r"#/jobs/[0-9a-f-]{36}$"))
    result = page.get_by_role("region", name="Result")
    expect(result).to_be_visible()

    # document information and outline
    details = result.get_by_role("region", name="Document")
    expect(details.get_by_text("E2E Quarterly Report", exact=True)).to_be_visible()
    expect(details.get_by_text("Docparse Tests", exact=True)).to_be_visible()
    outline = result.get_by_role("navigation", name="Outline")
    expect(outline.get_by_role("button")).to_have_count(PAGES)

    # page 1: its text, its picture with the parsed boxes drawn over it
    first = page_region(page, 1)
    expect(visible_text(first, documents.page_text(1))).to_be_visible()
    overlay = expect_page_picture(page, 1)
    boxes = overlay.locator("rect")
    expect(boxes.first).to_be_visible()
    all_boxes = boxes.count()
    assert all_boxes >= 5, f"expected blocks, a picture and a link drawn over page 1, got {all_boxes} boxes"
    expect(overlay.locator("title", has_text=documents.LINK_URI)).to_have_count(1)
    shot("result-page-boxes", readme=True)

    # the box kinds can be switched off and on
    result.get_by_role("checkbox", name="Links").uncheck()
    expect(overlay.locator("title", has_text=documents.LINK_URI)).to_have_count(0)
    expect(boxes).to_have_count(all_boxes - 1)
    result.get_by_role("checkbox", name="Links").check()
    expect(boxes).to_have_count(all_boxes)

    # page 2's ruled table is found (tables were asked for) and listed in its own tab
    second = page_region(page, 2)
    second.scroll_into_view_if_needed()
    second.get_by_role("button", name="Tables (2)").click()
    expect(second.get_by_role("table", name="Table 1: 4 × 3")).to_be_visible()
    expect(second.get_by_role("cell", name="Apple", exact=True)).to_be_visible()

    # the outline jumps to a far page, which then loads
    outline.get_by_role("button", name="Chapter 27: Findings 27").click()
    far = page_region(page, 27)
    expect(visible_text(far, documents.page_text(27))).to_be_in_viewport()
    expect_page_picture(page, 27)

    # download the JSON and check what it holds
    with page.expect_download() as download_info:
        result.get_by_role("link", name="Download the result as JSON").click()
    download = download_info.value
    assert download.suggested_filename == "report.json"
    body = json.loads(download.path().read_bytes())
    data = body["result"]
    assert data["document"]["page_count"] == PAGES
    assert data["document"]["metadata"]["title"] == "E2E Quarterly Report"
    assert [e["title"] for e in data["document"]["outline"]][:2] == ["Quarterly Report", "Chapter 2: Findings"]
    assert [p["number"] for p in data["pages"]] == list(range(1, PAGES + 1))
    assert data["failed_pages"] == []
    one, two = data["pages"][0], data["pages"][1]
    assert documents.page_text(1) in one["text"]
    assert [link["uri"] for link in one["links"]] == [documents.LINK_URI]
    assert len(one["images"]) == 1 and (one["images"][0]["width"], one["images"][0]["height"]) == (120, 80)
    assert {(t["row_count"], t["col_count"]) for t in two["tables"]} >= {(4, 3)}
    fruit = next(t for t in two["tables"] if (t["row_count"], t["col_count"]) == (4, 3))
    assert fruit["cells"][1][0] == "Apple"
    assert all(documents.page_text(n) in p["text"] for n, p in enumerate(data["pages"], 1))
