"""The child-process runner on real documents: events in order, pages stored, hangs and crashes contained."""

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
    Waiting,
)
from docparse.storage import LocalStorage
from tests.documents import make_corrupt_pdf, make_pdf, page_words
from tests.jobs.bombs import zip_bomb_cbz

MISBEHAVING = (sys.executable, "-m", "tests.jobs.misbehaving_child")
# A stand-in parse process that only starts (it says ready after ~0.1 s, then reads requests until its stdin
# closes), so a test can start and cancel hundreds of them. Its last argument marks it in /proc.
STARTER_MARK = "docparse-test-starter"
STARTER = ("/bin/sh", "-c", """sleep 0.1; echo '{"ev":"ready"}'; while read -r _; do :; done""", STARTER_MARK)


def request_for(path: Path, storage: LocalStorage, job_id: str, file_type: str = "pdf", **kw: object) -> ParseRequest:
    data = path.read_bytes()
    storage.job_dir(job_id).mkdir(parents=True, exist_ok=True)
    storage.source_path(job_id).write_bytes(data)
    return ParseRequest(
        job_id=job_id,
        path=str(storage.source_path(job_id)),
        file_type=file_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_root=str(storage.root),
        max_pages=1000,
        **kw,  # type: ignore[arg-type]
    )


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


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    s = LocalStorage(tmp_path / "storage")
    s.ensure()
    return s


JOB = "00000000-0000-4000-8000-000000000001"


async def test_pages_are_stored_and_reported_in_order(tmp_path: Path, storage: LocalStorage) -> None:
    pool = ChildPool(size=1, max_jobs=10)
    await pool.start()
    try:
        events = await collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=5), storage, JOB))
        assert events[0] == Opened(5, [1, 2, 3, 4, 5])
        assert events[1:] == [PageDone(n) for n in range(1, 6)]
        page3 = msgspec.json.decode(storage.read(storage.page_path(JOB, 3)))
        assert page3["number"] == 3 and "alpha3" in page3["text"]
        document = msgspec.json.decode(storage.read(storage.document_path(JOB)))
        assert document["page_count"] == 5
        # The same warm process serves the next document, with a page selection.
        events = await collect(
            pool, request_for(make_pdf(tmp_path / "b.pdf", pages=9), storage, JOB, options={"pages": "2-3,9"})
        )
        assert events == [Opened(9, [2, 3, 9]), PageDone(2), PageDone(3), PageDone(9)]
    finally:
        await pool.close()


@pytest.mark.parametrize(("password", "error"), [(None, Encrypted), ("wrong", WrongPassword)])
async def test_encrypted_without_the_right_password_is_a_typed_error(
    tmp_path: Path, storage: LocalStorage, password: str | None, error: type
) -> None:
    pool = ChildPool(size=1, max_jobs=10)
    pdf = make_pdf(tmp_path / "locked.pdf", pages=2, password="s3cret")
    try:
        with pytest.raises(error):
            await collect(pool, request_for(pdf, storage, JOB, password=password))
        events = await collect(pool, request_for(pdf, storage, JOB, password="s3cret"))
        assert events[-1] == PageDone(2)
        assert page_words(2) in msgspec.json.decode(storage.read(storage.page_path(JOB, 2)))["text"]
    finally:
        await pool.close()


async def test_corrupt_file_is_a_typed_error_and_the_process_survives(tmp_path: Path, storage: LocalStorage) -> None:
    pool = ChildPool(size=1, max_jobs=10)
    try:
        with pytest.raises(Corrupt):
            await collect(pool, request_for(make_corrupt_pdf(tmp_path / "bad.pdf"), storage, JOB))
        events = await collect(pool, request_for(make_pdf(tmp_path / "ok.pdf", pages=1), storage, JOB))
        assert events[-1] == PageDone(1)
    finally:
        await pool.close()


async def test_a_hanging_page_is_killed_and_the_parse_goes_on(
    tmp_path: Path, storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCPARSE_TEST_HANG_PAGE", "2")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    await pool.start()
    first_pid = pool._idle[0].process.pid  # type: ignore[union-attr]
    try:
        # (Had the hung page not been killed, this would never return.)
        events = await collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=4), storage, JOB), page_timeout=2)
        assert events[0] == Opened(4, [1, 2, 3, 4])
        assert events[1] == PageDone(1)
        assert isinstance(events[2], PageFailed) and events[2].number == 2 and events[2].code == "page_timeout"
        assert events[3:] == [PageDone(3), PageDone(4)]
        assert storage.page_numbers(JOB) == [1, 3, 4]
        with pytest.raises(ProcessLookupError):
            os.kill(first_pid, 0)  # the hung process is gone, not left spinning
    finally:
        await pool.close()


async def test_a_crashing_page_is_reported_and_the_parse_goes_on(
    tmp_path: Path, storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCPARSE_TEST_CRASH_PAGE", "3")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    try:
        events = await collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=4), storage, JOB))
        failed = [e for e in events if isinstance(e, PageFailed)]
        assert [(f.number, f.code) for f in failed] == [(3, "corrupt")]
        assert [e.number for e in events if isinstance(e, PageDone)] == [1, 2, 4]
    finally:
        await pool.close()


async def test_cancelling_the_parse_kills_the_process(tmp_path: Path, storage: LocalStorage, monkeypatch) -> None:
    monkeypatch.setenv("DOCPARSE_TEST_HANG_PAGE", "1")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    await pool.start()
    pid = pool._idle[0].process.pid  # type: ignore[union-attr]
    events: list[object] = []

    async def run() -> None:
        async for event in pool.parse(request_for(make_pdf(tmp_path / "a.pdf"), storage, JOB), page_timeout=60):
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


async def test_a_process_killed_from_outside_costs_no_page(
    tmp_path: Path, storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kill -9 of the parse process (an OOM kill, an operator): the page under way is tried again in a fresh
    process, so the document still parses completely."""
    monkeypatch.setenv("DOCPARSE_TEST_SLOW_PAGE", "0.1")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    await pool.start()
    try:
        events = []
        async for event in pool.parse(request_for(make_pdf(tmp_path / "a.pdf", pages=12), storage, JOB),
                                      page_timeout=10, tick=0.5):  # fmt: skip
            events.append(event)
            if event == PageDone(4):
                children = parse_processes()
                assert len(children) == 1
                os.kill(children[0], 9)
        done = [e.number for e in events if isinstance(e, PageDone)]
        assert done == list(range(1, 13)), events
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
    tmp_path: Path, storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled after its request was sent but before any answer, the process must go: given back to the pool,
    it would go on with the cancelled document, and the next job would read that document's events."""
    monkeypatch.setenv("DOCPARSE_TEST_SLOW_OPEN", "1")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    await pool.start()
    first = pool._idle[0]
    ready_at = first.last_event
    try:
        cancelled = asyncio.create_task(collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=2), storage, JOB)))
        await until(lambda: first.last_event > ready_at, "the request was never sent")
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        other = "00000000-0000-4000-8000-000000000002"
        events = await collect(pool, request_for(make_pdf(tmp_path / "b.pdf", pages=3), storage, other))
        assert events == [Opened(3, [1, 2, 3]), PageDone(1), PageDone(2), PageDone(3)]
        with pytest.raises(ProcessLookupError):
            os.kill(first.process.pid, 0)  # type: ignore[union-attr]
    finally:
        await pool.close()


async def test_a_decompression_bomb_fails_typed_and_its_process_is_replaced(
    tmp_path: Path, storage: LocalStorage
) -> None:
    """A 0.6 MB comic book whose picture inflates to 600 MB, under a 256 MiB ceiling: the page fails as
    memory_limit instead of the process taking the memory, and the next document gets a fresh process."""
    bomb = zip_bomb_cbz(tmp_path / "bomb.cbz", 600)
    assert bomb.stat().st_size < 1024 * 1024
    pool = ChildPool(size=1, max_jobs=10, memory_mb=256)
    await pool.start()
    first = pool._idle[0].process.pid  # type: ignore[union-attr]
    try:
        events = await collect(pool, request_for(bomb, storage, JOB, file_type="cbz"))
        assert events[0] == Opened(1, [1])
        assert isinstance(events[1], PageFailed) and events[1].code == "memory_limit", events
        assert "needed more memory than this server allows" in events[1].message
        assert not storage.page_numbers(JOB)
        events = await collect(pool, request_for(make_pdf(tmp_path / "ok.pdf", pages=2), storage, JOB))
        assert events[-1] == PageDone(2)
        assert not _alive(first), "the process that ran out of memory was kept"
    finally:
        await pool.close()


@pytest.mark.parametrize("how", ["DOCPARSE_TEST_MEMORY_ERROR_PAGE", "DOCPARSE_TEST_MEMORY_EXIT_PAGE"])
async def test_running_out_of_memory_on_a_page_is_typed_and_the_process_replaced(
    tmp_path: Path, storage: LocalStorage, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A MemoryError on page 2 (or a process that died of one before it could say so): page 2 fails as
    memory_limit, once, without a second try; the other pages parse; the process is not used again."""
    monkeypatch.setenv(how, "2")
    pool = ChildPool(size=1, max_jobs=10, command=MISBEHAVING)
    await pool.start()
    first = pool._idle[0].process.pid  # type: ignore[union-attr]
    try:
        events = await collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=3), storage, JOB))
        assert events[:2] == [Opened(3, [1, 2, 3]), PageDone(1)]
        assert isinstance(events[2], PageFailed) and events[2].code == "memory_limit", events
        assert events[2].message.startswith("Page 2 needed more memory than this server allows")
        assert events[3:] == [PageDone(3)]
        await until(lambda: not _alive(first), "the process that ran out of memory was kept")
    finally:
        await pool.close()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_a_page_reported_before_opened_is_a_clear_error_and_the_process_goes(
    tmp_path: Path, storage: LocalStorage
) -> None:
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
            await collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=1), storage, JOB))
        await until(lambda: len(pool._idle) == 1, "the broken process was not replaced")
        assert pool._idle[0].process is not None
        assert pool._idle[0].process.pid in parse_processes(mark)
        assert len(parse_processes(mark)) == 1  # the one that broke the protocol is gone
    finally:
        await pool.close()
