"""The child-process runner on real documents: events in order, pages stored, hangs and crashes contained."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from pathlib import Path

import msgspec
import pytest

from docparse.errors import Corrupt, Encrypted, WrongPassword
from docparse.jobs.runner import CHILD_COMMAND, ChildPool, Opened, PageDone, PageFailed, ParseRequest, Waiting
from docparse.storage import LocalStorage
from tests.documents import make_corrupt_pdf, make_pdf, page_words

MISBEHAVING = (sys.executable, "-m", "tests.jobs.misbehaving_child")


def request_for(path: Path, storage: LocalStorage, job_id: str, **kw: object) -> ParseRequest:
    data = path.read_bytes()
    storage.job_dir(job_id).mkdir(parents=True, exist_ok=True)
    storage.source_path(job_id).write_bytes(data)
    return ParseRequest(
        job_id=job_id,
        path=str(storage.source_path(job_id)),
        file_type="pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_root=str(storage.root),
        max_pages=1000,
        **kw,  # type: ignore[arg-type]
    )


def parse_processes() -> list[int]:
    """Pids of this process's misbehaving parse children, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"tests.jobs.misbehaving_child" in cmdline:
            found.append(int(entry.name))
    return found


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
        started = asyncio.get_running_loop().time()
        events = await collect(pool, request_for(make_pdf(tmp_path / "a.pdf", pages=4), storage, JOB), page_timeout=2)
        assert asyncio.get_running_loop().time() - started < 10
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
    task = asyncio.create_task(collect(pool, request_for(make_pdf(tmp_path / "a.pdf"), storage, JOB), page_timeout=60))
    await asyncio.sleep(1.5)
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
