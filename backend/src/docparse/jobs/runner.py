"""Runs parses in warm, killable child processes and turns their output into events, enforcing the page timeout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import structlog

from docparse.errors import Corrupt, DocparseError, JobTimeout, MemoryLimit, PageTimeout, error_for_code

log = structlog.get_logger(__name__)

CHILD_COMMAND = (sys.executable, "-m", "docparse.jobs.child")
MEMORY_ENV = "DOCPARSE_CHILD_MEMORY_MB"  # how the pool tells a parse process its memory ceiling
MEMORY_EXIT = 75  # a parse process that ran out of memory where it could not report it exits with this code
_LINE_LIMIT = 16 * 1024 * 1024  # an event line lists up to max_pages page numbers, twice
STOP_GRACE = 5.0  # seconds a stopped parse may take to finish its page
_decode = msgspec.json.Decoder(dict[str, Any]).decode  # every message is a JSON object
_encode = msgspec.json.Encoder().encode


# --- events the parse yields to the task ---


@dataclass(frozen=True)
class Opened:
    page_count: int
    numbers: list[int]
    """1-based numbers of every page the request selects, parsed before or not."""
    todo: list[int]
    """Those this parse will go through (not stored by an earlier run)."""
    info: bytes | None
    """DocumentInfo as JSON, when asked for."""


@dataclass(frozen=True)
class PageDone:
    number: int
    data: bytes
    """The page as JSON."""


@dataclass(frozen=True)
class PageFailed:
    number: int
    code: str
    message: str


@dataclass(frozen=True)
class Waiting:
    """Nothing happened for a while; the task uses it to send a heartbeat during a slow page."""


@dataclass(frozen=True)
class Stopped:
    """The parse used up its time budget; `numbers` (1-based) were not parsed."""

    numbers: list[int]


Event = Opened | PageDone | PageFailed | Waiting | Stopped


@dataclass
class ParseRequest:
    job_id: str
    path: str
    file_type: str
    size: int
    sha256: str
    max_pages: int
    options: dict[str, Any] = field(default_factory=dict)
    password: str | None = None
    indices: list[int] | None = None
    """0-based pages to parse; None: those the options select (checked against max_pages)."""
    skip: list[int] = field(default_factory=list)
    """1-based numbers already stored: not parsed again."""
    info: bool = False
    """Send the document's facts with "opened"."""
    budget: float | None = None
    """Seconds after which the parse stops at the end of a page (None: parse every page)."""

    def message(self, indices: Sequence[int] | None, budget: float | None) -> dict[str, Any]:
        if indices is None:
            return {**self.__dict__, "budget": budget}
        # a resume after a lost process: only the pages left, no facts again
        return {**self.__dict__, "indices": list(indices), "skip": [], "info": False, "budget": budget}


class ChildDied(Exception):
    """The child process ended or stopped answering."""

    def __init__(self, message: str, returncode: int | None = None) -> None:
        super().__init__(message)
        self.returncode = returncode

    @property
    def out_of_memory(self) -> bool:
        return self.returncode == MEMORY_EXIT


class ParseChild:
    """One warm parse process. Killed, not asked, when it must stop."""

    def __init__(self, command: Sequence[str] = CHILD_COMMAND, *, memory_mb: int = 0) -> None:
        self.command = command
        self.memory_mb = memory_mb  # address space it may use beyond what its import took (0: no ceiling)
        self.process: asyncio.subprocess.Process | None = None
        self.jobs_done = 0
        self.rss_mb = 0  # as the process last reported it
        self.spent = False  # it ran out of memory: replace it rather than trust its heap again
        self.last_event = 0.0  # monotonic time of the last request or answer: the page timer runs from it

    async def start(self) -> None:
        # If this is cancelled while the process is being created, asyncio kills the process itself.
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=_LINE_LIMIT,
            env={**os.environ, MEMORY_ENV: str(self.memory_mb)},
        )
        try:
            ready = await self.read(timeout=120)
            if ready.get("ev") != "ready":
                raise ChildDied(f"parse process said {ready!r} instead of ready")
        except BaseException:
            # Cancelled (a job cancelled the moment it started) or failed while the process imports: nobody
            # else holds it, so it goes now, or it would live on (~150 MB) until the worker exits.
            await self.kill()
            raise

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def send(self, message: dict[str, Any]) -> None:
        assert self.process and self.process.stdin
        self.process.stdin.write(_encode(message) + b"\n")
        await self.process.stdin.drain()
        self.last_event = time.monotonic()

    async def read(self, timeout: float) -> dict[str, Any]:
        assert self.process and self.process.stdout
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            code = await self.process.wait()
            raise ChildDied(f"parse process exited with {code}", code)
        self.last_event = time.monotonic()
        return _decode(line)

    async def read_data(self, size: int, timeout: float) -> bytes:
        """The `size` bytes that follow an event line (a result)."""
        assert self.process and self.process.stdout
        try:
            data = await asyncio.wait_for(self.process.stdout.readexactly(size), timeout)
        except asyncio.IncompleteReadError:
            code = await self.process.wait()
            raise ChildDied(f"parse process exited with {code}", code) from None
        self.last_event = time.monotonic()
        return data

    async def stop(self, grace: float) -> None:
        """Let the page under way finish (the child exits after it on SIGTERM); kill it after `grace` seconds."""
        if self.process and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                await self.kill()

    async def kill(self) -> None:
        if self.process and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()  # at once, before any await: a second cancel cannot keep it alive
            await self.process.wait()


class ChildPool:
    """Warm parse processes: PyMuPDF's import costs ~1 s, so a process serves many jobs. At most `size` run at
    once; `acquire` waits for one when all are busy. A process that goes (worn, dead, killed) is replaced in the
    background, so the pool keeps `size` processes warm and never more once they settle."""

    def __init__(
        self,
        size: int,
        max_jobs: int,
        command: Sequence[str] = CHILD_COMMAND,
        *,
        max_rss_mb: int = 0,
        memory_mb: int = 0,
    ) -> None:
        self.size = size
        self.max_jobs = max_jobs
        self.max_rss_mb = max_rss_mb  # 0: no limit
        self.memory_mb = memory_mb  # each process's memory ceiling above its import (0: none)
        self.command = command
        self._spares: set[asyncio.Task[None]] = set()
        self._idle: list[ParseChild] = []
        self._busy = 0  # processes handed out by acquire() and not yet released
        self._slots = asyncio.Semaphore(size)
        self._closed = False

    async def start(self) -> None:
        """Warm the pool. A process that fails to start (killed, out of memory) is not fatal: acquire() starts
        one when a job needs it."""
        self._top_up()
        await asyncio.gather(*self._spares, return_exceptions=True)

    async def acquire(self) -> ParseChild:
        await self._slots.acquire()
        try:
            child = await self._idle_or_new()
        except BaseException:
            self._slots.release()
            self._top_up()
            raise
        self._busy += 1
        return child

    async def _idle_or_new(self) -> ParseChild:
        while True:
            while self._idle:
                child = self._idle.pop()
                if child.alive:
                    return child
            if not self._spares:
                break
            # A replacement is on its way: waiting for it beats starting a second one beside it.
            await asyncio.wait(set(self._spares), return_when=asyncio.FIRST_COMPLETED)
        child = ParseChild(self.command, memory_mb=self.memory_mb)
        await child.start()  # kills its process itself if this is cancelled half-way
        return child

    async def release(self, child: ParseChild) -> None:
        """Give a child back; a dead, worn or surplus one is killed instead and replaced in the background, so
        the next job does not wait a second for PyMuPDF to load."""
        self._busy -= 1
        try:
            worn = (
                child.spent or child.jobs_done >= self.max_jobs or (self.max_rss_mb and child.rss_mb > self.max_rss_mb)
            )
            if child.alive and not worn and not self._closed and len(self._idle) < self.size:
                self._idle.append(child)
            else:
                await child.kill()
        finally:
            self._slots.release()
            self._top_up()

    def _top_up(self) -> None:
        """Start processes in the background until idle + busy + starting ones make `size`."""
        if self._closed:
            return
        for _ in range(self.size - len(self._idle) - self._busy - len(self._spares)):
            spare = asyncio.create_task(self._start_spare())
            self._spares.add(spare)
            spare.add_done_callback(self._spares.discard)

    async def _start_spare(self) -> None:
        child = ParseChild(self.command, memory_mb=self.memory_mb)
        try:
            await child.start()  # kills its process itself if it fails or is cancelled
        except Exception as exc:  # acquire() will start one itself
            log.warning("parse process did not start", error=str(exc) or type(exc).__name__)
            return
        if not self._closed and len(self._idle) + self._busy < self.size:
            self._idle.append(child)
        else:
            await child.kill()

    async def close(self) -> None:
        self._closed = True  # processes released from now on are killed, and none are started
        for spare in list(self._spares):
            spare.cancel()
        await asyncio.gather(*self._spares, return_exceptions=True)
        await asyncio.gather(*(c.kill() for c in self._idle))
        self._idle.clear()

    async def render(self, request: dict[str, Any], *, timeout: float) -> bytes:
        """Render one page picture (see child.render) and return the PNG; a render past `timeout` is killed with
        its process."""
        child = await self.acquire()
        try:
            await child.send({**request, "op": "render"})
            event = await child.read(timeout=timeout)
            child.spent = bool(event.get("spent"))
            data = await child.read_data(event["size"], timeout) if event.get("size") else b""
        except (TimeoutError, ChildDied) as exc:
            await child.kill()
            if isinstance(exc, ChildDied) and exc.out_of_memory:
                raise MemoryLimit(f"Rendering page {request['number']} {_NEEDED_MORE_MEMORY}") from None
            raise PageTimeout(f"Rendering page {request['number']} took longer than {timeout:g} s.") from None
        except BaseException:
            await child.kill()  # cancelled mid-render: its answer would reach the next caller instead
            raise
        finally:
            await self.release(child)
        if event["ev"] == "error":
            raise error_for_code(event["code"], event["message"])
        return data

    async def parse(
        self,
        request: ParseRequest,
        *,
        page_timeout: float,
        ocr_page_timeout: float | None = None,
        tick: float = 5.0,
    ) -> AsyncGenerator[Event, None]:
        """Parse `request`, yielding events. A page past `page_timeout` (`ocr_page_timeout` from the moment the
        process says the page is being read by OCR) is killed with its process and reported as failed; the parse
        resumes at the next page in a fresh process. Document-level failures raise DocparseError."""
        timeout = page_timeout  # of the page under way
        deadline = time.monotonic() + request.budget if request.budget is not None else None
        child = await self.acquire()
        held = True  # False only between letting a dead process go and acquiring its replacement
        remaining: list[int] | None = None  # 0-based indices still to parse, once known
        retried: set[int | None] = set()  # pages (None: the opening) already given a second process
        answered = False  # the process said "done" or "error": it is free for another request
        try:
            await child.send(request.message(None, request.budget))
            while True:
                try:
                    event = await self._next_event(child, timeout, tick)
                    size = (event.get("size") or event.get("info") or 0) if event else 0
                    data = await child.read_data(size, timeout) if size else b""
                except (TimeoutError, ChildDied) as exc:
                    if remaining is not None and not remaining:
                        return  # every page was reported; it died on its way out
                    current = remaining[0] if remaining else None  # None: while opening the document
                    if isinstance(exc, ChildDied) and not exc.out_of_memory and current not in retried:
                        # Killed from outside (the OOM killer, an operator) or crashed: one more try in a fresh
                        # process tells a poison page from bad luck.
                        retried.add(current)
                        log.warning("parse process died; trying again", job_id=request.job_id, index=current)
                    elif remaining is None:
                        raise _open_failure(exc, page_timeout) from None
                    else:
                        number = remaining.pop(0) + 1
                        yield _page_failure(number, exc, timeout)
                        log.warning("page failed", job_id=request.job_id, page=number, reason=type(exc).__name__)
                    await child.kill()
                    held = False  # if acquiring a fresh one fails, the dead one is not released twice
                    await self.release(child)
                    child = await self.acquire()
                    held = True
                    budget = None if deadline is None else max(0.0, deadline - time.monotonic())
                    await child.send(request.message(remaining, budget))
                    timeout = page_timeout
                    continue
                if event is None:
                    yield Waiting()
                    continue
                kind = event["ev"]
                timeout = page_timeout
                if kind == "ocr":  # the page turned out to need OCR, which takes seconds rather than milliseconds
                    timeout = ocr_page_timeout or page_timeout
                elif kind == "opened":
                    if remaining is None:
                        remaining = list(event["todo"])
                        yield Opened(
                            event["page_count"], [i + 1 for i in event["indices"]], [i + 1 for i in remaining],
                            data if "info" in event else None,
                        )  # fmt: skip
                        child.last_event = time.monotonic()
                elif kind in ("page", "page_error"):
                    if not remaining:  # pages come after "opened", one for each index it listed
                        raise RuntimeError(f"parse process reported a {kind} out of turn: {event!r}")
                    remaining.pop(0)
                    if kind == "page":
                        yield PageDone(event["number"], data)
                    else:
                        yield PageFailed(event["number"], event["code"], event["message"])
                    # The time the consumer spent on that page (storing it through a slow store) is not the next
                    # page's: the page timer starts when we listen again.
                    child.last_event = time.monotonic()
                elif kind in ("done", "error"):
                    answered = True
                    child.jobs_done += 1
                    child.rss_mb = event.get("rss_mb", 0)
                    child.spent = bool(event.get("spent"))
                    if kind == "error":
                        raise error_for_code(event["code"], event["message"])
                    if event.get("stopped") and remaining:
                        yield Stopped([i + 1 for i in remaining])
                    return
        finally:
            if held:
                # Shielded: a second cancel must not skip the release, or the pool's slot would be lost and the
                # next job would wait for a process forever.
                await asyncio.shield(
                    self._let_go(child, busy=not answered, mid_parse=bool(remaining),
                                 grace=min(page_timeout, STOP_GRACE))
                )  # fmt: skip

    async def _let_go(self, child: ParseChild, *, busy: bool, mid_parse: bool, grace: float) -> None:
        """Release `child`. One still busy with the request (cancelled or stopped before its answer) must not
        serve another: what it says next would be read as the next job's answer."""
        try:
            if busy and mid_parse:  # the page under way may finish, then the process goes
                await child.stop(grace)
            elif busy:  # still opening the document, or only its "done" is missing: nothing to wait for
                await child.kill()
        finally:
            await self.release(child)

    @staticmethod
    async def _next_event(child: ParseChild, page_timeout: float, tick: float) -> dict[str, Any] | None:
        """The child's next event, None after `tick` seconds of silence, TimeoutError past the page timeout."""
        deadline = child.last_event + page_timeout
        # Past the deadline, one short look still: the page may have ended while the consumer was busy elsewhere
        # (its answer waits in the pipe), and only a page still running is past its time.
        wait = max(min(tick, deadline - time.monotonic()), 0.01)
        try:
            event = await child.read(timeout=wait)
        except TimeoutError:
            if time.monotonic() >= deadline:
                raise
            return None
        return event


_NEEDED_MORE_MEMORY = "needed more memory than this server allows; the file may be a decompression bomb."


def _open_failure(exc: Exception, page_timeout: float) -> DocparseError:
    if isinstance(exc, TimeoutError):
        return JobTimeout(f"Opening the document took longer than {page_timeout:g} s; it was stopped.")
    if isinstance(exc, ChildDied) and exc.out_of_memory:
        return MemoryLimit(f"Opening the document {_NEEDED_MORE_MEMORY}")
    return Corrupt("The parser crashed while opening the file; it is probably damaged.")


def _page_failure(number: int, exc: Exception, page_timeout: float) -> PageFailed:
    if isinstance(exc, TimeoutError):
        return PageFailed(number, "page_timeout", f"Page {number} took longer than {page_timeout:g} s and was stopped.")
    if isinstance(exc, ChildDied) and exc.out_of_memory:
        return PageFailed(number, MemoryLimit.code, f"Page {number} {_NEEDED_MORE_MEMORY}")
    return PageFailed(number, "corrupt", f"The parser crashed on page {number}; the page is probably damaged.")
