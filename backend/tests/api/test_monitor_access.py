"""The SAQ monitor is an operator's tool: with API keys on, only an admin key (DOCPARSE_ADMIN_KEYS) opens it; a
tenant's key can neither list, abort nor retry anyone's jobs there. With keys off entirely it stays open."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from docparse.app import create_app
from docparse.settings import Settings
from tests.conftest import WorkerProcess, make_settings, purge_queue
from tests.documents import make_pdf

ALPHA = {"Authorization": "Bearer key-alpha"}
BETA = {"X-API-Key": "key-beta"}
ADMIN_BEARER = {"Authorization": "Bearer admin-one"}
ADMIN_HEADER = {"X-API-Key": "admin-two"}
TERMINAL = {"completed", "failed", "cancelled"}


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[Settings]:
    settings = make_settings(tmp_path, api_keys="key-alpha,key-beta", admin_keys="admin-one, admin-two")
    yield settings
    purge_queue(settings)


async def wait_status(
    client: AsyncTestClient, job_id: str, headers: dict, states: set[str], timeout: float = 60
) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = (await client.get(f"/jobs/{job_id}", headers=headers)).json()
        if body["status"] in states:
            return body
        assert time.monotonic() < deadline, f"job stayed {body}"
        await asyncio.sleep(0.05)


async def test_tenant_keys_cannot_list_abort_or_retry_through_the_monitor(keyed: Settings, tmp_path: Path) -> None:
    worker = WorkerProcess(keyed, slow_page=0.2)
    try:
        worker.wait_ready()
        queue_api = f"/monitor/api/queues/{keyed.queue_name}"
        async with AsyncTestClient(app=create_app(keyed)) as client:
            pdf = make_pdf(tmp_path / "slow.pdf", pages=25).read_bytes()
            job_id = (await client.post("/upload", files={"file": ("slow.pdf", pdf)}, headers=ALPHA)).json()["job_id"]
            await wait_status(client, job_id, ALPHA, {"processing", *TERMINAL})

            for key in (ALPHA, BETA):  # a tenant's key, even the job owner's, is not an operator's
                listed = await client.get(queue_api, headers=key)
                assert listed.status_code == 403, listed.text
                assert listed.json()["code"] == "forbidden" and job_id not in listed.text
                assert (await client.get("/monitor/", headers=key)).status_code == 403
                assert (await client.get("/monitor/", params={"api_key": "key-beta"})).status_code == 403
                aborted = await client.post(f"{queue_api}/jobs/{job_id}/abort", headers=key)
                assert aborted.status_code == 403, aborted.text
            nobody = await client.get(queue_api)
            assert nobody.status_code == 401 and nobody.json()["code"] == "unauthorized"
            assert (await client.get(queue_api, headers={"X-API-Key": "admin-three"})).status_code == 401

            # An operator's key sees the job, presented either way.
            for admin in (ADMIN_BEARER, ADMIN_HEADER):
                listed = await client.get(queue_api, headers=admin)
                assert listed.status_code == 200 and job_id in listed.text

            done = await wait_status(client, job_id, ALPHA, TERMINAL, timeout=90)
            assert done["status"] == "completed" and done["attempts"] == 1  # the tenants' aborts did nothing

            retried = await client.post(f"{queue_api}/jobs/{job_id}/retry", headers=BETA)
            assert retried.status_code == 403, retried.text
            await asyncio.sleep(1)  # a retry that slipped through would have re-queued the job by now
            again = (await client.get(f"/jobs/{job_id}", headers=ALPHA)).json()
            assert again["status"] == "completed" and again["attempts"] == 1
    finally:
        worker.stop()


async def test_an_operator_opens_the_monitor_in_a_browser_once_with_the_key_in_the_url(keyed: Settings) -> None:
    """`/monitor?api_key=<admin key>` trades the key for an HttpOnly, SameSite=Strict cookie scoped to /monitor and
    sends the browser on to a URL without the key; the page's own API calls then carry the cookie."""
    async with AsyncTestClient(app=create_app(keyed)) as client:
        first = await client.get("/monitor", params={"api_key": "admin-one"}, follow_redirects=False)
        assert first.status_code == 308  # to /monitor/, keeping the query
        login = await client.get(first.headers["location"], follow_redirects=False)
        assert login.status_code == 303 and login.headers["location"] == "/monitor/"
        cookie = login.headers["set-cookie"]
        assert "admin-one" not in cookie
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "samesite=strict", "path=/monitor"} <= attributes, cookie

        page = await client.get("/monitor/")  # the client's cookie jar now holds the cookie
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert (await client.get(f"/monitor/api/queues/{keyed.queue_name}")).status_code == 200
        # Other query parameters survive the trip; only the key is dropped.
        deep = await client.get(
            "/monitor/queues/x", params={"api_key": "admin-two", "tab": "1"}, follow_redirects=False
        )
        assert deep.status_code == 303 and deep.headers["location"] == "/monitor/queues/x?tab=1"

        # A script calling the monitor's JSON API with the key in the URL gets its answer, not a redirect.
        client.cookies.clear()
        scripted = await client.get(f"/monitor/api/queues/{keyed.queue_name}", params={"api_key": "admin-one"})
        assert scripted.status_code == 200 and "set-cookie" not in scripted.headers

        # A forged or altered cookie opens nothing; neither does the cookie elsewhere than /monitor.
        client.cookies.clear()
        client.cookies.set("docparse_monitor", "9999999999.00", path="/monitor")
        assert (await client.get("/monitor/")).status_code == 401
        # A tenant's key in the URL gets no cookie.
        tenant = await client.get("/monitor/", params={"api_key": "key-alpha"}, follow_redirects=False)
        assert tenant.status_code == 403 and "set-cookie" not in tenant.headers


async def test_with_api_keys_and_no_admin_key_the_monitor_is_off(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_keys="key-alpha")
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            for headers in ({}, ALPHA):
                off = await client.get(f"/monitor/api/queues/{settings.queue_name}", headers=headers)
                assert off.status_code == 403 and off.json()["code"] == "forbidden"
                assert "DOCPARSE_ADMIN_KEYS" in off.json()["detail"]
            assert (await client.get("/jobs", headers=ALPHA)).status_code == 200  # the API itself is unchanged
    finally:
        purge_queue(settings)


async def test_with_keys_off_the_monitor_stays_open_unless_admin_keys_are_set(tmp_path: Path) -> None:
    open_settings = make_settings(tmp_path)
    admin_only = make_settings(tmp_path, admin_keys="admin-one")
    try:
        async with AsyncTestClient(app=create_app(open_settings)) as client:
            assert (await client.get("/monitor/")).status_code == 200
            assert (await client.get(f"/monitor/api/queues/{open_settings.queue_name}")).status_code == 200
        async with AsyncTestClient(app=create_app(admin_only)) as client:
            assert (await client.get("/jobs")).status_code == 200  # uploads stay open: API keys are off
            assert (await client.get("/monitor/")).status_code == 401
            assert (await client.get("/monitor/", headers=ADMIN_BEARER)).status_code == 200
    finally:
        purge_queue(open_settings)
        purge_queue(admin_only)
