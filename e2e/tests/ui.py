"""What a person does in the web UI, by role and label: choose files, upload, find a job's card, read its state."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

MIME = {
    "pdf": "application/pdf",
    "epub": "application/epub+zip",
    "png": "image/png",
    "zip": "application/zip",
}

# How long a job may take to reach a final state in these tests (the documents are small; CI is slow).
FINISH_TIMEOUT = 60_000


@dataclass
class Doc:
    name: str
    data: bytes

    def payload(self) -> dict:
        ext = self.name.rsplit(".", 1)[-1].lower()
        return {"name": self.name, "mimeType": MIME.get(ext, "application/octet-stream"), "buffer": self.data}


def open_home(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Upload documents")).to_be_visible()


def choose(page: Page, *docs: Doc) -> None:
    """Picks files with the file picker (the input behind the "Choose files" label)."""
    page.get_by_label("Choose files").set_input_files([doc.payload() for doc in docs])


def upload(page: Page, *docs: Doc, tables: bool = False, markdown: bool = False, password: str | None = None) -> None:
    """Chooses the files, sets the options and presses Upload."""
    choose(page, *docs)
    if tables:
        page.get_by_label("Tables (slower)").check()
    if markdown:
        page.get_by_label("Markdown (slower)").check()
    if password is not None:
        page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Upload", exact=True).click()


def job_card(page: Page, filename: str) -> Locator:
    """The card (an article named by its file name) of the job for `filename`."""
    return page.get_by_role("article", name=filename, exact=True)


def expect_status(card: Locator, status: str, timeout: int = FINISH_TIMEOUT) -> None:
    expect(card.get_by_text(status, exact=True)).to_be_visible(timeout=timeout)


def progress_bar(card: Locator, filename: str) -> Locator:
    return card.get_by_role("progressbar", name=f"Parsing progress of {filename}")


def recorded_progress(page: Page, filename: str) -> list[str]:
    """Every text the job's progress bar showed, in order (recorded in the page as it changed)."""
    entries = page.evaluate("window.__progress")
    label = f"Parsing progress of {filename}"
    return [e["text"] for e in entries if e["label"] == label and e["text"]]


def pages_done(texts: list[str], total: int) -> list[int]:
    """The "k/total pages" counts among progress texts."""
    found = (re.match(rf"^(\d+)/{total} pages", t) for t in texts)
    return [int(m[1]) for m in found if m]


def page_region(page: Page, number: int) -> Locator:
    return page.get_by_role("region", name=f"Page {number}", exact=True)


def expect_page_picture(page: Page, number: int) -> Locator:
    """Scrolls page `number` into view (pictures are fetched for the pages in view only) and waits until it shows its
    rendered picture (loaded) and its overlay; returns the overlay."""
    region = page_region(page, number)
    region.scroll_into_view_if_needed()
    picture = region.get_by_role("img", name=f"Page {number} as rendered")
    expect(picture).to_be_visible()
    wait_until(
        lambda: picture.evaluate("img => img.complete && img.naturalWidth > 0"), f"page {number}'s picture loads"
    )
    overlay = region.get_by_role("img", name=f"Parsed regions of page {number}")
    expect(overlay).to_be_visible()
    return overlay


def wait_until(condition: Callable[[], object], what: str, timeout: float = 30.0) -> object:
    """Polls `condition` until it returns something true; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting until {what}")
        time.sleep(0.1)


AXE = Axe()
# Every rule axe runs by default (WCAG A/AA and best practices), and the "name contains the visible label" check.
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"label-content-name-mismatch": {"enabled": True}}}


def expect_accessible(page: Page, screen: str) -> None:
    """Runs axe-core on the page as it is now; fails listing every violation (rule, impact, elements)."""
    violations = AXE.run(page, options=AXE_OPTIONS).response["violations"]
    lines = [
        f"- {v['id']} ({v['impact']}): {v['help']} — " + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        for v in violations
    ]
    assert not violations, f"axe found {len(violations)} violation(s) on {screen}:\n" + "\n".join(lines)


def visible_text(scope: Locator, text: str) -> Locator:
    """Text shown on screen in `scope` (box tooltips in the page overlay hold the same text, unseen)."""
    return scope.get_by_text(text).filter(visible=True)
