"""Optional API keys. Off unless DOCPARSE_API_KEYS is set; then every job belongs to the key that created it.
Operator keys (DOCPARSE_ADMIN_KEYS) are another set: they open the SAQ monitor, which sees every tenant's jobs."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

from docparse.errors import Forbidden, Unauthorized
from docparse.messages import Msg

PUBLIC = ""  # the owner of every job when authentication is off

MONITOR_PATH = "/monitor"
MONITOR_COOKIE = "docparse_monitor"
MONITOR_SESSION_SECONDS = 12 * 3600
MONITOR_OFF = Msg("monitor.off")
MONITOR_NOT_FOR_TENANTS = Msg("monitor.not_for_tenants")
MONITOR_NEEDS_KEY = Msg("monitor.needs_key")


def owner_of(key: str) -> str:
    """A stable, non-reversible id for a key: jobs record this, never the key itself."""
    return hashlib.sha256(key.encode()).hexdigest()[:24]


class ApiKeys:
    def __init__(self, keys: list[str]) -> None:
        self._keys = [k.encode() for k in keys]

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def _match(self, presented: str | None) -> bytes | None:
        """Compares with every key in constant time, without an early exit, so timing tells nothing about which
        keys exist."""
        if not presented:
            return None
        candidate = presented.encode()
        match = None
        for key in self._keys:
            if hmac.compare_digest(candidate, key):
                match = key
        return match

    def owner(self, presented: str | None) -> str | None:
        """The owner id of a valid key, else None."""
        match = self._match(presented)
        return owner_of(match.decode()) if match is not None else None


class OperatorKeys(ApiKeys):
    """Keys that open the monitor. A browser trades one for a session cookie that holds an expiry and a MAC of it
    made with the key, never the key itself: removing a key from the settings ends its sessions."""

    def valid(self, presented: str | None) -> bool:
        return self._match(presented) is not None

    @staticmethod
    def _mac(key: bytes, expires: int) -> str:
        return hmac.new(key, f"docparse-monitor:{expires}".encode(), hashlib.sha256).hexdigest()

    def session(self, key: str, now: float | None = None) -> str:
        expires = int(now or time.time()) + MONITOR_SESSION_SECONDS
        return f"{expires}.{self._mac(key.encode(), expires)}"

    def valid_session(self, token: str | None, now: float | None = None) -> bool:
        expires, _, mac = (token or "").partition(".")
        if not expires.isdigit() or int(expires) < (now or time.time()):
            return False
        found = False
        for key in self._keys:  # no early exit, as in _match
            found |= hmac.compare_digest(mac.encode(), self._mac(key, int(expires)).encode())
        return found


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """`Authorization: Bearer <key>`, `X-API-Key: <key>`, or `?api_key=` (EventSource cannot send headers)."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return connection.headers.get("x-api-key") or connection.query_params.get("api_key")


async def require_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: sets `connection.state.owner`, or refuses with 401 when keys are on and none matches. (Async:
    Litestar would run a plain function in a worker thread, on every request.)"""
    keys: ApiKeys = connection.app.state.api_keys
    if not keys.enabled:
        connection.state.owner = PUBLIC
        return
    owner = keys.owner(presented_key(connection))
    if owner is None:
        raise Unauthorized()
    connection.state.owner = owner


async def require_operator(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of the monitor, which lists every tenant's jobs and can abort or retry them: it needs an operator key
    (or the session cookie one bought). With no keys of either kind (local use) it stays open; with API keys but
    no operator key it is off."""
    operators: OperatorKeys = connection.app.state.admin_keys
    tenants: ApiKeys = connection.app.state.api_keys
    if not operators.enabled:
        if tenants.enabled:
            raise Forbidden(MONITOR_OFF)
        return
    presented = presented_key(connection)
    if operators.valid(presented) or operators.valid_session(connection.cookies.get(MONITOR_COOKIE)):
        return
    if tenants.owner(presented) is not None:
        raise Forbidden(MONITOR_NOT_FOR_TENANTS)
    raise Unauthorized(MONITOR_NEEDS_KEY)


def monitor_login(app: ASGIApp, operators: OperatorKeys) -> ASGIApp:
    """A browser cannot send headers when it opens a page, so an operator opens `/monitor?api_key=<key>` once: a
    valid operator key is traded for an HttpOnly, SameSite=Strict cookie scoped to the monitor, and the browser is
    sent on to the same URL without the key, so that the key leaves the address bar and the history. The
    monitor's JSON API is left to the guard, like anything else: a script sends its key with every call."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        path = request_path(scope) if scope["type"] == ScopeType.HTTP and scope["method"] == "GET" else ""
        if _monitor_page(path):
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            key = next((value for name, value in query if name == "api_key"), None)
            if operators.valid(key):
                rest = urlencode([(name, value) for name, value in query if name != "api_key"])
                cookie = Cookie(
                    key=MONITOR_COOKIE,
                    value=operators.session(key or ""),
                    path=MONITOR_PATH,
                    max_age=MONITOR_SESSION_SECONDS,
                    httponly=True,
                    samesite="strict",
                    secure=scope.get("scheme") == "https",
                )
                location = path + (f"?{rest}" if rest else "")
                headers = [
                    (b"location", location.encode("latin-1")),
                    (b"cache-control", b"no-store"),
                    cookie.to_encoded_header(),
                ]
                await _redirect(send, 303, headers)
                return
        await app(scope, receive, send)

    return middleware


def monitor_slash(app: ASGIApp) -> ASGIApp:
    """SAQ's monitor page routes itself by its URL and only knows `/monitor/`: send `/monitor` there."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and request_path(scope) == MONITOR_PATH:
            query = scope.get("query_string", b"")
            location = MONITOR_PATH.encode() + b"/" + (b"?" + query if query else b"")
            await _redirect(send, 308, [(b"location", location)])
            return
        await app(scope, receive, send)

    return middleware


async def _redirect(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status, "headers": headers}
    body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}
    await send(start)
    await send(body)


def request_path(scope: Scope) -> str:
    """The path as sent: Litestar's `path` has lost its trailing slash, and its test client leaves the query
    string in `raw_path`."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    return raw.partition(b"?")[0].decode("latin-1")


def _monitor_page(path: str) -> bool:
    return path == MONITOR_PATH or (path.startswith(MONITOR_PATH + "/") and not path.startswith(MONITOR_PATH + "/api/"))
