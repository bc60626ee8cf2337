"""Scenario: a 2,400-page result read in the viewer. Fast scrolls to the middle and to the end keep a bounded number
of pages mounted, ask for nothing about the pages flown past, and show the picture where the reader stops soon;
the Go to page box still jumps to a far page."""

from __future__ import annotations

import re
import time

import pymupdf
from playwright.sync_api import Page, expect

from conftest import Stack
from ui import expect_accessible, expect_page_picture, wait_until

PAGES = 2400
# the window mounts about three screens of pages, and at most 30 (and the page holding the focus)
MOUNTED_AT_MOST = 31
# the goal is a picture within 1 s of stopping; the deadline leaves room for a slow, shared CI machine
PICTURE_DEADLINE_MS = 8_000

PAGE_NUMBER = re.compile(r"/pages/(\d+)(/image)?(\?|$)")

# Scrolls the window from where it is to `fraction` of the document's height in `steps` jumps, one per frame
# (far more than a screen each: a reader dragging the scrollbar), and returns the time it stopped.
FLY = """async ([fraction, steps]) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const scroller = document.scrollingElement;
  const from = scroller.scrollTop;
  for (let i = 1; i <= steps; i++) {
    const to = (scroller.scrollHeight - innerHeight) * fraction; // the height changes as pages are measured
    scroller.scrollTop = from + ((to - from) * i) / steps;
    await frame();
  }
  return performance.now();
}"""

# The pages whose region is in the viewport, and those mounted at all.
PAGES_SHOWN = """() => {
  const pages = [...document.querySelectorAll('section[id*="-page-"]')].map((section) => {
    const box = section.getBoundingClientRect();
    return { n: Number(section.id.split('-page-')[1]), inView: box.bottom > 0 && box.top < innerHeight };
  });
  return { inView: pages.filter((p) => p.inView).map((p) => p.n), mounted: pages.map((p) => p.n) };
}"""

# Where page `n`'s region starts in the viewport (null when not mounted).
TOP_OF = """(n) => {
  const section = [...document.querySelectorAll('section[id*="-page-"]')].find((s) => s.id.endsWith(`-page-${n}`));
  return section ? section.getBoundingClientRect().top : null;
}"""

# Milliseconds from `stop` until a page in view shows its loaded picture (false until then).
PICTURE_SHOWN = """(stop) => {
  const shown = [...document.querySelectorAll('section[id*="-page-"] img')].some((img) => {
    const box = img.getBoundingClientRect();
    return img.complete && img.naturalWidth > 0 && box.bottom > 0 && box.top < innerHeight;
  });
  return shown ? performance.now() - stop : false;
}"""


def many_pages_pdf(pages: int) -> bytes:
    """Small pages of two shapes (portrait, and every fifth landscape), each with its number and a frame."""
    doc = pymupdf.open()
    for n in range(1, pages + 1):
        width, height = (400, 300) if n % 5 == 0 else (300, 400)
        page = doc.new_page(width=width, height=height)
        page.draw_rect(pymupdf.Rect(20, 20, width - 20, height - 20), color=(0.2, 0.3, 0.8), width=2)
        page.insert_text((40, 70), f"Long document, page {n}", fontsize=16)
    return doc.tobytes(garbage=3, deflate=True)


def submit_and_wait(stack: Stack, name: str, data: bytes, timeout: float = 180.0) -> str:
    response = stack.api.post("/upload", files={"file": (name, data)})
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    deadline = time.monotonic() + timeout
    while (status := stack.api.get(f"/jobs/{job_id}").json()["status"]) != "completed":
        assert status in ("queued", "processing"), f"the job ended {status}"
        assert time.monotonic() < deadline, f"the {PAGES}-page job did not complete in {timeout:.0f} s"
        time.sleep(0.5)
    return job_id


def test_fast_scrolling_through_thousands_of_pages(page: Page, stack: Stack) -> None:
    job_id = submit_and_wait(stack, "long.pdf", many_pages_pdf(PAGES))
    requests: list[tuple[float, int, str]] = []  # (when, page, "picture" or "page")
    aborted: list[str] = []

    def on_request(request) -> None:
        match = PAGE_NUMBER.search(request.url)
        if match and f"/jobs/{job_id}/" in request.url:
            requests.append((time.monotonic(), int(match[1]), "picture" if match[2] else "page"))

    page.on("request", on_request)
    page.on("requestfailed", lambda request: aborted.append(request.url))
    page.goto(f"/#/jobs/{job_id}")
    expect(page.get_by_role("heading", name="Result", exact=True)).to_be_visible()
    expect_page_picture(page, 1)

    def settle() -> None:
        """Until the pages where the reader is have all been asked for (no new request for half a second): a
        request the last stop queued must not count as one made while flying."""
        deadline = time.monotonic() + 15
        seen = -1
        while seen != len(requests) and time.monotonic() < deadline:
            seen = len(requests)
            page.wait_for_timeout(500)

    def fly_and_stop(fraction: float, where: str) -> dict:
        settle()
        started = time.monotonic()
        stop = page.evaluate(FLY, [fraction, 24])
        elapsed = page.wait_for_function(PICTURE_SHOWN, arg=stop, polling=50, timeout=30_000).json_value()
        # the page read stays where it is while the pages around it load and are measured
        first = page.evaluate(PAGES_SHOWN)["inView"][0]
        top_then = page.evaluate(TOP_OF, first)
        page.wait_for_timeout(600)
        top_now = page.evaluate(TOP_OF, first)
        assert top_now is not None and abs(top_now - top_then) <= 2, f"page {first} moved {top_then} -> {top_now}"
        shown = page.evaluate(PAGES_SHOWN)
        mounted = shown["mounted"]
        assert shown["inView"], f"no page in view at {where}"
        assert len(mounted) <= MOUNTED_AT_MOST, f"{len(mounted)} pages mounted at {where}: {mounted}"
        assert elapsed <= PICTURE_DEADLINE_MS, f"the picture at {where} came {elapsed:.0f} ms after stopping"
        # nothing was asked about the pages flown past: only about those mounted where the reader stopped
        asked = sorted({n for when, n, _ in requests if when >= started})
        nearby = set(range(min(mounted) - 2, max(mounted) + 3))
        assert set(asked) <= nearby, f"pages asked for while flying to {where}: {sorted(set(asked) - nearby)}"
        pictures = sorted({n for when, n, kind in requests if when >= started and kind == "picture"})
        print(
            f"{where}: picture {elapsed:.0f} ms after stopping; {len(mounted)} pages mounted ({min(mounted)}-"
            f"{max(mounted)}), in view {shown['inView']}; pages asked {asked}, pictures {pictures}"
        )
        return shown

    middle = fly_and_stop(0.5, "the middle")
    assert PAGES * 0.4 < middle["inView"][0] < PAGES * 0.6, middle
    expect_accessible(page, "a 2,400-page result scrolled to the middle")

    end = fly_and_stop(1.0, "the end")
    assert PAGES in end["mounted"], end

    back = fly_and_stop(0.1, "a tenth of the way")
    assert back["inView"][0] < PAGES * 0.2, back

    # the Go to page box jumps to a far page: it is mounted, focused, in view, and its picture loads
    page.get_by_label("Go to page").fill("1500")
    page.get_by_role("button", name="Go", exact=True).click()
    target = page.get_by_role("region", name="Page 1,500", exact=True)
    expect(target).to_be_focused()
    landed = page.evaluate(TOP_OF, 1500)
    assert 0 <= landed < 200, f"page 1,500 starts {landed} px down the viewport"  # just below the toolbar
    picture = target.get_by_role("img", name="Page 1,500 as rendered")
    wait_until(lambda: picture.evaluate("img => img.complete && img.naturalWidth > 0"), "page 1,500's picture loads")
    page.wait_for_timeout(600)
    # it stayed where it landed while it and the pages around it loaded and were measured
    assert abs(page.evaluate(TOP_OF, 1500) - landed) <= 2, (landed, page.evaluate(TOP_OF, 1500))
    assert len(page.evaluate(PAGES_SHOWN)["mounted"]) <= MOUNTED_AT_MOST

    # the keyboard goes on from there page after page: each page's text box in turn, the window following (at a
    # quick typist's pace: the next page loads as the focus reaches the one before it)
    for n in range(1500, 1512):
        page.keyboard.press("Tab")
        expect(page.get_by_role("group", name=f"Text of page {n:,}")).to_be_focused()
        page.wait_for_timeout(150)
    expect(page.get_by_role("region", name="Page 1,511", exact=True)).to_be_in_viewport()
    for n in range(1510, 1507, -1):  # and back
        page.keyboard.press("Shift+Tab")
        expect(page.get_by_role("group", name=f"Text of page {n:,}")).to_be_focused()
        page.wait_for_timeout(150)
    assert len(page.evaluate(PAGES_SHOWN)["mounted"]) <= MOUNTED_AT_MOST
    print(f"{len(requests)} page and picture requests in all, {len(aborted)} aborted")
