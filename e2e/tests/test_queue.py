"""Cards follow the server: a queued job's place moves up when another job leaves the queue (its own event stream
says nothing then), and a job reads "Completed" as soon as the server says so."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

import documents
from conftest import Stack
from ui import Doc, expect_status, job_card, open_home, upload, wait_until

PAGES = 200  # with tables, a minute's work each: the two workers stay busy while two jobs wait


def statuses(stack: Stack) -> dict[str, dict]:
    return {job["filename"]: job for job in stack.api.get("/jobs", params={"limit": 50}).json()["jobs"]}


def test_queue_positions_and_completion_follow_the_server(page: Page, stack: Stack) -> None:
    names = ["one.pdf", "two.pdf", "three.pdf", "four.pdf"]
    open_home(page)
    upload(page, *(Doc(name, documents.long_pdf(PAGES)) for name in names), tables=True)

    # two run, two wait: 0 and 1 jobs ahead
    def two_waiting() -> list[tuple[int, str]] | None:
        now = statuses(stack)
        if len(now) < 4 or sum(job["status"] == "processing" for job in now.values()) < 2:
            return None
        return sorted((job["queue_position"], name) for name, job in now.items() if job["status"] == "queued")

    waiting = wait_until(two_waiting, "two jobs run and two wait")
    assert [position for position, _ in waiting] == [0, 1], waiting
    last = waiting[1][1]
    expect(job_card(page, last).get_by_text("1 job ahead in the queue")).to_be_visible()

    # the running jobs are cancelled: the queue moves on, which the last job's own stream does not say (a worker
    # may take another job first, so whatever the API says next, the card must say it within a second)
    for name, job in statuses(stack).items():
        if job["status"] == "processing":
            job_card(page, name).get_by_role("button", name="Cancel").click()

    def moved_up() -> dict | None:
        job = statuses(stack)[last]
        return job if job["status"] != "queued" or job["queue_position"] != 1 else None

    moved = wait_until(moved_up, "the last job moves up", 30)
    said = time.monotonic()
    card = job_card(page, last)
    if moved["status"] == "queued":
        expect(card.get_by_text("Next in the queue")).to_be_visible(timeout=5_000)
    else:
        expect(card.get_by_text("Queued", exact=True)).to_have_count(0, timeout=5_000)
    lag = time.monotonic() - said
    assert lag < 1.0, f"the card showed the job's move up {lag:.2f} s after the API"

    for name in names:
        cancel = job_card(page, name).get_by_role("button", name="Cancel")
        if cancel.count() and cancel.is_enabled():  # (disabled: its cancel, asked for above, is still under way)
            cancel.click()
    for name in names:
        expect_status(job_card(page, name), "Cancelled")
    # then, with the workers free, a short job completes: its card says so when the API does
    upload(page, Doc("short.pdf", documents.report_pdf(20)), tables=True)
    card = job_card(page, "short.pdf")
    expect(card.get_by_text("Processing", exact=True)).to_be_visible(timeout=30_000)
    wait_until(lambda: statuses(stack)["short.pdf"]["status"] == "completed", "the API says completed", 60)
    said = time.monotonic()
    expect_status(card, "Completed", timeout=5_000)
    lag = time.monotonic() - said
    assert lag < 1.0, f"the card said Completed {lag:.2f} s after the API"
