"""Scenario 8: the SAQ monitor, served by the API, shows the queue and its workers. The session's stack runs with
API keys off, where the monitor is open; a second API process with keys on shows how an operator opens it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from conftest import REPO, Stack, backend_python, free_port, start, stop

TENANT_KEY = "e2e-tenant-key"
OPERATOR_KEY = "e2e-operator-key"


@pytest.mark.parametrize("path", ["/monitor", "/monitor/"])
def test_monitor_shows_the_queue(page: Page, stack: Stack, path: str, shot) -> None:
    """The README points to `/monitor`; the monitor's own links use `/monitor/`: both must show the queues."""
    page.goto(path)
    expect(page.get_by_role("heading", name="Queues")).to_be_visible(timeout=5_000)
    table = page.get_by_role("table")
    expect(table.get_by_role("columnheader", name="Workers")).to_be_visible()
    row = table.get_by_role("row").filter(has=page.get_by_role("cell", name=stack.queue_name, exact=True))
    expect(row).to_have_count(1)
    workers = int(row.get_by_role("cell").last.inner_text())
    assert workers >= 1, f"the monitor shows {workers} workers on queue {stack.queue_name}"
    shot("monitor")

    # from the list to the queue's own page, which lists its jobs
    row.get_by_role("link", name=stack.queue_name).click()
    expect(page).to_have_url(f"{stack.base_url}/monitor/queues/{stack.queue_name}")
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)


@pytest.fixture(scope="module")
def keyed_api(stack: Stack) -> Iterator[str]:
    """A second API process on the stack's Redis and queue, with API keys and an operator key on."""
    backend = Path(os.environ.get("DOCPARSE_E2E_BACKEND_DIR", REPO / "backend")).resolve()
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("DOCPARSE_") and k not in ("REDIS_URL", "VIRTUAL_ENV")
    }
    env.update(
        REDIS_URL=stack.redis_url,
        DOCPARSE_HOST="127.0.0.1",
        DOCPARSE_PORT=str(port),
        DOCPARSE_STORAGE_DIR=str(stack.storage_dir),
        DOCPARSE_QUEUE_NAME=stack.queue_name,
        DOCPARSE_API_KEYS=TENANT_KEY,
        DOCPARSE_ADMIN_KEYS=OPERATOR_KEY,
        DOCPARSE_LOG_JSON="true",
        PYTHONUNBUFFERED="1",
    )
    process = start("api-keyed", [backend_python(backend), "-m", "docparse.cli", "api"], env=env, cwd=backend)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "the keyed API did not start"
            time.sleep(0.2)
        yield base_url
    finally:
        stop(process)


def test_an_operator_opens_the_monitor_with_the_key_once(browser: Browser, stack: Stack, keyed_api: str) -> None:
    """With keys on, `/monitor?api_key=<operator key>` once: the key leaves the address bar for an HttpOnly,
    SameSite=Strict cookie, and the monitor's own API calls work with it. A tenant's key opens nothing."""
    context = browser.new_context(base_url=keyed_api)
    try:
        page = context.new_page()
        assert page.goto("/monitor/").status == 401
        assert page.goto(f"/monitor?api_key={TENANT_KEY}").status == 403

        page.goto(f"/monitor?api_key={OPERATOR_KEY}")
        expect(page).to_have_url(f"{keyed_api}/monitor/")  # the key is out of the address bar and the history
        expect(page.get_by_role("heading", name="Queues")).to_be_visible(timeout=5_000)
        row = (
            page.get_by_role("table")
            .get_by_role("row")
            .filter(has=page.get_by_role("cell", name=stack.queue_name, exact=True))
        )
        expect(row).to_have_count(1)
        row.get_by_role("link", name=stack.queue_name).click()
        expect(page).to_have_url(f"{keyed_api}/monitor/queues/{stack.queue_name}")
        expect(page.get_by_text("Error", exact=True)).to_have_count(0)

        (cookie,) = context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/monitor", cookie
        assert OPERATOR_KEY not in cookie["value"]
        assert page.evaluate("document.cookie") == ""  # scripts cannot read it
        assert page.goto("/jobs").status == 401  # the operator's session is no API key
    finally:
        context.close()
