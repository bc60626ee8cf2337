"""The child-process runner on real documents: events in order, each page's JSON sent whole, hangs and crashes
contained, the parse bounded by pages, stored pages and a time budget."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import pymupdf
import pytest

from docparse.errors import Corrupt, Encrypted, WrongPassword
from docparse.jobs.runner import (
    CHILD_COMMAND,
    ChildPool,
    Opened,
    PageDone,
    PageFailed,
    ParseChild,
    ParseRequest,
    Stopped,
    Waiting,
)
from docparse.results import DocumentInfo, Page
from tests.documents import make_corrupt_pdf, make_pdf, page_words
from tests.jobs.bombs import zip_bomb_cbz

MISBEHAVING = (sys.executable, "-m", "tests.jobs.misbehaving_child")
# A stand-in parse process that only starts (it says ready after ~0.1 s, then reads requests until its stdin
# closes), so a test can start and cancel hundreds of them. Its last argument marks it in /proc.
STARTER_MARK = "docparse-test-starter"
STARTER = ("/bin/sh", "-c", """sleep 0.1; echo '{"ev":"ready"}'; while read -r _; do :; done""", STARTER_MARK)


JOB = "00000000-0000-4000-8000-000000000001"


def request_for(
    path: Path, file_type: str = "pdf", *, job_id: str = JOB, max_pages: int = 1000, **kw: object
) -> ParseRequest:
    """A parse of the file at `path` as it is: the parse process reads the source from a plain path."""
    data = path.read_bytes()
    return ParseRequest(
        job_id=job_id,
        path=str(path),
        file_type=file_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        max_pages=max_pages,
        **kw,  # type: ignore[arg-type]
    )


def page_of(event: object) -> Page:
    """The page a PageDone carries, checked against the Page schema."""
    assert isinstance(event, PageDone), event
    page = msgspec.json.decode(event.data, type=Page)
    assert page.number == event.number
    return page


def numbers(events: list[object]) -> list[int]:
    return [e.number for e in events if isinstance(e, PageDone)]


def parse_processes(mark: str = "tests.jobs.misbehaving_child") -> list[int]:
    """Pids of this process's live children whose command line holds `mark` (misbehaving parse processes by
    default), from /proc. A zombie (dead, not yet reaped) does not count."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == os.getpid() and state != "Z" and mark.encode() in cmdline:
            found.append(int(entry.name))
    return found


async def until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Wait for `condition`, with a deadline generous enough for a busy machine."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def collect(pool: ChildPool, request: ParseRequest, page_timeout: float = 10) -> list[object]:
    return [e async for e in pool.parse(request, page_timeout=page_timeout, tick=0.5) if not isinstance(e, Waiting)]


async def test_pages_are_sent_in_order_with_their_json(tmp_path: Path) -> None:
    pool = ChildPool(size=1, max_jobs=10)
    await pool.start()
    try:
        events = await collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=5)))
        assert events[0] == Opened(5, [1, 2, 3, 4, 5], [1, 2, 3, 4, 5], None)  # no facts unless asked for
        assert numbers(events) == [1, 2, 3, 4, 5] and len(events) == 6
        for number, event in enumerate(events[1:], 1):
            assert page_words(number) in page_of(event).text
        # The same warm process serves the next document, with a page selection.
        events = await collect(pool, request_for(make_pdf(tmp_path / "b.pdf", pages=9), options={"pages": "2-3,9"}))
        assert events[0] == Opened(9, [2, 3, 9], [2, 3, 9], None)
        assert numbers(events) == [2, 3, 9]
        assert all(page_words(p.number) in p.text for p in map(page_of, events[1:]))
    finally:
        await pool.close()


async def test_the_document_facts_come_with_opened_when_asked(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", pages=3, title="Facts")
    pool = ChildPool(size=1, max_jobs=10)
    try:
        events = await collect(pool, request_for(pdf, info=True))
        opened = events[0]
        assert isinstance(opened, Opened) and opened.info is not None
        info = msgspec.json.decode(opened.info, type=DocumentInfo)
        assert info.page_count == 3 and info.file_type == "pdf"
        assert (info.size, info.sha256) == (pdf.stat().st_size, hashlib.sha256(pdf.read_bytes()).hexdigest())
        assert info.metadata.title == "Facts"
        assert [e.title for e in info.outline] == ["Chapter 1", "Chapter 2", "Chapter 3"]
        assert numbers(events) == [1, 2, 3]  # the facts' bytes did not shift the pages that follow
        assert page_words(1) in page_of(events[1]).text
    finally:
        await pool.close()


async def test_pages_already_stored_are_skipped(tmp_path: Path) -> None:
    """`skip` (1-based numbers an earlier run stored) leaves those pages out of the parse; "opened" still lists
    every page the request selects, so the caller knows the whole."""
    pdf = make_pdf(tmp_path / "a.pdf", pages=5)
    pool = ChildPool(size=1, max_jobs=10)
    try:
        events = await collect(pool, request_for(pdf, skip=[1, 3, 4]))
        assert events[0] == Opened(5, [1, 2, 3, 4, 5], [2, 5], None)
        assert numbers(events) == [2, 5] and len(events) == 3
        assert all(page_words(p.number) in p.text for p in map(page_of, events[1:]))
        # With a page selection, and with every selected page stored already: nothing to parse, no error.
        events = await collect(pool, request_for(pdf, options={"pages": "2-4"}, skip=[3]))
        assert events[0] == Opened(5, [2, 3, 4], [2, 4], None) and numbers(events) == [2, 4]
        assert await collect(pool, request_for(pdf, skip=[1, 2, 3, 4, 5])) == [Opened(5, [1, 2, 3, 4, 5], [], None)]
    finally:
        await pool.close()


@pytest.mark.parametrize(("password", "error"), [(None, Encrypted), ("wrong", WrongPassword)])
async def test_encrypted_without_the_right_password_is_a_typed_error(
    tmp_path: Path, password: str | None, error: type
) -> None:
    pool = ChildPool(size=1, max_jobs=10)
    pdf = make_pdf(tmp_path / "locked.pdf", pages=2, password="s3cret")
    try:
        with pytest.raises(error):
            await collect(pool, request_for(pdf, password=password))
        events = await collect(pool, request_for(pdf, password="s3cret"))
        assert numbers(events) == [1, 2]
        assert page_words(2) in page_of(events[-1]).text
    finally:
        await pool.close()


async def test_corrupt_file_is_a_typed_error_and_the_process_survives(tmp_path: Path) -> None:
    pool = ChildPool(size=1, max_jobs=10)
    try:
        with pytest.raises(Corrupt):
            await collect(pool, request_for(make_corrupt_pdf(tmp_path / "bad.pdf")))
        events = await collect(pool, request_for(make_pdf(tmp_path / "ok.pdf", pages=1)))
        assert page_words(1) in page_of(events[-1]).text
    finally:
        await pool.close()


async def test_a_hanging_page_is_killed_and_the_parse_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCPARSE_TEST_HANG_PAGE", "2")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    await pool.start()
    first_pid = pool._idle[0].process.pid  # type: ignore[union-attr]
    try:
        # (Had the hung page not been killed, this would never return.)
        events = await collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=4)), page_timeout=2)
        assert events[0] == Opened(4, [1, 2, 3, 4], [1, 2, 3, 4], None)
        assert page_of(events[1]).number == 1
        assert isinstance(events[2], PageFailed) and events[2].number == 2 and events[2].code == "page_timeout"
        assert [page_of(e).number for e in events[3:]] == [3, 4]
        assert page_words(3) in page_of(events[3]).text  # the fresh process sends whole pages again
        with pytest.raises(ProcessLookupError):
            os.kill(first_pid, 0)  # the hung process is gone, not left spinning
    finally:
        await pool.close()


async def test_a_crashing_page_is_reported_and_the_parse_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCPARSE_TEST_CRASH_PAGE", "3")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    try:
        events = await collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=4)))
        failed = [e for e in events if isinstance(e, PageFailed)]
        assert [(f.number, f.code) for f in failed] == [(3, "corrupt")]
        assert numbers(events) == [1, 2, 4]
        assert page_words(4) in page_of(events[-1]).text
    finally:
        await pool.close()


async def test_cancelling_the_parse_kills_the_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCPARSE_TEST_HANG_PAGE", "1")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    await pool.start()
    pid = pool._idle[0].process.pid  # type: ignore[union-attr]
    events: list[object] = []

    async def run() -> None:
        async for event in pool.parse(request_for(make_pdf(tmp_path / "a.pdf")), page_timeout=60):
            events.append(event)

    task = asyncio.create_task(run())
    await until(lambda: bool(events), "the document never opened")  # page 1 hangs from now on
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    await pool.close()


def test_default_command_is_the_real_child() -> None:
    assert CHILD_COMMAND[-1] == "docparse.jobs.child"


async def test_a_process_killed_from_outside_costs_no_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kill -9 of the parse process (an OOM kill, an operator): the page under way is tried again in a fresh
    process, so the document still parses completely."""
    monkeypatch.setenv("DOCPARSE_TEST_SLOW_PAGE", "0.1")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    await pool.start()
    try:
        events = []
        async for event in pool.parse(request_for(make_pdf(tmp_path / "a.pdf", pages=12)),
                                      page_timeout=10, tick=0.5):  # fmt: skip
            events.append(event)
            if isinstance(event, PageDone) and event.number == 4:
                children = parse_processes()
                assert len(children) == 1
                os.kill(children[0], 9)
        assert numbers(events) == list(range(1, 13)), events
        assert [page_words(e.number) in page_of(e).text for e in events if isinstance(e, PageDone)] == [True] * 12
        assert not [e for e in events if isinstance(e, PageFailed)]
    finally:
        await pool.close()


def test_text_mupdf_could_not_decode_still_makes_valid_json() -> None:
    from docparse.jobs.child import _to_json

    assert (
        _to_json({"title": "caf\udce9 ok", "pages": ["fine"]}) == '{"title":"caf\ufffd ok","pages":["fine"]}'.encode()
    )


async def test_starts_cancelled_at_any_moment_leave_no_process_behind() -> None:
    """A job cancelled while its parse process starts (the moment it leaves the queue) used to leave that process
    running until the worker exited. Here every job that gets a process is cancelled mid-parse (its process is
    killed), so the next one needs a fresh process, and the next acquires are cancelled at moments from before
    the spawn to after the ready line, two at a time: afterwards exactly `size` processes live, none once the
    pool is closed."""
    pool = ChildPool(size=2, max_jobs=10, command=STARTER)
    rng = random.Random(5)
    try:
        for _ in range(60):
            tries = [asyncio.create_task(pool.acquire()) for _ in range(2)]
            await asyncio.sleep(rng.choice(CANCEL_DELAYS))
            for attempt in tries:
                attempt.cancel()
            for attempt in tries:
                try:
                    child = await attempt
                except asyncio.CancelledError:
                    continue
                await child.kill()
                await pool.release(child)
        await until(lambda: len(parse_processes(STARTER_MARK)) == 2, f"{parse_processes(STARTER_MARK)} live")
        await until(lambda: len(pool._idle) == 2, "the pool did not settle")
        assert sorted(parse_processes(STARTER_MARK)) == sorted(c.process.pid for c in pool._idle)  # type: ignore[union-attr]
    finally:
        await pool.close()
    await until(lambda: not parse_processes(STARTER_MARK), "processes outlived the pool")

    # The same for a process started on its own (a pool's spare, a pool warming up).
    for _ in range(30):
        child = ParseChild(STARTER)
        starting = asyncio.create_task(child.start())
        await asyncio.sleep(rng.choice(CANCEL_DELAYS))
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        if not starting.cancelled():
            await child.kill()  # it was ready before the cancel came: stopping it is the caller's business
    await until(lambda: not parse_processes(STARTER_MARK), "cancelled starts left processes")


CANCEL_DELAYS = [0, 0, 0.001, 0.005, 0.02, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3]


async def test_a_parse_cancelled_while_opening_does_not_answer_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled after its request was sent but before any answer, the process must go: given back to the pool,
    it would go on with the cancelled document, and the next job would read that document's events."""
    monkeypatch.setenv("DOCPARSE_TEST_SLOW_OPEN", "1")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    await pool.start()
    first = pool._idle[0]
    ready_at = first.last_event
    try:
        cancelled = asyncio.create_task(collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=2))))
        await until(lambda: first.last_event > ready_at, "the request was never sent")
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        other = "00000000-0000-4000-8000-000000000002"
        events = await collect(pool, request_for(make_pdf(tmp_path / "b.pdf", pages=3), job_id=other))
        assert events[0] == Opened(3, [1, 2, 3], [1, 2, 3], None) and numbers(events) == [1, 2, 3]
        with pytest.raises(ProcessLookupError):
            os.kill(first.process.pid, 0)  # type: ignore[union-attr]
    finally:
        await pool.close()


async def test_a_decompression_bomb_fails_typed_and_its_process_is_replaced(tmp_path: Path) -> None:
    """A 0.6 MB comic book whose picture inflates to 600 MB, under a 256 MiB ceiling: the page fails as
    memory_limit instead of the process taking the memory, and the next document gets a fresh process."""
    bomb = zip_bomb_cbz(tmp_path / "bomb.cbz", 600)
    assert bomb.stat().st_size < 1024 * 1024
    pool = ChildPool(size=1, max_jobs=10, memory_mb=256)
    await pool.start()
    first = pool._idle[0].process.pid  # type: ignore[union-attr]
    try:
        events = await collect(pool, request_for(bomb, file_type="cbz"))
        assert events[0] == Opened(1, [1], [1], None)
        assert isinstance(events[1], PageFailed) and events[1].code == "memory_limit", events
        assert "needed more memory than this server allows" in events[1].message
        assert not numbers(events)
        events = await collect(pool, request_for(make_pdf(tmp_path / "ok.pdf", pages=2)))
        assert numbers(events) == [1, 2] and page_words(2) in page_of(events[-1]).text
        assert not _alive(first), "the process that ran out of memory was kept"
    finally:
        await pool.close()


@pytest.mark.parametrize("how", ["DOCPARSE_TEST_MEMORY_ERROR_PAGE", "DOCPARSE_TEST_MEMORY_EXIT_PAGE"])
async def test_running_out_of_memory_on_a_page_is_typed_and_the_process_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A MemoryError on page 2 (or a process that died of one before it could say so): page 2 fails as
    memory_limit, once, without a second try; the other pages parse; the process is not used again."""
    monkeypatch.setenv(how, "2")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    await pool.start()
    first = pool._idle[0].process.pid  # type: ignore[union-attr]
    try:
        events = await collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=3)))
        assert events[0] == Opened(3, [1, 2, 3], [1, 2, 3], None) and page_of(events[1]).number == 1
        assert isinstance(events[2], PageFailed) and events[2].code == "memory_limit", events
        assert events[2].message.startswith("Page 2 needed more memory than this server allows")
        assert [page_of(e).number for e in events[3:]] == [3]
        await until(lambda: not _alive(first), "the process that ran out of memory was kept")
    finally:
        await pool.close()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_a_page_reported_before_opened_is_a_clear_error_and_the_process_goes(tmp_path: Path) -> None:
    """A parse process that breaks the protocol (a page before "opened" listed the pages) used to surface as an
    AttributeError on None; it is now a RuntimeError that says what came out of turn, and that process is killed."""
    mark = "docparse-test-out-of-turn"
    out_of_turn = (
        "/bin/sh",
        "-c",
        """echo '{"ev":"ready"}'; read -r _; echo '{"ev":"page","number":1}'; while read -r _; do :; done""",
        mark,
    )
    pool = ChildPool(size=1, max_jobs=10, command=out_of_turn)
    try:
        with pytest.raises(RuntimeError, match="out of turn"):
            await collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=1)))
        await until(lambda: len(pool._idle) == 1, "the broken process was not replaced")
        assert pool._idle[0].process is not None
        assert pool._idle[0].process.pid in parse_processes(mark)
        assert len(parse_processes(mark)) == 1  # the one that broke the protocol is gone
    finally:
        await pool.close()


async def test_only_the_pages_asked_for_by_index_are_parsed(tmp_path: Path) -> None:
    """`indices` (0-based) is the part of a document one chunk parses: those pages only, whatever the options
    select, and `skip` still applies to them."""
    pdf = make_pdf(tmp_path / "a.pdf", pages=10)
    pool = ChildPool(size=1, max_jobs=10)
    try:
        events = await collect(pool, request_for(pdf, indices=[1, 4, 9], options={"pages": "1-2"}))
        assert events[0] == Opened(10, [2, 5, 10], [2, 5, 10], None)
        assert numbers(events) == [2, 5, 10]
        assert all(page_words(p.number) in p.text for p in map(page_of, events[1:]))
        events = await collect(pool, request_for(pdf, indices=[6, 7, 8], skip=[8]))
        assert events[0] == Opened(10, [7, 8, 9], [7, 9], None) and numbers(events) == [7, 9]
    finally:
        await pool.close()


async def test_a_budget_stops_the_parse_at_the_end_of_a_page(tmp_path: Path) -> None:
    """Past its `budget` the parse stops after the page under way and says which pages are left; the process
    answered, so it serves the next parse (the pages left, here) at once."""
    pdf = make_pdf(tmp_path / "a.pdf", pages=20)
    pool = ChildPool(size=1, max_jobs=10)
    await pool.start()
    pid = pool._idle[0].process.pid  # type: ignore[union-attr]
    try:
        events = await collect(pool, request_for(pdf, budget=0.0))
        assert events[0] == Opened(20, list(range(1, 21)), list(range(1, 21)), None)
        assert page_words(1) in page_of(events[1]).text
        left = list(range(2, 21))
        assert events[2:] == [Stopped(left)]
        events = await collect(pool, request_for(pdf, indices=[n - 1 for n in left]))
        assert numbers(events) == left and not [e for e in events if isinstance(e, Stopped)]
        events = await collect(pool, request_for(pdf, budget=None))
        assert numbers(events) == list(range(1, 21)) and not [e for e in events if isinstance(e, Stopped)]
        # A budget spent on the last page to parse leaves nothing: no Stopped.
        events = await collect(pool, request_for(pdf, budget=0.0, skip=list(range(1, 20))))
        assert len(events) == 2 and page_of(events[1]).number == 20
        assert pool._idle[0].process.pid == pid  # type: ignore[union-attr]
    finally:
        await pool.close()


async def test_a_budget_goes_on_counting_across_a_lost_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that dies mid-parse is replaced and given the pages left with what is left of the budget, not
    a fresh one. Page 2 crashes its process twice (a second try, then it fails); the two fresh processes take
    ~1 s each to start, so the 2 s budget is gone by then and the last one parses one page and stops. A fresh
    budget would have let it parse about 7 pages (0.3 s each)."""
    monkeypatch.setenv("DOCPARSE_TEST_CRASH_PAGE", "2")
    monkeypatch.setenv("DOCPARSE_TEST_SLOW_PAGE", "0.3")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    await pool.start()
    try:
        events = await collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=20), budget=2.0))
        failed = [(e.number, e.code) for e in events if isinstance(e, PageFailed)]
        assert failed == [(2, "corrupt")], events
        done, stopped = numbers(events), events[-1]
        assert isinstance(stopped, Stopped) and done[0] == 1 and len(done) <= 3, events
        assert sorted([*done, 2, *stopped.numbers]) == list(range(1, 21))  # every page accounted for, once
    finally:
        await pool.close()


async def test_a_page_of_much_json_arrives_whole(tmp_path: Path) -> None:
    """A page's JSON is read as the byte count its event line gives, not as a line: 1,500 lines of text make
    about a megabyte, far past the stream's 64 KiB default, and the page after it is read in step."""
    rows = "\n".join(f"row{i:04d} " + "lorem ipsum dolor sit amet " * 12 for i in range(1500))
    doc = pymupdf.open()
    doc.new_page(width=2000, height=12_100).insert_text((10, 10), rows, fontsize=5)  # one call: 0.1 s, not 6
    doc.new_page().insert_text((72, 72), "The small page after.")
    doc.save(tmp_path / "big.pdf")
    doc.close()
    pool = ChildPool(size=1, max_jobs=10)
    try:
        events = await collect(pool, request_for(tmp_path / "big.pdf"))
        assert numbers(events) == [1, 2]
        big = events[1]
        assert isinstance(big, PageDone) and len(big.data) > 10 * 64 * 1024  # ten times the line limit
        text = page_of(big).text
        assert [f"row{i:04d}" in text for i in range(1500)] == [True] * 1500
        assert page_of(events[2]).text.strip() == "The small page after."
    finally:
        await pool.close()


def make_blank_pdf(path: Path, pages: int) -> Path:
    """A PDF of `pages` blank pages in a fraction of a second (new_page() slows as the document grows: 10,000
    took 6 s): one page made with PyMuPDF, the others written as bare page objects into its page tree."""
    doc = pymupdf.open()
    doc.new_page()
    tree = int(doc.xref_get_key(doc.pdf_catalog(), "Pages")[1].split()[0])
    kids = []
    for _ in range(pages - 1):
        xref = doc.get_new_xref()
        doc.update_object(xref, f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 595 842] >>")
        kids.append(f"{xref} 0 R")
    first = doc.xref_get_key(tree, "Kids")[1]  # "[n 0 R]"
    doc.xref_set_key(tree, "Kids", f"{first[:-1]} {' '.join(kids)}]")
    doc.xref_set_key(tree, "Count", str(pages))
    doc.save(path)
    doc.close()
    return path


async def test_the_opened_event_of_a_long_document_is_read_whole(tmp_path: Path) -> None:
    """The "opened" event lists every page twice on one line: for 10,000 pages that line is ~100 KB, past
    asyncio's 64 KiB default line limit (3,000 pages would make only ~28 KB). A budget of 0 stops after the
    first page, so this reads the line without parsing 10,000 pages."""
    count = 10_000
    assert 2 * len(msgspec.json.encode(list(range(count)))) > 64 * 1024
    pdf = make_blank_pdf(tmp_path / "long.pdf", count)
    pool = ChildPool(size=1, max_jobs=10)
    try:
        events = await collect(pool, request_for(pdf, max_pages=count, budget=0.0, info=True))
        opened = events[0]
        assert isinstance(opened, Opened) and opened.page_count == count
        assert opened.numbers == opened.todo == list(range(1, count + 1))
        assert msgspec.json.decode(opened.info or b"", type=DocumentInfo).page_count == count
        assert page_of(events[1]).number == 1
        assert events[2:] == [Stopped(list(range(2, count + 1)))]
    finally:
        await pool.close()
