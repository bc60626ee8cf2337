"""Webhooks, idempotent uploads and reused results, against real Redis, real workers and a real HTTP receiver that
the test runs on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from standardwebhooks.webhooks import Webhook

from docparse.app import create_app
from docparse.jobs.webhooks import CallbackPolicy, retries_for
from docparse.settings import Settings
from tests.conftest import WorkerProcess, make_settings, purge_queue
from tests.documents import make_pdf

SECRET = "whsec_" + base64.b64encode(b"docparse-tests-webhook-secret-32").decode()
TERMINAL = {"completed", "failed", "cancelled"}


@dataclass
class Receiver:
    """An HTTP server that records every POST and answers with the next of `answers` (200 when they run out);
    an answer of 0 holds the request until `release` is set."""

    answers: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/docparse"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append({"headers": dict(self.headers.items()), "body": body.decode()})
                receiver.arrived.set()
                answer = receiver.answers.pop(0) if receiver.answers else 200
                if answer == 0:
                    receiver.release.wait(60)
                    answer = 200
                self.send_response(answer)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def wait_for(self, count: int, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} of {count} deliveries arrived"
            time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def hook_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "webhook_secret": SECRET,
        "webhook_allowed_hosts": "127.0.0.1",
        "webhook_first_retry": 0.5,
        "webhook_timeout": 2.0,
        "heartbeat": 3,
        "sweep_interval": 1,
    }
    return make_settings(tmp_path, **{**values, **overrides})


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    s = hook_settings(tmp_path)
    yield s
    purge_queue(s)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings)) as c:
        yield c


async def upload(api: AsyncTestClient, pdf: Path, headers: dict[str, str] | None = None, **data: str) -> Any:
    return await api.post("/upload", files={"file": (pdf.name, pdf.read_bytes())}, data=data, headers=headers or {})


async def until(api: AsyncTestClient, job_id: str, states: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (status := (await api.get(f"/jobs/{job_id}")).json())["status"] not in states:
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.05)
    return dict(status)


async def deliveries_when(api: AsyncTestClient, job_id: str, state: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = (await api.get(f"/jobs/{job_id}/deliveries")).json()
        if body["deliveries"] and body["deliveries"][-1]["state"] == state:
            return dict(body)
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


# --- webhooks ---


async def test_a_signed_delivery_that_verifies(
    api: AsyncTestClient, settings: Settings, receiver: Receiver, worker: WorkerProcess, tmp_path: Path
) -> None:
    response = await upload(api, make_pdf(tmp_path / "a.pdf", pages=2), callback_url=receiver.url)
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    done = await until(api, job_id, TERMINAL)
    await asyncio.to_thread(receiver.wait_for, 1)
    request = receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    payload = Webhook(SECRET).verify(request["body"], headers)  # raises if the signature does not verify
    assert payload["type"] == "job.completed"
    assert payload["data"]["job_id"] == job_id and payload["data"]["pages_done"] == 2
    assert payload["data"]["status"] == done["status"]
    assert headers["webhook-id"].startswith("msg_") and headers["user-agent"] == "docparse-webhooks"
    body = await deliveries_when(api, job_id, "delivered")
    assert body["callback_url"] == receiver.url
    [delivery] = body["deliveries"]
    assert delivery["event"] == "job.completed" and delivery["delivery_id"] == headers["webhook-id"]
    assert [a["status_code"] for a in delivery["attempts"]] == [200]


async def test_retries_after_500s_with_one_webhook_id(
    api: AsyncTestClient, receiver: Receiver, worker: WorkerProcess, tmp_path: Path
) -> None:
    receiver.answers = [500, 500]
    job_id = (await upload(api, make_pdf(tmp_path / "a.pdf"), callback_url=receiver.url)).json()["job_id"]
    await asyncio.to_thread(receiver.wait_for, 3)
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1, ids  # every try is recognisably the same delivery
    body = await deliveries_when(api, job_id, "delivered")
    attempts = body["deliveries"][0]["attempts"]
    assert [a["status_code"] for a in attempts] == [500, 500, 200]
    assert attempts[0]["next_try"] is not None and attempts[-1]["next_try"] is None
    assert len(receiver.requests) == 3


async def test_a_delivery_survives_its_worker_being_killed(
    api: AsyncTestClient, settings: Settings, receiver: Receiver, tmp_path: Path
) -> None:
    """The receiver holds the first try while its worker is killed (kill -9): after the heartbeat the delivery is
    made again by another worker, with the same webhook-id."""
    receiver.answers = [0]
    first = WorkerProcess(settings)
    first.wait_ready()
    try:
        job_id = (await upload(api, make_pdf(tmp_path / "a.pdf"), callback_url=receiver.url)).json()["job_id"]
        await asyncio.to_thread(receiver.arrived.wait, 60)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        receiver.release.set()
        second = WorkerProcess(settings)
        second.wait_ready()
        try:
            await asyncio.to_thread(receiver.wait_for, 2)
            assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1
            await deliveries_when(api, job_id, "delivered")
        finally:
            second.stop()
    finally:
        first.stop()


async def test_callbacks_to_private_addresses_are_refused(tmp_path: Path, receiver: Receiver) -> None:
    """Without the allow-list, a loopback callback is refused at upload (also by a name that resolves there), and
    a callback allowed at upload is checked again when it is delivered."""
    strict = make_settings(tmp_path, webhook_secret=SECRET)
    try:
        async with AsyncTestClient(app=create_app(strict)) as client:
            pdf = make_pdf(tmp_path / "a.pdf")
            for url in ("http://127.0.0.1:9/x", "http://localhost:9/x", "http://169.254.169.254/latest/meta-data",
                        "http://[::1]/x", "http://10.1.2.3/x", "ftp://example.org/x"):  # fmt: skip
                refused = await upload(client, pdf, callback_url=url)
                assert refused.status_code == 422, (url, refused.text)
                assert refused.json()["code"] == "callback_refused"
            assert (await client.get("/jobs")).json()["jobs"] == []  # nothing was accepted
    finally:
        purge_queue(strict)

    # The API allows 127.0.0.1, the worker does not: the delivery is refused when it is made, and not retried.
    for sub in ("b", "w"):
        (tmp_path / sub).mkdir()
    allowed = hook_settings(tmp_path / "b")
    worker = WorkerProcess(hook_settings(tmp_path / "w", queue_name=allowed.queue_name, webhook_allowed_hosts=""))
    worker.wait_ready()
    try:
        async with AsyncTestClient(app=create_app(allowed)) as client:
            response = await upload(client, make_pdf(tmp_path / "b.pdf"), callback_url=receiver.url)
            job_id = response.json()["job_id"]
            body = await deliveries_when(client, job_id, "failed")
            [attempt] = body["deliveries"][0]["attempts"]
            assert attempt["status_code"] is None and "loopback" in attempt["error"]
            assert receiver.requests == []
    finally:
        worker.stop()
        purge_queue(allowed)


async def test_the_address_policy() -> None:
    policy = CallbackPolicy("127.0.0.1, 10.20.0.0/16, hooks.internal")
    assert await policy.check("http://127.0.0.1:8000/x")
    assert await policy.check("https://10.20.3.4/x")
    for url in ("http://10.21.0.1/x", "http://[::ffff:192.168.1.1]/x", "http://0.0.0.0/x", "http://224.0.0.1/x",
                "http://user:pw@127.0.0.1/x", "javascript:alert(1)"):  # fmt: skip
        with pytest.raises(Exception, match=r"callback_url|resolves|must"):
            await policy.check(url)
    assert retries_for(24, 5.0) >= 25  # a day of tries, an hour apart at most


# --- idempotent uploads ---


async def test_one_idempotency_key_makes_one_job(api: AsyncTestClient, settings: Settings, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf")
    key = {"Idempotency-Key": "order-7731"}
    first = await upload(api, pdf, key, options="tables")
    again = await upload(api, pdf, key, options="tables")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = await upload(api, make_pdf(tmp_path / "b.pdf", pages=2), key, options="tables")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    changed = await upload(api, pdf, key, options="markdown")
    assert changed.status_code == 422
    # concurrent requests under a fresh key: one job
    concurrent = await asyncio.gather(*(upload(api, pdf, {"Idempotency-Key": "batch-2"}) for _ in range(5)))
    assert {r.status_code for r in concurrent} == {202}
    assert len({r.json()["job_id"] for r in concurrent}) == 1
    listed = (await api.get("/jobs")).json()["jobs"]
    assert len(listed) == 2


# --- reused results ---


async def test_a_reupload_reuses_the_result_and_deleting_either_keeps_the_other(
    api: AsyncTestClient, worker: WorkerProcess, tmp_path: Path
) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", pages=3)
    first_id = (await upload(api, pdf)).json()["job_id"]
    first = await until(api, first_id, TERMINAL)
    assert first["status"] == "completed"
    second = (await upload(api, pdf)).json()
    assert second["reused_from"] == first_id
    status = (await api.get(f"/jobs/{second['job_id']}")).json()
    assert status["status"] == "completed" and status["pages_done"] == 3
    assert status["reused_from"]["job_id"] == first_id and status["reused_from"]["parsed_at"]
    expected = (await api.get(f"/jobs/{first_id}/result", params={"format": "text"})).text
    assert (await api.delete(f"/jobs/{first_id}")).status_code == 204
    assert (await api.get(f"/jobs/{second['job_id']}/result", params={"format": "text"})).text == expected
    assert (await api.get(f"/jobs/{second['job_id']}/pages/2")).status_code == 200
    # opting out parses again; another page range is another result
    fresh = (await upload(api, pdf, reuse="false")).json()
    assert fresh["reused_from"] is None
    assert (await until(api, fresh["job_id"], TERMINAL))["status"] == "completed"
    third = (await upload(api, pdf)).json()
    assert third["reused_from"] in (second["job_id"], fresh["job_id"])
    assert (await api.delete(f"/jobs/{third['reused_from']}")).status_code == 204
    assert (await api.get(f"/jobs/{third['job_id']}/result", params={"format": "text"})).text == expected
    partial = (await upload(api, pdf, pages="1")).json()
    assert partial["reused_from"] is None
    json.dumps(partial)
