"""Page pictures for the API: a few warm render processes, one render per picture however many ask for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import structlog

from docparse.jobs.runner import CHILD_COMMAND, ChildPool

log = structlog.get_logger(__name__)


class RenderPool:
    """Renders page pictures in `size` processes, so one slow picture does not hold up everyone else's, each
    stopped after `timeout` seconds. Requests for a picture already being rendered wait for that render."""

    def __init__(
        self, size: int, *, timeout: float, max_jobs: int, memory_mb: int = 0, command: Sequence[str] = CHILD_COMMAND
    ) -> None:
        self.timeout = timeout
        self._children = ChildPool(size, max_jobs, command, memory_mb=memory_mb)
        self._warming: asyncio.Task[None] | None = None
        self._renders: dict[str, asyncio.Task[bytes]] = {}  # by picture (`key`): the renders under way

    async def render(self, request: dict[str, Any]) -> bytes:
        """The PNG `request` asks for (see child.render), or the one of the same `key` already being rendered."""
        out = request["key"]
        task = self._renders.get(out)
        if task is None:
            task = asyncio.create_task(self._render(request))
            self._renders[out] = task
            task.add_done_callback(lambda done: self._finished(out, done))
        # Shielded: a client that goes away must not stop the render others wait for (and it stays cached).
        return await asyncio.shield(task)

    async def _render(self, request: dict[str, Any]) -> bytes:
        if self._warming is None:  # the first picture starts every process at once (~1 s of PyMuPDF import)
            self._warming = asyncio.create_task(self._children.start())
        await asyncio.shield(self._warming)
        started = time.perf_counter()
        data = await self._children.render(request, timeout=self.timeout)
        log.info(
            "page picture rendered",
            page=request["number"],
            width=request["width"],
            seconds=round(time.perf_counter() - started, 3),
        )
        return data

    def _finished(self, out: str, task: asyncio.Task[bytes]) -> None:
        self._renders.pop(out, None)
        if not task.cancelled():
            task.exception()  # retrieved here too: every waiter may have gone

    async def close(self) -> None:
        for task in list(self._renders.values()):
            task.cancel()
        await asyncio.gather(*self._renders.values(), return_exceptions=True)
        if self._warming is not None:
            await asyncio.gather(self._warming, return_exceptions=True)
        await self._children.close()
