"""Scenario 6: the history lists past jobs of every outcome, filters them by status, and deletes one."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

import documents
from conftest import Stack
from ui import expect_page_picture

FINAL = {"completed", "failed", "cancelled"}


def submit(stack: Stack, name: str, data: bytes, **form: str) -> str:
    response = stack.api.post("/upload", files={"file": (name, data)}, data=form)
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def wait_final(stack: Stack, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = stack.api.get(f"/jobs/{job_id}").json()
        if status["status"] in FINAL:
            return status
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_history_lists_filters_and_deletes(page: Page, stack: Stack, shot) -> None:
    # past jobs of each outcome, made through the API (the upload UI has its own tests)
    report = submit(stack, "report.pdf", documents.report_pdf(3))
    damaged = submit(stack, "damaged.pdf", documents.corrupt_pdf())
    secret = submit(stack, "secret.pdf", documents.encrypted_pdf("pw"))
    long = submit(stack, "long.pdf", documents.long_pdf(100), options="tables")
    assert stack.api.post(f"/jobs/{long}/cancel").status_code == 202
    outcomes = {job_id: wait_final(stack, job_id)["status"] for job_id in (report, damaged, secret, long)}
    assert outcomes == {report: "completed", damaged: "failed", secret: "failed", long: "cancelled"}

    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    history = page.get_by_role("region", name="History")
    rows = history.get_by_role("article")
    expect(rows).to_have_count(4)
    names = [rows.nth(i).get_attribute("aria-label") for i in range(4)]  # newest first
    assert names == ["long.pdf", "secret.pdf", "damaged.pdf", "report.pdf"], names
    expect(history.get_by_role("article", name="report.pdf").get_by_text("Completed", exact=True)).to_be_visible()
    expect(history.get_by_role("article", name="report.pdf").get_by_text("3/3 pages")).to_be_visible()
    expect(history.get_by_role("article", name="long.pdf").get_by_text("Cancelled", exact=True)).to_be_visible()
    shot("history")

    status = history.get_by_label("Status")
    status.select_option(label="Failed")
    expect(rows).to_have_count(2)
    expect(history.get_by_role("article", name="damaged.pdf")).to_be_visible()
    expect(history.get_by_role("article", name="secret.pdf")).to_be_visible()
    status.select_option(label="Cancelled")
    expect(rows).to_have_count(1)
    expect(history.get_by_role("article", name="long.pdf")).to_be_visible()
    status.select_option(label="Processing")
    expect(history.get_by_text("No jobs with this status.")).to_be_visible()
    status.select_option(label="Completed")
    expect(rows).to_have_count(1)
    status.select_option(label="All")
    expect(rows).to_have_count(4)

    # delete one: it leaves the list, and the server no longer knows it
    history.get_by_role("article", name="damaged.pdf").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("alertdialog", name="Delete damaged.pdf?")
    expect(dialog).to_contain_text("This cannot be undone.")
    dialog.get_by_role("button", name="Keep it").click()  # asked first: nothing is deleted yet
    expect(history.get_by_role("article", name="damaged.pdf")).to_be_visible()
    assert stack.api.get(f"/jobs/{damaged}").status_code == 200
    history.get_by_role("article", name="damaged.pdf").get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(history.get_by_role("article", name="damaged.pdf")).to_have_count(0)
    expect(rows).to_have_count(3)
    assert stack.api.get(f"/jobs/{damaged}").status_code == 404
    history.get_by_role("button", name="Refresh").click()
    expect(rows).to_have_count(3)

    # open one from the history: its page shows the job and its result
    history.get_by_role("link", name="report.pdf").click()
    expect(page).to_have_url(f"{stack.base_url}/#/jobs/{report}")
    expect(page.get_by_role("article", name="report.pdf").get_by_text("Completed", exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="Result")).to_be_visible()
    # (once the pictures of its 3 pages are there: a picture rendered while its job is deleted can be left in
    # storage, a race of the server's, not of this screen)
    for number in (1, 2, 3):
        expect_page_picture(page, number)
    # and delete it from there: back to the history, without it
    page.get_by_role("button", name="Delete report.pdf").click()
    page.get_by_role("alertdialog", name="Delete report.pdf?").get_by_role("button", name="Delete", exact=True).click()
    expect(page).to_have_url(f"{stack.base_url}/#/history")
    expect(page.get_by_role("region", name="History").get_by_role("article")).to_have_count(2)
    assert stack.api.get(f"/jobs/{report}").status_code == 404
