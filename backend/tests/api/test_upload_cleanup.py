"""What a failed or unfinished upload leaves behind: a job is recorded and queued together or not at all, and
retention never removes an upload still arriving."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
import redis
from litestar.testing import AsyncTestClient

from docparse.app import create_app
from docparse.jobs.chores import Chores
from docparse.jobs.queue import create_queue
from docparse.jobs.records import JobRecord
from docparse.settings import Settings
from docparse.storage import open_storage
from tests.api.live import REDIS_SERVER, PrivateRedis
from tests.conftest import make_settings
from tests.documents import make_pdf


def source_path(settings: Settings, job_id: str) -> Path:
    """Where local storage keeps a job's upload."""
    return settings.storage_dir / "jobs" / job_id / "source"


def job_traces(client: redis.Redis, settings: Settings) -> list[bytes]:
    """Keys that hold a job of the queue, or list one: records, SAQ jobs, histories, the live set, owners."""
    keys = [
        *client.scan_iter(match=f"docparse:{settings.queue_name}:job:*"),
        *client.scan_iter(match=f"saq:job:{settings.queue_name}:*"),
    ]
    for key in client.scan_iter(match=f"*{settings.queue_name}*"):
        kind = client.type(key)
        if kind in (b"zset", b"set", b"list", b"hash") and b":metrics" not in key and b":job:" not in key:
            keys.append(key)  # any index of jobs that still holds something
    return keys


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")
async def test_a_refused_enqueue_leaves_no_job_behind(tmp_path: Path) -> None:
    """Redis refuses SAQ's enqueue (this user may not run scripts) after the record is written: the client gets
    an error, and neither the record nor its history entries remain (before, the job was listed as queued and
    later failed as corrupt, its file gone)."""
    server = PrivateRedis(tmp_path / "redis")
    admin = server.client()
    try:
        admin.execute_command("ACL", "SETUSER", "noscripts", "on", ">pw", "~*", "&*", "+@all", "-@scripting")
        url = f"redis://noscripts:pw@127.0.0.1:{server.port}/0"
        settings = make_settings(tmp_path, redis_url=url)
        pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
        async with AsyncTestClient(app=create_app(settings)) as client:
            response = await client.post("/upload", files={"file": ("a.pdf", pdf)})
            assert response.status_code == 500 and response.json()["code"] == "internal", response.text
            assert (await client.get("/jobs")).json()["jobs"] == []
        assert job_traces(admin, settings) == []
        assert not list((settings.storage_dir / "jobs").glob("*"))
    finally:
        admin.close()
        server.close()


async def test_the_rescue_drops_a_record_whose_upload_never_completed(settings: Settings) -> None:
    """When Redis went away between the record and the enqueue, the record may survive the API's clean-up; its
    upload's file is gone, so the workers' rescue removes it rather than queueing a job doomed to fail."""
    queue = create_queue(settings)
    storage = open_storage(settings)
    service = Chores(queue, settings, storage)
    job_id = str(uuid.uuid4())
    record = JobRecord(job_id=job_id, filename="a.pdf", file_type="pdf", size=1, sha256="0", created_at=time.time())
    try:
        await service.records.create(record, password=None)
        assert await service.rescue_orphans() == 1
        assert await service.records.get(job_id) is None
        assert await queue.job(job_id) is None, "a job without its file was queued"
        assert job_id not in await service.records.live()
        assert await service.records.history_page(None, 10) == []
    finally:
        await queue.disconnect()


async def test_a_job_that_lost_only_its_queue_entry_is_queued_again(settings: Settings, tmp_path: Path) -> None:
    queue = create_queue(settings)
    storage = open_storage(settings)
    service = Chores(queue, settings, storage)
    job_id = str(uuid.uuid4())
    source = source_path(settings, job_id)
    source.parent.mkdir(parents=True)
    source.write_bytes(make_pdf(tmp_path / "a.pdf").read_bytes())
    record = JobRecord(job_id=job_id, filename="a.pdf", file_type="pdf", size=1, sha256="0", created_at=time.time())
    try:
        await service.records.create(record, password=None)
        assert await service.rescue_orphans() == 1
        assert await queue.job(job_id) is not None
    finally:
        await queue.disconnect()


async def test_retention_keeps_an_upload_still_arriving(tmp_path: Path) -> None:
    """A slow upload's folder was made long ago, but its file is still being written: no record yet, and yet
    not an orphan. An upload left alone for longer than the orphan age is."""
    settings = make_settings(tmp_path)
    storage = open_storage(settings)
    service = Chores(create_queue(settings), settings, storage)
    long_ago = time.time() - 2 * 3600
    arriving, abandoned = str(uuid.uuid4()), str(uuid.uuid4())
    for job_id in (arriving, abandoned):
        source = source_path(settings, job_id)
        source.parent.mkdir(parents=True)
        source.write_bytes(b"%PDF-1.7\n")
        os.utime(source.parent, (long_ago, long_ago))
    os.utime(source_path(settings, abandoned), (long_ago, long_ago))
    try:
        assert await service.purge_expired(orphan_age=3600) == 1
        assert source_path(settings, arriving).exists()
        assert not source_path(settings, abandoned).parent.exists()
    finally:
        await service.queue.disconnect()


async def test_retention_never_removes_the_files_of_a_recorded_job(settings: Settings) -> None:
    storage = open_storage(settings)
    service = Chores(create_queue(settings), settings, storage)
    job_id = str(uuid.uuid4())
    source = source_path(settings, job_id)
    source.parent.mkdir(parents=True)
    source.write_bytes(b"%PDF-1.7\n")
    long_ago = time.time() - 2 * 3600
    os.utime(source, (long_ago, long_ago))
    os.utime(source.parent, (long_ago, long_ago))
    record = JobRecord(job_id=job_id, filename="a.pdf", file_type="pdf", size=1, sha256="0", created_at=time.time())
    try:
        await service.records.create(record, password=None)
        assert await service.purge_expired(orphan_age=3600) == 0
        assert source.exists()
    finally:
        await service.records.delete(job_id)
        await service.queue.disconnect()
