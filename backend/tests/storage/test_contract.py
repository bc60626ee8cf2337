"""What every storage backend promises (base.Storage), checked on a local folder and on a real SeaweedFS over S3."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from docparse.errors import Unavailable
from docparse.settings import Settings
from docparse.storage import (
    ObjectStorage,
    Storage,
    document_key,
    image_key,
    job_prefix,
    open_storage,
    segment_key,
    source_key,
)
from docparse.storage.objects import PART_SIZE, parse_storage_url
from tests.conftest import SeaweedEndpoint

MIB = 1024 * 1024


def make_storage(tmp_path: Path, **overrides: object) -> ObjectStorage:
    values: dict[str, object] = {"storage_dir": tmp_path / "storage-dir", "cache_dir": tmp_path / "cache"}
    values.update(overrides)
    storage = open_storage(Settings(**values))  # type: ignore[arg-type]  # storage_url from DOCPARSE_STORAGE_URL
    assert isinstance(storage, ObjectStorage)
    return storage


@pytest.fixture
async def storage(storage_url: str, tmp_path: Path) -> AsyncIterator[ObjectStorage]:
    s = make_storage(tmp_path)
    assert s.url.rstrip("/") == storage_url.rstrip("/")
    await s.ensure()
    yield s
    await s.close()


def new_job() -> str:
    return str(uuid.uuid4())


async def upload(storage: Storage, job_id: str, data: bytes, piece: int = 300_001) -> None:
    writer = storage.open_source(job_id)
    for i in range(0, len(data), piece):
        await writer.write(data[i : i + piece])
    await writer.close()


async def job_ids(storage: Storage) -> dict[str, float]:
    return {job_id: written async for job_id, written in storage.jobs()}


async def test_put_get_and_ranges(storage: ObjectStorage) -> None:
    job = new_job()
    body = bytes(range(256)) * 40
    await storage.put(segment_key(job, "0"), body)
    await storage.put(document_key(job), b'{"pages": 3}')
    assert await storage.get(segment_key(job, "0")) == body
    assert await storage.get(document_key(job)) == b'{"pages": 3}'
    assert await storage.get_range(segment_key(job, "0"), 300, 10) == body[300:310]
    assert await storage.get_range(segment_key(job, "0"), 0, len(body)) == body
    assert await storage.get_range(segment_key(job, "0"), len(body) - 5, 100) == body[-5:]  # shorter at the end
    assert await storage.get_range(segment_key(job, "0"), 7, 0) == b""
    assert await storage.get_range(segment_key(job, "0"), len(body), 10) == b""  # nothing past the end
    assert await storage.get_range(segment_key(job, "0"), len(body) + 99, 10) == b""
    await storage.put(document_key(job), b"replaced")  # a write replaces the whole object
    assert await storage.get(document_key(job)) == b"replaced"
    await storage.put(image_key(job, 1, 800), b"")  # empty objects are objects
    assert await storage.get(image_key(job, 1, 800)) == b""


async def test_missing_objects(storage: ObjectStorage) -> None:
    job = new_job()
    assert await storage.get(document_key(job)) is None
    with pytest.raises(FileNotFoundError):
        await storage.get_range(segment_key(job, "0"), 0, 10)
    with pytest.raises(FileNotFoundError):
        await storage.get_range(segment_key(job, "0"), 0, 0)
    assert not await storage.has_source(job)
    with pytest.raises(FileNotFoundError):
        await storage.local_source(job)
    await storage.delete_job(job)  # deleting what is not there is fine


async def test_keys_that_leave_the_store_are_refused(storage: ObjectStorage) -> None:
    for key in ("../outside", "jobs/../../x", "/etc/passwd", "jobs//x", ""):
        with pytest.raises(ValueError):
            await storage.put(key, b"x")
    with pytest.raises(ValueError):
        job_prefix("../../etc")


async def test_source_streamed_in_pieces_is_read_back_whole(storage: ObjectStorage, tmp_path: Path) -> None:
    job = new_job()
    data = os.urandom(2 * PART_SIZE + 3 * MIB)  # three parts of a multipart upload on S3
    writer = storage.open_source(job)
    await writer.write(data[:1000])
    assert not await storage.has_source(job)  # nothing is visible before close
    for i in range(1000, len(data), 256 * 1024 + 7):
        await writer.write(data[i : i + 256 * 1024 + 7])
    assert not await storage.has_source(job)
    await writer.close()
    assert await storage.has_source(job)
    path = await storage.local_source(job)
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert await storage.get_range(source_key(job), 5 * MIB, 16) == data[5 * MIB : 5 * MIB + 16]
    if storage.root is not None:
        assert path == storage.root / source_key(job)  # the file itself, no copy
        assert not [p for p in path.parent.iterdir() if p.name != "source"]  # no temporary left beside it
    else:
        assert storage.cache is not None and path.parent == storage.cache.directory
        assert not [p for p in path.parent.iterdir() if p.name != path.name]


async def test_small_and_empty_sources(storage: ObjectStorage) -> None:
    job, empty = new_job(), new_job()
    await upload(storage, job, b"%PDF-1.7 tiny")
    assert (await storage.local_source(job)).read_bytes() == b"%PDF-1.7 tiny"
    await upload(storage, empty, b"")
    assert await storage.has_source(empty)
    assert (await storage.local_source(empty)).read_bytes() == b""


async def test_aborted_upload_leaves_nothing(storage: ObjectStorage, request: pytest.FixtureRequest) -> None:
    fs: SeaweedEndpoint | None = None if storage.root is not None else request.getfixturevalue("seaweed")
    uploads = f"/buckets/{fs.bucket}/.uploads" if fs else ""
    unfinished_before = set(fs.server.list_tree(uploads)) if fs else set()
    job = new_job()
    writer = storage.open_source(job)
    for _ in range(PART_SIZE // MIB + 3):  # past the first part: a multipart upload is under way on S3
        await writer.write(os.urandom(MIB))
    if fs:
        assert set(fs.server.list_tree(uploads)) > unfinished_before  # the check below can see an upload
    await writer.abort()
    await writer.abort()  # twice is fine
    assert not await storage.has_source(job)
    assert job not in await job_ids(storage)
    if fs:  # no unfinished multipart upload stays behind in SeaweedFS, no object either
        assert set(fs.server.list_tree(uploads)) == unfinished_before
        assert not [p for p in fs.server.list_tree(f"/buckets/{fs.bucket}") if job in p]
    else:
        assert storage.root is not None and not (storage.root / job_prefix(job)).exists()
    with pytest.raises(ValueError):
        await writer.write(b"more")


async def test_delete_job_removes_every_object_and_the_cached_copy(storage: ObjectStorage) -> None:
    job, other = new_job(), new_job()
    await upload(storage, job, os.urandom(MIB))
    await upload(storage, other, b"other")
    await storage.put(document_key(job), b"{}")
    for n in range(5):
        await storage.put(segment_key(job, str(n)), b"page")
        await storage.put(image_key(job, n, 400), b"png")
    cached = await storage.local_source(job)
    await storage.delete_job(job)
    assert not await storage.has_source(job)
    assert await storage.get(document_key(job)) is None
    assert await storage.get(segment_key(job, "3")) is None
    assert job not in await job_ids(storage)
    assert not cached.exists()
    assert await storage.get(source_key(other)) == b"other"  # the other job is untouched
    assert other in await job_ids(storage)


async def test_jobs_lists_each_job_with_its_newest_write(storage: ObjectStorage) -> None:
    before = time.time()
    first, second = new_job(), new_job()
    await upload(storage, first, b"one")
    await storage.put(segment_key(first, "0"), b"page")
    await storage.put(document_key(second), b"{}")
    after = time.time()
    listed = await job_ids(storage)
    assert set(listed) == {first, second}  # a fresh store holds only these
    for written in listed.values():
        assert before - 2 <= written <= after + 2  # S3 keeps whole seconds


async def test_concurrent_callers_share_one_download(storage: ObjectStorage, tmp_path: Path) -> None:
    job = new_job()
    data = os.urandom(3 * MIB)
    await upload(storage, job, data)
    paths = await asyncio.gather(*(storage.local_source(job) for _ in range(4)))
    assert len(set(paths)) == 1 and paths[0].read_bytes() == data
    if storage.cache is not None:
        assert storage.cache.downloads == 1
        await storage.local_source(job)  # a hit
        assert storage.cache.downloads == 1
        # another process of the machine (same settings, so the same cache folder) finds the copy made here
        neighbour = make_storage(tmp_path)
        assert await neighbour.local_source(job) == paths[0]
        assert neighbour.cache is not None and neighbour.cache.downloads == 0


@pytest.mark.parametrize("storage_url", ["s3"], indirect=True)
async def test_cache_keeps_under_its_bound_sparing_recent_files(storage_url: str, tmp_path: Path) -> None:
    storage = make_storage(tmp_path, cache_mb=3)
    assert storage.cache is not None
    jobs = [new_job() for _ in range(4)]
    for job in jobs:
        await upload(storage, job, os.urandom(MIB))
    paths = [await storage.local_source(job) for job in jobs]  # 4 MiB: over the bound, but all used just now
    assert all(p.exists() for p in paths)
    # Make them look used 2, 3, 4 and 5 minutes ago, the first job's copy most recently.
    for age, path in zip((120, 300, 240, 180), paths, strict=True):
        os.utime(path, (time.time() - age, time.time() - age))
    await storage.local_source(jobs[0])  # a hit refreshes its use
    extra = new_job()
    await upload(storage, extra, os.urandom(MIB))
    await storage.local_source(extra)  # needs room for 1 MiB: the two least recently used go
    assert [p.exists() for p in paths] == [True, False, False, True]
    total = sum(p.stat().st_size for p in storage.cache.directory.iterdir())
    assert total <= 3 * MIB
    # an evicted source comes back on demand
    assert (await storage.local_source(jobs[1])).stat().st_size == MIB


@pytest.mark.parametrize("storage_url", ["s3"], indirect=True)
async def test_s3_writes_nothing_into_the_storage_dir(storage_url: str, tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    await storage.ensure()
    job = new_job()
    await upload(storage, job, os.urandom(MIB))
    await storage.put(document_key(job), b"{}")
    await storage.local_source(job)
    assert [j async for j, _ in storage.jobs()] == [job]
    await storage.delete_job(job)
    assert not (tmp_path / "storage-dir").exists()


@pytest.mark.parametrize("storage_url", ["s3"], indirect=True)
async def test_ensure_reports_an_unreachable_store(
    storage_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    started = time.monotonic()
    with pytest.raises(Unavailable, match="cannot reach its storage s3://"):
        await make_storage(tmp_path).ensure()
    assert time.monotonic() - started < 15


def test_storage_urls(tmp_path: Path) -> None:
    assert parse_storage_url("", tmp_path / "d").directory == (tmp_path / "d").resolve()
    assert parse_storage_url(str(tmp_path / "x"), tmp_path).directory == tmp_path / "x"
    assert parse_storage_url(f"file://{tmp_path}/y", tmp_path).directory == tmp_path / "y"
    s3 = parse_storage_url("s3://bucket/some/prefix/", tmp_path)
    assert (s3.directory, s3.bucket, s3.prefix) == (None, "bucket", "some/prefix")
    assert parse_storage_url("s3://bucket", tmp_path).prefix == ""
    for bad in ("s3:///nobucket", "gs://bucket/x", "file://host/path", "s3://b/p?x=1"):
        with pytest.raises(ValueError):
            parse_storage_url(bad, tmp_path)
    assert Settings(storage_url="s3://b/p").storage_is_local is False
    assert Settings(storage_url="").storage_is_local is True
