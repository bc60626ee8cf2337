"""Scenario 5: several long documents parse side by side; one is cancelled midway and keeps the pages it had."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

import documents
from ui import Doc, expect_status, job_card, open_home, page_region, progress_bar, upload, visible_text, wait_until

PAGES = 200  # with the tables option about 0.3 s a page here: a minute's work, cancelled after a few seconds


def test_cancel_a_long_document_while_it_is_processing(page: Page, stack, shot) -> None:
    long = documents.long_pdf(PAGES)
    names = ["handbook.pdf", "catalogue.pdf", "survey.pdf"]
    open_home(page)
    upload(page, *(Doc(name, long) for name in names), tables=True)

    handbook = job_card(page, "handbook.pdf")
    bar = progress_bar(handbook, "handbook.pdf")
    # the handbook is being parsed: its bar shows pages done out of the total, and moves
    expect(bar).to_have_attribute("aria-valuetext", re.compile(rf"^\d+/{PAGES} pages$"), timeout=30_000)
    done = lambda: int(bar.get_attribute("aria-valuetext").split("/")[0])  # noqa: E731
    first = done()
    wait_until(lambda: done() >= max(first + 1, 3), "the handbook's progress moves on")
    # ...with an estimate of the time left that fits a minute's work (not "about 0 sec left")
    expect(
        handbook.get_by_text(re.compile(rf"^\d+/{PAGES} pages · about (\d+ min.*|[1-9]\d+ sec) left$"))
    ).to_be_visible()
    for name in names:
        expect(job_card(page, name).get_by_role("button", name="Cancel")).to_be_visible()
    shot("uploads-in-progress", readme=True)

    handbook.get_by_role("button", name="Cancel").click()
    expect_status(handbook, "Cancelled", timeout=15_000)
    summary = handbook.get_by_text(re.compile(rf"^\d+ of {PAGES} pages were parsed before it stopped\.$"))
    expect(summary).to_be_visible()
    kept = int(summary.inner_text().split(" ")[0])
    assert 0 < kept < PAGES
    expect(handbook.get_by_text("The job was cancelled.", exact=True)).to_be_visible()
    expect(handbook.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(handbook.get_by_role("button", name="Retry")).to_be_enabled()

    # the server agrees, and stops: no page is added after the cancel
    job_id = handbook.get_by_role("link", name="handbook.pdf").get_attribute("href").rsplit("/", 1)[-1]
    status = stack.api.get(f"/jobs/{job_id}").json()
    assert status["status"] == "cancelled" and status["error"]["code"] == "cancelled", status
    assert status["pages_total"] == PAGES and status["pages_done"] == kept, status
    page.wait_for_timeout(1500)
    assert stack.api.get(f"/jobs/{job_id}").json()["pages_done"] == kept

    # the others are cancelled too, whether running or still waiting for a worker
    for name in names[1:]:
        card = job_card(page, name)
        card.get_by_role("button", name="Cancel").click()
        expect_status(card, "Cancelled", timeout=15_000)
    shot("cancelled-job", readme=True)

    # the workers are free again: new uploads are parsed at once, not held up (or taken down) by the cancels
    small = [Doc(f"after-cancel-{i}.png", documents.png_image()) for i in range(1, 4)]
    upload(page, *small)
    for doc in small:
        expect_status(job_card(page, doc.name), "Completed", timeout=20_000)

    # the pages parsed before the cancel can still be read
    handbook.get_by_role("link", name="View result").click()
    expect(page.get_by_text("The job is not complete: showing the pages parsed so far.")).to_be_visible()
    expect(visible_text(page_region(page, 1), "Long document")).to_be_visible()
    expect(page.get_by_role("navigation", name="Download")).to_have_count(0)
