"""A job with a callback URL: its webhook deliveries on its page, tried again after a 503 until delivered; and a
file uploaded again: its result reused (said on its card, linking the earlier job), or parsed again when asked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

import documents
from conftest import Stack
from ui import Doc, choose, expect_accessible, expect_page_picture, expect_status, job_card, open_home, upload


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: answers `answers` in turn (then 200), and keeps every request."""

    answers: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            received.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = received.answers.pop(0) if received.answers else 200
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/docparse"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received
    server.shutdown()
    server.server_close()


def signed(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The Standard Webhooks signature check: HMAC-SHA256 of "id.timestamp.body" with the secret's bytes."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(sig == f"v1,{expected}" for sig in headers["webhook-signature"].split())


def test_a_job_page_shows_its_webhook_tries_until_delivered(page: Page, stack: Stack, receiver: Receiver, shot) -> None:
    receiver.answers = [503]  # the first try fails; the second is answered 200
    open_home(page)
    choose(page, Doc("hooked.pdf", documents.report_pdf(2)))
    page.get_by_text("Advanced", exact=True).click()
    page.get_by_label("Callback URL (webhook)").fill(receiver.url)
    expect(page.get_by_text("Advanced (1 setting on)", exact=True)).to_be_visible()
    shot("upload-advanced")
    expect_accessible(page, "the upload form with its advanced settings open")
    page.get_by_role("button", name="Upload", exact=True).click()

    card = job_card(page, "hooked.pdf")
    card.get_by_role("link", name="hooked.pdf").click()
    expect(page.get_by_role("heading", level=1, name="hooked.pdf")).to_be_visible()
    job_id = re.search(r"#/jobs/([0-9a-f-]+)", page.url)[1]
    expect_status(page.get_by_role("article", name="hooked.pdf"), "Completed")

    deliveries = page.get_by_role("region", name="Webhook deliveries")
    expect(deliveries).to_contain_text(f"The job\u2019s status is sent to {receiver.url} each time it ends.")
    expect(deliveries.get_by_role("heading", level=3, name="Job completed")).to_be_visible()
    # the page follows the delivery on its own while it is pending: no reload
    expect(deliveries.get_by_text("Delivered on try 2.", exact=True)).to_be_visible(timeout=30_000)
    expect(deliveries.get_by_text("Delivered", exact=True)).to_be_visible()
    tries = deliveries.get_by_role("table", name="Tries of “Job completed”")
    rows = tries.get_by_role("row")
    expect(rows).to_have_count(3)  # the header and two tries
    expect(rows.nth(1).get_by_role("cell").nth(1)).to_have_text("HTTP 503")
    expect(rows.nth(2).get_by_role("cell").nth(1)).to_have_text("HTTP 200")
    expect(rows.nth(2).get_by_role("cell").nth(2)).to_have_text("None")

    # what the page says is what the receiver got: two signed tries of one delivery, under one webhook-id
    assert len(receiver.requests) == 2, receiver.requests
    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(ids) == 1, ids
    expect(deliveries.get_by_text(f"webhook-id {ids.pop()}", exact=True)).to_be_visible()
    for headers, body in receiver.requests:
        assert signed(stack.webhook_secret, headers, body), headers
        sent = json.loads(body)
        assert sent["type"] == "job.completed" and sent["data"]["job_id"] == job_id, sent
    expect_page_picture(page, 1)
    deliveries.scroll_into_view_if_needed()
    shot("webhook-deliveries")
    expect_accessible(page, "a job's page with its webhook deliveries")

    # in Korean, on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_label("Language", exact=True).select_option(label="한국어")
    deliveries = page.get_by_role("region", name="웹훅 전송")
    expect(deliveries.get_by_text("2번째 시도에 전송했습니다.", exact=True)).to_be_visible()
    expect(deliveries.get_by_role("table", name="“작업 완료” 시도 내역")).to_be_visible()
    deliveries.scroll_into_view_if_needed()
    shot("webhook-deliveries-ko-phone")
    expect_accessible(page, "a job's page with its webhook deliveries, in Korean on a phone")


def test_a_job_without_callback_shows_no_deliveries(page: Page) -> None:
    open_home(page)
    upload(page, Doc("plain.pdf", documents.report_pdf(1)))
    card = job_card(page, "plain.pdf")
    expect_status(card, "Completed")
    card.get_by_role("link", name="View result").click()
    expect(page.get_by_role("heading", name="Result", exact=True)).to_be_visible()
    expect_page_picture(page, 1)  # (a picture still being drawn when the next test deletes every job outlives it)
    expect(page.get_by_role("region", name="Webhook deliveries")).to_have_count(0)


def test_a_file_uploaded_again_reuses_its_result_unless_parsed_again(page: Page, stack: Stack, shot) -> None:
    data = documents.report_pdf(3)
    open_home(page)
    upload(page, Doc("first.pdf", data))
    first = job_card(page, "first.pdf")
    expect_status(first, "Completed")
    expect(first.get_by_text(re.compile("^Result reused"))).to_have_count(0)

    # the same bytes again, under another name: the earlier result, at once
    upload(page, Doc("again.pdf", data))
    again = job_card(page, "again.pdf")
    expect_status(again, "Completed")
    expect(again).to_contain_text(re.compile(r"Result reused from an earlier upload of the same file \(parsed .+\)\."))
    expect(again.get_by_text("Parsed 3 pages", exact=True)).to_be_visible()
    shot("reused-result")
    expect_accessible(page, "the home page with a reused result")

    # "Parse again" parses it again
    page.get_by_text("Advanced", exact=True).click()
    page.get_by_label("Parse again even if this file was parsed before").check()
    upload(page, Doc("fresh.pdf", data))
    fresh = job_card(page, "fresh.pdf")
    expect_status(fresh, "Completed")
    expect(fresh.get_by_text(re.compile("^Result reused"))).to_have_count(0)
    jobs = {job["filename"]: job for job in stack.api.get("/jobs").raise_for_status().json()["jobs"]}
    assert jobs["fresh.pdf"]["reused_from"] is None, jobs["fresh.pdf"]
    assert jobs["again.pdf"]["reused_from"]["job_id"] == jobs["first.pdf"]["job_id"], jobs["again.pdf"]

    # the note links the earlier job while it exists; once it is deleted, the note stays without the link
    again.get_by_role("link", name="an earlier upload of the same file").click()
    expect(page.get_by_role("heading", level=1, name="first.pdf")).to_be_visible()
    expect_page_picture(page, 1)  # drawn before its job is deleted (one drawn during the delete would outlive it)
    stack.api.delete(f"/jobs/{jobs['first.pdf']['job_id']}").raise_for_status()
    page.goto(f"/#/jobs/{jobs['again.pdf']['job_id']}")
    page.reload()  # a fresh start: nothing of the deleted job is known in the page
    note = page.get_by_role("article", name="again.pdf").get_by_text(re.compile("^Result reused"))
    expect(note).to_be_visible()
    expect_page_picture(page, 1)
    expect(note.get_by_role("link")).to_have_count(0)
