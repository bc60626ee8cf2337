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

from docparse.api.upload import SMALL_BODY
from docparse.app import create_app
from docparse.jobs.chores import Chores
from docparse.jobs.metrics import metrics_key
from docparse.jobs.queue import create_queue
from docparse.jobs.records import JobRecord
from docparse.jobs.service import JobService
from docparse.settings import Settings
from docparse.storage import open_storage
from tests.api.live import REDIS_SERVER, PrivateRedis
from tests.conftest import make_settings, purge_queue
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
@pytest.mark.parametrize(
    "denied",
    [
        pytest.param("-@scripting", id="record refused"),  # the admission script: nothing is written
        pytest.param("-set", id="enqueue refused"),  # SAQ's enqueue script, after the record is written
    ],
)
async def test_a_refused_enqueue_leaves_no_job_behind(tmp_path: Path, denied: str) -> None:
    """Redis refuses to record the job, or SAQ's enqueue after the record is written (the script's first write is
    a SET, which this user may not run): the client gets an error, and neither the record nor its history entries
    remain (before, the job was listed as queued and later failed as corrupt, its file gone), nor its count."""
    server = PrivateRedis(tmp_path / "redis")
    admin = server.client()
    try:
        admin.execute_command("ACL", "SETUSER", "limited", "on", ">pw", "~*", "&*", "+@all", denied)
        url = f"redis://limited:pw@127.0.0.1:{server.port}/0"
        settings = make_settings(tmp_path, redis_url=url)
        admin.set(f"docparse:{settings.queue_name}:owners-indexed", "1")  # the one SET of the API's startup
        pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
        async with AsyncTestClient(app=create_app(settings)) as client:
            response = await client.post("/upload", files={"file": ("a.pdf", pdf)})
            assert response.status_code == 500 and response.json()["code"] == "internal", response.text
            assert (await client.get("/jobs")).json()["jobs"] == []
        assert job_traces(admin, settings) == []
        # refused enqueue: the upload was counted with its record, and the count taken back with it
        counted = {b"uploads": b"0", b"upload_bytes": b"0"} if denied == "-set" else {}
        assert admin.hgetall(metrics_key(settings.queue_name)) == counted
        assert not list((settings.storage_dir / "jobs").glob("*"))
    finally:
        admin.close()
        server.close()


async def test_a_full_queue_refuses_a_small_upload_when_recording_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small upload (by its Content-Length) is read without asking Redis first whether the queue has room: the
    job's admission asks, in the same step that would record it. Refused, it is the same 429, and it leaves
    nothing: no record, no history, live or owner entry, no count, no file. A big one is still refused before
    its body is read."""
    settings = make_settings(tmp_path, max_queued=1)
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    early_checks = 0
    check_room = JobService.check_room

    async def counted(self: JobService) -> None:
        nonlocal early_checks
        early_checks += 1
        await check_room(self)

    monkeypatch.setattr(JobService, "check_room", counted)
    admin = redis.Redis.from_url(settings.redis_url)
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            first = await client.post("/upload", files={"file": ("a.pdf", pdf)})  # no worker: it stays queued
            assert first.status_code == 202, first.text
            traces = sorted(job_traces(admin, settings))
            refused = await client.post("/upload", files={"file": ("b.pdf", pdf)})
            assert early_checks == 0
            assert refused.status_code == 429 and refused.json()["code"] == "too_many_requests", refused.text
            assert int(refused.headers["retry-after"]) > 0
            assert sorted(job_traces(admin, settings)) == traces
            prefix = f"docparse:{settings.queue_name}"
            assert admin.zcard(f"{prefix}:history") == 1 and admin.scard(f"{prefix}:live") == 1
            assert admin.hlen(f"{prefix}:owners") == 1
            assert [j["job_id"] for j in (await client.get("/jobs")).json()["jobs"]] == [first.json()["job_id"]]
            metrics = admin.hgetall(metrics_key(settings.queue_name))
            assert (int(metrics[b"uploads"]), int(metrics[b"upload_bytes"])) == (1, len(pdf))
            assert [p.name for p in (settings.storage_dir / "jobs").iterdir()] == [first.json()["job_id"]]

            big = pdf + b"%" + b"x" * SMALL_BODY  # a PDF may end in a comment
            early = await client.post("/upload", files={"file": ("big.pdf", big)})
            assert early.status_code == 429 and early_checks == 1
            assert early.json() == refused.json() and early.headers["retry-after"] == refused.headers["retry-after"]
    finally:
        admin.close()
        purge_queue(settings)


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
