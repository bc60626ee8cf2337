"""Webhooks: when a job ends, its status is POSTed to the job's `callback_url`, signed per Standard Webhooks.

The ending and the delivery cannot part: the state transition that ends a job (records.py) pushes the job onto an
outbox list in the same Lua step, so a worker that dies right after still leaves the delivery to be made. Each
worker relays the outbox into SAQ jobs on a queue of their own (`<queue>-webhooks`, its own worker in the same
process, many at once), so a slow receiver never holds a parse slot. A delivery is keyed by job and attempt, so
relaying it twice queues it once, and every try carries the same `webhook-id`: at least once, recognisably so.
Network errors, timeouts, 408, 429 and 5xx are retried with exponential backoff and jitter (SAQ's) for
DOCPARSE_WEBHOOK_RETRY_HOURS; other answers end the delivery. Every try is recorded for GET /jobs/{id}/deliveries.

SSRF: a callback URL whose host resolves to a loopback, private, link-local (cloud metadata), multicast, reserved
or unspecified address is refused, at upload and again at delivery (DNS can change in between), unless
DOCPARSE_WEBHOOK_ALLOWED_HOSTS names the host or a network holding the address. The request then goes to the
address that was checked (the name is kept for Host and TLS), so a second lookup cannot swap it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import socket
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import msgspec
import structlog
from saq import Job, Worker
from saq.queue.redis import RedisQueue
from standardwebhooks.webhooks import Webhook

from docparse.errors import CallbackRefused, WebhookFailed
from docparse.jobs.records import RecordStore, reply
from docparse.jobs.status import build_status
from docparse.settings import Settings

log = structlog.get_logger(__name__)

DELIVER_FUNCTION = "deliver_webhook"
USER_AGENT = "docparse-webhooks"
MAX_RETRY_DELAY = 3600.0  # seconds between tries at most (they start at DOCPARSE_WEBHOOK_FIRST_RETRY, doubling)
_RETRY_STATUS = {408, 425, 429}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Attempt(msgspec.Struct, kw_only=True):
    """One try of one delivery, as GET /jobs/{id}/deliveries shows it."""

    delivery_id: str
    """The `webhook-id` header: the same on every try of one delivery."""
    event: str
    """E.g. "job.completed"."""
    attempt: int
    at: float
    status_code: int | None
    """The receiver's answer; None when there was none (network error, timeout, refused address)."""
    error: str | None
    next_try: float | None
    """When the next try is due (Unix time); None when this was the last."""


class Delivery(msgspec.Struct, kw_only=True):
    """One delivery (one ending of the job) and its tries."""

    delivery_id: str
    event: str
    state: str
    """"pending" (queued, or to be tried again at `next_try`), "delivered" or "failed" (given up)."""
    next_try: float | None
    attempts: list[Attempt]


class Deliveries(msgspec.Struct, kw_only=True):
    """GET /jobs/{id}/deliveries: where the job's endings are sent, and how each delivery went."""

    callback_url: str | None
    deliveries: list[Delivery]


def delivery_id_of(job_id: str, attempt: int) -> str:
    """The `webhook-id` of the delivery of a job's ending in its `attempt`-th run."""
    return f"msg_{job_id.replace('-', '')}_{attempt}"


def summarise(callback_url: str, raw: list[bytes], due: tuple[str, str] | None) -> Deliveries:
    """The deliveries from their recorded tries (oldest first). `due` is (delivery id, event) of the job's latest
    ending, shown as pending until its first try is recorded."""
    by_id: dict[str, list[Attempt]] = {}
    for entry in raw:
        attempt = msgspec.json.decode(entry, type=Attempt)
        by_id.setdefault(attempt.delivery_id, []).append(attempt)
    out = []
    for delivery_id, attempts in by_id.items():
        last = attempts[-1]
        state = "delivered" if last.error is None else ("pending" if last.next_try else "failed")
        out.append(Delivery(delivery_id=delivery_id, event=last.event, state=state, next_try=last.next_try,
                            attempts=attempts))  # fmt: skip
    if due is not None and due[0] not in by_id:
        out.append(Delivery(delivery_id=due[0], event=due[1], state="pending", next_try=None, attempts=[]))
    return Deliveries(callback_url=callback_url or None, deliveries=out)


# --- the callback address policy ---


class CallbackPolicy:
    """Which callback URLs may be called: public addresses, or what DOCPARSE_WEBHOOK_ALLOWED_HOSTS names."""

    def __init__(self, allowed: str) -> None:
        self.hosts: set[str] = set()
        self.networks: list[Network] = []
        for item in (part.strip() for part in allowed.split(",")):
            if not item:
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.hosts.add(item.lower().rstrip("."))

    async def check(self, url: str) -> list[Address]:
        """The addresses `url` may be called at; CallbackRefused with the reason otherwise."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CallbackRefused("callback_url must be an http or https URL with a host.")
        if parts.username or parts.password:
            raise CallbackRefused("callback_url must not carry a user name or password.")
        host = parts.hostname.lower().rstrip(".")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise CallbackRefused("callback_url has an invalid port.") from None
        addresses = await _resolve(host, port)
        if not addresses:
            raise CallbackRefused(f"The callback host {host} does not resolve.")
        if host in self.hosts:
            return addresses
        for address in addresses:
            if not self._allowed(address):
                raise CallbackRefused(
                    f"The callback host {host} resolves to {address}, a {_kind(address)} address; set "
                    "DOCPARSE_WEBHOOK_ALLOWED_HOSTS to allow it."
                )
        return addresses

    def _allowed(self, address: Address) -> bool:
        return _public(address) or any(address in network for network in self.networks)


def _public(address: Address) -> bool:
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    if mapped is not None:
        return _public(mapped)
    return address.is_global and not address.is_multicast


def _kind(address: Address) -> str:
    for name in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{name}"):
            return name.replace("_", "-")
    return "non-public"


async def _resolve(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    seen: dict[str, Address] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone id is not part of the address
        seen.setdefault(text, ipaddress.ip_address(text))
    return list(seen.values())


# --- the outbox and the deliveries' queue ---


def webhook_queue_name(settings: Settings) -> str:
    return f"{settings.queue_name}-webhooks"


def retries_for(hours: float, first: float) -> int:
    """Tries that fit in `hours` with delays from `first` doubling up to MAX_RETRY_DELAY (jitter aside)."""
    budget, delay, tries = hours * 3600, first, 1
    while budget >= delay:
        budget -= delay
        delay = min(delay * 2, MAX_RETRY_DELAY)
        tries += 1
    return tries


def delivery_job(job_id: str, attempt: int, settings: Settings) -> Job:
    """The SAQ job of one delivery: one per job and ending (a retried job that ends again is a new delivery)."""
    return Job(
        function=DELIVER_FUNCTION,
        kwargs={"job_id": job_id, "attempt": attempt},
        key=f"{job_id}:{attempt}",
        timeout=int(settings.webhook_timeout) + 30,
        # a try sends no heartbeat while it waits for the receiver: the sweep must wait longer than that
        heartbeat=int(settings.webhook_timeout) + settings.heartbeat,
        retries=retries_for(settings.webhook_retry_hours, settings.webhook_first_retry),
        retry_delay=settings.webhook_first_retry,
        retry_backoff=MAX_RETRY_DELAY,
        ttl=int(settings.webhook_retry_hours * 3600) + 3600,  # outlives its tries: relaying it again is a no-op
    )


async def relay_outbox(redis: Any, records: RecordStore, queue: RedisQueue, settings: Settings) -> int:
    """Queue a delivery for every job ending in the outbox; an entry leaves the outbox only once its delivery is
    queued (a relay that dies half-way leaves it for the next, and queueing it twice is a no-op)."""
    entries: list[bytes] = await reply(redis.lrange(records.outbox_key, 0, 99))
    for entry in entries:
        job_id, _, attempt = entry.decode().rpartition(":")
        await queue.enqueue(delivery_job(job_id, int(attempt or 0), settings))
        await reply(redis.lrem(records.outbox_key, 1, entry))
    return len(entries)


async def relay_forever(redis: Any, settings: Settings, queue: RedisQueue, interval: float = 0.5) -> None:
    """The outbox relay of one worker process: every `interval` seconds (Redis trouble is logged, then retried)."""
    records = RecordStore(redis, settings.queue_name)
    while True:
        try:
            await relay_outbox(redis, records, queue, settings)
        except Exception:
            log.warning("webhook relay failed; trying again", exc_info=True)
        await asyncio.sleep(interval)


class WebhookWorker(Worker[Any]):
    """The deliveries' SAQ worker, run beside a parse worker in the same process. It leaves the signals to the
    parse worker, which stops it when it stops."""

    SIGNALS: list[Any] = []
    redis_queue: RedisQueue


def build_webhook_worker(settings: Settings, redis: Any) -> WebhookWorker:
    """The deliveries' worker, sharing `redis` with the parse worker."""
    from docparse.jobs.queue import create_queue

    queue = create_queue(settings, redis, name=webhook_queue_name(settings))
    records = RecordStore(redis, settings.queue_name)
    sender = Sender(settings, records)

    async def shutdown(_ctx: dict[str, Any]) -> None:
        await sender.close()

    async def deliver(ctx: dict[str, Any], *, job_id: str, attempt: int) -> str:
        return await sender.deliver(ctx["job"], job_id, attempt)

    worker = WebhookWorker(
        queue,
        functions=[(DELIVER_FUNCTION, deliver)],
        concurrency=settings.webhook_concurrency,
        shutdown=shutdown,
        timers={"sweep": settings.sweep_interval, "worker_info": 10, "schedule": 1, "abort": 1},
    )
    worker.redis_queue = queue
    return worker


# --- sending ---


class Sender:
    """Makes the deliveries: one HTTP client per worker process, the signing key, the address policy."""

    def __init__(self, settings: Settings, records: RecordStore) -> None:
        self.settings = settings
        self.records = records
        self.policy = CallbackPolicy(settings.webhook_allowed_hosts)
        self.signer = Webhook(settings.webhook_secret) if settings.webhook_secret else None
        self.http = httpx.AsyncClient(
            timeout=settings.webhook_timeout, follow_redirects=False, headers={"user-agent": USER_AGENT}
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def deliver(self, job: Job, job_id: str, attempt: int) -> str:
        """One try. Raises to have SAQ try again later; returns how it ended otherwise."""
        record = await self.records.get(job_id)
        if record is None or not record.callback_url:
            return "the job is gone"
        status = build_status(
            record, None, queue_position=None, ttl=self.settings.result_ttl, heartbeat=self.settings.heartbeat
        )
        event = f"job.{status.status.value}"
        delivery_id = delivery_id_of(job_id, attempt)
        now = datetime.now(UTC)
        body = msgspec.json.encode(
            {"type": event, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": status}
        ).decode()
        code, error = await self._post(record.callback_url, delivery_id, now, body)
        last_try = job.attempts >= job.retries
        retry = error is not None and (code is None or code >= 500 or code in _RETRY_STATUS) and not last_try
        if code is None and error and error.startswith("refused"):
            retry = False  # the address is not allowed: trying again changes nothing
        next_try = time.time() + job.next_retry_delay() if retry else None
        entry = Attempt(
            delivery_id=delivery_id, event=event, attempt=job.attempts, at=time.time(), status_code=code,
            error=error, next_try=next_try,
        )  # fmt: skip
        await self.records.add_delivery(job_id, msgspec.json.encode(entry))
        log.info("webhook", job_id=job_id, status_code=code, error=error, try_=job.attempts, retry=retry)
        if retry:
            raise WebhookFailed(f"Webhook try {job.attempts} for job {job_id} failed ({error}); trying again later.")
        return "delivered" if error is None else f"given up: {error}"

    async def _post(self, url: str, delivery_id: str, now: datetime, body: str) -> tuple[int | None, str | None]:
        if self.signer is None:
            return None, "refused: DOCPARSE_WEBHOOK_SECRET is not set, so deliveries cannot be signed"
        try:
            addresses = await self.policy.check(url)
        except CallbackRefused as exc:
            return None, f"refused: {exc.message}"
        parts = urlsplit(url)
        host = parts.hostname or ""
        pinned = _with_address(url, addresses[0])
        headers = {
            "content-type": "application/json",
            "host": parts.netloc.rsplit("@", 1)[-1],
            "webhook-id": delivery_id,
            "webhook-timestamp": str(math.floor(now.timestamp())),
            "webhook-signature": self.signer.sign(delivery_id, now, body),
        }
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        try:
            response = await self.http.post(pinned, content=body, headers=headers, extensions=extensions)
        except httpx.TimeoutException:
            return None, f"no answer within {self.settings.webhook_timeout:g} s"
        except httpx.HTTPError as exc:
            return None, f"could not connect: {exc}" if str(exc) else f"could not connect: {type(exc).__name__}"
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"the receiver answered {response.status_code}"


def _with_address(url: str, address: Address) -> str:
    """`url` with its host replaced by the checked address (the Host header and TLS keep the name)."""
    parts = urlsplit(url)
    host = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def parse_default_urls(raw: str) -> dict[str, str]:
    """DOCPARSE_WEBHOOK_KEY_URLS: "<api key>=<url>,..." -> {api key: url}."""
    out: dict[str, str] = {}
    for item in (part.strip() for part in raw.split(",")):
        key, sep, url = item.partition("=")
        if sep and key.strip() and url.strip():
            out[key.strip()] = url.strip()
    return out
