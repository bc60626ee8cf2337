"""`GET /jobs` pages through the caller's own history: its cursors are opaque and built only from the caller's
jobs, so they never reveal another key's job ids; delete and retention clean the per-owner index."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as sync_redis
from litestar.testing import AsyncTestClient

from docparse.api.auth import owner_of
from docparse.app import create_app
from docparse.jobs.chores import Chores
from docparse.jobs.queue import create_queue
from docparse.jobs.records import JobRecord, RecordStore
from docparse.jobs.service import JobService
from docparse.settings import Settings
from docparse.storage import open_storage
from tests.conftest import make_settings, purge_queue
from tests.documents import make_pdf

ALPHA = {"Authorization": "Bearer key-alpha"}
BETA = {"X-API-Key": "key-beta"}


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[Settings]:
    settings = make_settings(tmp_path, api_keys="key-alpha,key-beta")
    yield settings
    purge_queue(settings)


def revealed(cursor: str | None) -> str:
    """Everything a cursor could tell: its text and, if it is base64, what that decodes to."""
    if cursor is None:
        return ""
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode(errors="replace")
    except ValueError:
        decoded = ""
    return cursor + " " + decoded


def indexed_under(settings: Settings, job_id: str) -> list[str]:
    """docparse's Redis keys whose members (sorted sets, sets) or fields (hashes) name `job_id`."""
    redis = sync_redis.Redis.from_url(settings.redis_url)
    readers = {b"zset": lambda k: redis.zrange(k, 0, -1), b"set": redis.smembers, b"hash": redis.hkeys}
    try:
        return [
            key.decode()
            for key in redis.scan_iter(match=f"docparse:{settings.queue_name}:*")
            if (read := readers.get(redis.type(key))) and job_id.encode() in read(key)
        ]
    finally:
        redis.close()


async def pages(client: AsyncTestClient, headers: dict, limit: int) -> tuple[list[str], list[str]]:
    """Every job id of the caller's history, following next_cursor, and the cursors given out."""
    seen: list[str] = []
    cursors: list[str] = []
    cursor = None
    for _ in range(50):
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/jobs", params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [j["job_id"] for j in body["jobs"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, cursors
        cursors.append(cursor)
    raise AssertionError("the history never ended")


async def test_cursors_never_reveal_another_keys_jobs(keyed: Settings, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", pages=1).read_bytes()
    async with AsyncTestClient(app=create_app(keyed)) as client:

        async def upload(headers: dict) -> str:
            response = await client.post("/upload", files={"file": ("a.pdf", pdf)}, headers=headers)
            return response.json()["job_id"]

        alpha_first = [await upload(ALPHA) for _ in range(12)]  # no worker: they stay queued
        # The report: with jobs only under keyA, keyB's first page was empty and its cursor named keyA's job
        # (a page reads at most ten pages' worth of history).
        empty = (await client.get("/jobs", params={"limit": 1}, headers=BETA)).json()
        assert empty == {"jobs": [], "next_cursor": None}

        # Interleaved owners: each pages through exactly its own jobs, newest first, whatever the page size.
        beta_ids, alpha_ids = [], list(alpha_first)
        for _ in range(3):
            beta_ids.append(await upload(BETA))
            alpha_ids.append(await upload(ALPHA))
        for limit in (1, 2, 5):
            beta_seen, beta_cursors = await pages(client, BETA, limit)
            assert beta_seen == list(reversed(beta_ids))
            alpha_seen, alpha_cursors = await pages(client, ALPHA, limit)
            assert alpha_seen == list(reversed(alpha_ids))
            for cursor in beta_cursors:
                assert not any(job_id in revealed(cursor) for job_id in alpha_ids), cursor
            for cursor in alpha_cursors:
                assert not any(job_id in revealed(cursor) for job_id in beta_ids), cursor
                assert not any(job_id in cursor for job_id in alpha_ids), "cursors are opaque"

        # A cursor from another key leads only through the caller's own jobs.
        _, alpha_cursors = await pages(client, ALPHA, 1)
        crossed = (await client.get("/jobs", params={"cursor": alpha_cursors[0]}, headers=BETA)).json()
        assert {j["job_id"] for j in crossed["jobs"]} <= set(beta_ids)
        # A cursor this server never gave out is a 400, not a 500 or an empty page.
        for bogus in ("nonsense", "1712345678.5:" + alpha_ids[0], "%%%", base64.urlsafe_b64encode(b"x:y").decode()):
            bad = await client.get("/jobs", params={"cursor": bogus}, headers=BETA)
            assert bad.status_code == 400 and bad.json()["code"] == "invalid_request", (bogus, bad.text)

        # Deleting a job takes it out of its owner's index.
        assert (await client.delete(f"/jobs/{beta_ids[0]}", headers=BETA)).status_code == 204
        assert (await pages(client, BETA, 2))[0] == list(reversed(beta_ids[1:]))
        assert indexed_under(keyed, beta_ids[0]) == []


async def test_retention_cleans_the_per_owner_index(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_keys="key-alpha", result_ttl=1)
    queue = create_queue(settings)
    service = JobService(queue, settings, open_storage(settings))
    owner = owner_of("key-alpha")
    try:
        await queue.connect()
        created = time.time() - 10
        for job_id, age in (("11111111-1111-4111-8111-111111111111", 10), ("22222222-2222-4222-8222-222222222222", 0)):
            record = JobRecord(job_id=job_id, filename="a.pdf", file_type="pdf", size=1, sha256="0", owner=owner,
                               created_at=created + 10 - age)  # fmt: skip
            await service.records.create(record, password=None)
        # The old job's record expired (its TTL ran out); the new one is still there.
        await queue.redis.delete(service.records.key("11111111-1111-4111-8111-111111111111"))
        listed, _ = await service.list_jobs(status=None, limit=10, cursor=None, owner=owner)
        assert [s.job_id for s in listed] == ["22222222-2222-4222-8222-222222222222"]

        assert indexed_under(settings, "11111111-1111-4111-8111-111111111111") != []
        assert await Chores(queue, settings, service.storage).purge_expired() == 1
        assert indexed_under(settings, "11111111-1111-4111-8111-111111111111") == []
        listed, _ = await service.list_jobs(status=None, limit=10, cursor=None, owner=owner)
        assert [s.job_id for s in listed] == ["22222222-2222-4222-8222-222222222222"]
    finally:
        await queue.disconnect()
        purge_queue(settings)


async def test_jobs_recorded_before_the_per_owner_index_are_listed(keyed: Settings) -> None:
    """Records written by an older version sit only in the global history; the API indexes them at start-up."""
    queue = create_queue(keyed)
    records = RecordStore(queue.redis, keyed.queue_name)
    job_id = "33333333-3333-4333-8333-333333333333"
    try:
        await queue.connect()
        record = JobRecord(job_id=job_id, filename="a.pdf", file_type="pdf", size=1, sha256="0",
                           owner=owner_of("key-alpha"), created_at=time.time())  # fmt: skip
        fields = {"job_id": job_id, "filename": "a.pdf", "file_type": "pdf", "size": "1", "sha256": "0",
                  "created_at": str(record.created_at), "owner": record.owner, "status": "queued"}  # fmt: skip
        await queue.redis.hset(records.key(job_id), mapping=fields)  # what the old create() wrote
        await queue.redis.zadd(records.history_key, {job_id: record.created_at})
    finally:
        await queue.disconnect()
    async with AsyncTestClient(app=create_app(keyed)) as client:
        assert [j["job_id"] for j in (await client.get("/jobs", headers=ALPHA)).json()["jobs"]] == [job_id]
        assert (await client.get("/jobs", headers=BETA)).json()["jobs"] == []
