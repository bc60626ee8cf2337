"""Optional API keys. Off unless DOCPARSE_API_KEYS is set; then every job belongs to the key that created it."""

from __future__ import annotations

import hashlib
import hmac

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from docparse.errors import Unauthorized

PUBLIC = ""  # the owner of every job when authentication is off


def owner_of(key: str) -> str:
    """A stable, non-reversible id for a key: jobs record this, never the key itself."""
    return hashlib.sha256(key.encode()).hexdigest()[:24]


class ApiKeys:
    def __init__(self, keys: list[str]) -> None:
        self._keys = [k.encode() for k in keys]

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def owner(self, presented: str | None) -> str | None:
        """The owner id of a valid key, else None. Compares with every key in constant time, without an
        early exit, so timing tells nothing about which keys exist."""
        if not presented:
            return None
        candidate = presented.encode()
        match = None
        for key in self._keys:
            if hmac.compare_digest(candidate, key):
                match = key
        return owner_of(match.decode()) if match is not None else None


def presented_key(connection: ASGIConnection) -> str | None:
    """`Authorization: Bearer <key>`, `X-API-Key: <key>`, or `?api_key=` (EventSource cannot send headers)."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return connection.headers.get("x-api-key") or connection.query_params.get("api_key")


async def require_key(connection: ASGIConnection, _: BaseRouteHandler) -> None:
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
