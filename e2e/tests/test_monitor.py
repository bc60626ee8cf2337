"""Scenario 8: the SAQ monitor, served by the API, shows the queue and its workers."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from conftest import Stack


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
