"""A small, cheap HTTP/1.1 client on asyncio streams, and a pub/sub watcher of job completions.

The client runs on the same two cores as the service, so it is kept lean on purpose: requests are pre-built bytes
on keep-alive connections (an httpx request costs several times more CPU, which would be taken from the service
and counted against it). It speaks exactly what the service answers: Content-Length or chunked bodies.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis

BOUNDARY = "docparsebenchboundary7d3f"
# Every upload asks for a parse: the service answers a re-upload of a file it parsed with the same options with a
# copy of that result (`reuse`, true by default), and the bench uploads the same files again and again. A service
# older than that option ignores the field.
FORM_DEFAULTS = {"reuse": "false"}
KEEPALIVE_SAFE = 3.0  # seconds; uvicorn's keep-alive timeout is 5


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class HttpError(Exception):
    pass


class Conn:
    """One keep-alive connection; one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def connect(self) -> Conn:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.last_used = time.monotonic()
        return self

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
            self.writer = None

    async def send_raw(self, data: bytes) -> None:
        assert self.writer
        self.writer.write(data)
        await self.writer.drain()

    async def read_response(self) -> Response:
        assert self.reader
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = await self.reader.read()
        return Response(status, headers, body)

    async def request(self, raw: bytes) -> Response:
        # uvicorn closes keep-alive connections idle for 5 s: open a new one rather than write into a closing one
        if self.writer is None or time.monotonic() - self.last_used > KEEPALIVE_SAFE:
            await self.close()
            await self.connect()
        try:
            await self.send_raw(raw)
            resp = await self.read_response()
        except (asyncio.IncompleteReadError, ConnectionError):
            if not raw.startswith(b"GET "):
                raise
            await self.close()  # a GET is safe to send again on a fresh connection
            await self.connect()
            await self.send_raw(raw)
            resp = await self.read_response()
        self.last_used = time.monotonic()
        return resp


def get_request(path: str, host: str = "127.0.0.1") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\r\n".encode()


def post_request(path: str, host: str = "127.0.0.1") -> bytes:
    """A POST without a body (e.g. /jobs/{id}/cancel)."""
    return f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\nContent-Length: 0\r\n\r\n".encode()


def _multipart_parts(filename: str, content_type: str = "application/pdf") -> tuple[bytes, bytes]:
    prefix = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    suffix = f"\r\n--{BOUNDARY}--\r\n".encode()
    return prefix, suffix


def _field_parts(fields: dict[str, str]) -> bytes:
    return "".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()
    ).encode()


def upload_request(data: bytes, filename: str, host: str = "127.0.0.1", fields: dict[str, str] | None = None) -> bytes:
    """A whole POST /upload request for an in-memory file (built once, sent many times), with form `fields`
    (e.g. {"ocr": "never"}) before the file."""
    prefix, suffix = _multipart_parts(filename)
    head_fields = _field_parts({**FORM_DEFAULTS, **(fields or {})})
    body = head_fields + prefix + data + suffix
    head = (
        f"POST /upload HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


async def upload_file(conn: Conn, path: Path, chunk: int = 1 << 20) -> Response:
    """POST /upload streaming a file from disk (for the 1 GiB upload: never whole in this process's memory)."""
    size = path.stat().st_size  # noqa: ASYNC240
    prefix, suffix = _multipart_parts(path.name)
    prefix = _field_parts(FORM_DEFAULTS) + prefix
    head = (
        f"POST /upload HTTP/1.1\r\nHost: {conn.host}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(prefix) + size + len(suffix)}\r\n\r\n"
    ).encode()
    await conn.close()
    await conn.connect()
    await conn.send_raw(head + prefix)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            await conn.send_raw(block)
    await conn.send_raw(suffix)
    return await conn.read_response()


class Completions:
    """Watches SAQ's job channels (`saq:job:<queue>:*`) and timestamps the first terminal message of each job.

    SAQ publishes the job's status on every change; 'complete' is published by the worker when the job is done,
    which is the moment GET /jobs/{id} starts answering `completed`. Times are time.perf_counter() in this process.

    A long document is split into chunks (backend jobs/chunks.py): its first SAQ job (keyed by the job id) ends
    when it has handed the rest to chunk jobs (`<job id>:<attempt>:<unit>`), and the chunk that ends the job's
    last unit writes the job's ending before SAQ settles that chunk. So an end on any of a job's channels is
    timestamped when it arrives and counts once the job's own record (`docparse:<queue>:job:<id>`) says it has
    finished; one HGET per SAQ ending, none per page.

    What the watcher itself sends to Redis is counted (`own_reads`, `own_commands`), so that a figure counting the
    service's round trips can take it off: two connections without redis-py's CLIENT SETINFO handshake, opened in
    __aenter__ (a PSUBSCRIBE and a PING) and closed in __aexit__, and the HGETs.
    """

    # Not b"aborted": SAQ's sweep aborts a job it believes lost and then re-queues it (retries), so an abort is not
    # an end here (the benchmark never cancels jobs). A job that is aborted for good leaves wait() to its timeout.
    TERMINAL = {b"complete", b"failed"}
    RECORD_ENDS = {b"completed": "complete", b"failed": "failed", b"cancelled": "cancelled"}

    def __init__(self, redis_url: str, queue: str) -> None:
        self.redis_url = redis_url
        self.prefix = f"saq:job:{queue}:"
        self.record_prefix = f"docparse:{queue}:job:"
        self.done: dict[str, tuple[float, str]] = {}
        self.messages = 0
        self.requests = 0  # sent to Redis, each awaited before the next: one read event each for Redis
        self._waiters: dict[str, asyncio.Future] = {}

    async def __aenter__(self) -> Completions:
        # one connection for the HGETs (connected now by the PING, so there are always two) and the pub/sub one
        self.client = aioredis.Redis.from_url(self.redis_url, single_connection_client=True, driver_info=None)
        await self.client.ping()
        self.pubsub = self.client.pubsub()
        await self.pubsub.psubscribe(self.prefix + "*")
        self.requests = 2
        self._task = asyncio.create_task(self._listen())
        return self

    @property
    def own_commands(self) -> int:
        return self.requests

    @property
    def own_reads(self) -> int:
        """Read events Redis counts for this watcher: one per request, and one per connection for reading its
        close (once the watcher has exited)."""
        return self.requests + 2

    async def __aexit__(self, *exc: object) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        await self.pubsub.aclose()
        await self.client.aclose()

    async def _listen(self) -> None:
        while True:
            msg = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            if msg is None or msg["type"] != "pmessage":
                continue
            now = time.perf_counter()
            self.messages += 1
            data = msg["data"]
            if data in self.TERMINAL:
                job_id = msg["channel"].decode()[len(self.prefix) :].split(":", 1)[0]
                if job_id in self.done:
                    continue
                self.requests += 1
                status = await self.client.hget(self.record_prefix + job_id, "status")
                if status not in self.RECORD_ENDS:  # a split job's first run or a chunk ended, not the job
                    continue
                self.done[job_id] = (now, self.RECORD_ENDS[status])
                fut = self._waiters.pop(job_id, None)
                if fut is not None and not fut.done():
                    fut.set_result(self.done[job_id])

    async def wait(self, job_id: str, timeout: float = 600, strict: bool = True) -> tuple[float, str]:  # noqa: ASYNC109
        """(time, status) of the job's end; raises if it did not complete (unless not `strict`)."""
        if job_id not in self.done:
            fut = self._waiters.setdefault(job_id, asyncio.get_running_loop().create_future())
            await asyncio.wait_for(fut, timeout)
        t, status = self.done[job_id]
        if strict and status != "complete":
            raise HttpError(f"job {job_id} ended {status}")
        return t, status


async def upload_ok(conn: Conn, raw: bytes) -> str:
    resp = await conn.request(raw)
    if resp.status != 202:
        raise HttpError(f"upload answered {resp.status}: {resp.body[:300]!r}")
    return resp.json()["job_id"]
