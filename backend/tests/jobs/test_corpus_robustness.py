"""Every robustness file of the shared corpus through the real, killable parse process: each ends in pages or a
typed error within the page timeout, and the process that parses them is never lost. Every page it sends is a
whole Page in JSON, and the document's facts a whole DocumentInfo."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator

import msgspec
import pytest

from docparse.errors import DocparseError
from docparse.filetypes import detect_type
from docparse.jobs.runner import ChildPool, Opened, PageDone, PageFailed, ParseRequest, Waiting
from docparse.results import DocumentInfo, Page
from docparse.settings import Settings
from tests.corpus import CORPUS_DIR, MISSING_REASON, load_manifest

ENTRIES = [e for e in load_manifest() if e["set"] == "robustness"]
if not ENTRIES:
    pytest.skip(MISSING_REASON, allow_module_level=True)

PAGE_TIMEOUT = 20.0  # generous: the corpus notes some pages take seconds


@pytest.fixture(scope="module")
async def pool() -> AsyncIterator[ChildPool]:
    # Under the default memory ceiling: no real file may need more than it allows.
    p = ChildPool(size=1, max_jobs=100, memory_mb=Settings.model_fields["child_memory_mb"].default)
    await p.start()
    yield p
    await p.close()


@pytest.mark.corpus
@pytest.mark.parametrize("entry", ENTRIES, ids=[e["path"] for e in ENTRIES])
async def test_robustness_file_ends_typed(entry: dict, pool: ChildPool) -> None:
    path = CORPUS_DIR / entry["path"]
    data = path.read_bytes()
    file_type = detect_type(data[:65536], path.name)
    if file_type is None:
        assert entry["expect"] != "ok", "a file that must parse was not recognised"
        return  # the API answers 415 unsupported_type: a typed refusal
    request = ParseRequest(
        job_id=str(uuid.uuid4()),
        path=str(path),
        file_type=file_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        max_pages=100_000,
        password=entry["user_password"],
        info=True,  # as a job's first run asks
    )
    opened, done, failed = None, [], []
    try:
        async for event in pool.parse(request, page_timeout=PAGE_TIMEOUT):
            if isinstance(event, Opened):
                opened = event
            elif isinstance(event, PageDone):
                assert msgspec.json.decode(event.data, type=Page).number == event.number
                done.append(event.number)
            elif isinstance(event, PageFailed):
                failed.append(event)
            else:
                assert isinstance(event, Waiting)
    except DocparseError as exc:
        assert entry["expect"] != "ok", f"expected to parse, got {exc.code}: {exc.message}"
        assert exc.code != "internal" and exc.message
        return
    assert opened is not None and opened.info is not None
    assert msgspec.json.decode(opened.info, type=DocumentInfo).page_count == opened.page_count
    assert entry["expect"] != "error" or not done, "a file that cannot be opened produced pages"
    if entry["expect"] == "ok":
        assert not failed, failed
        if entry["pages"] is not None:
            assert opened.page_count == entry["pages"]
        assert len(done) == opened.page_count
