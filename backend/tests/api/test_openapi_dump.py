"""The OpenAPI document the front end's client is generated from: written without Redis, every route named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from litestar.handlers import HTTPRouteHandler

from docparse.app import create_app
from tests.conftest import make_settings


def test_dump_needs_no_redis_and_names_every_operation(tmp_path: Path) -> None:
    # A port nothing listens on: the dump must not try to connect.
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0", "DOCPARSE_STORAGE_DIR": str(tmp_path / "storage")}
    out = subprocess.run(
        [sys.executable, "-m", "docparse.api.openapi_dump"], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    operations = [op for path in document["paths"].values() for op in path.values()]
    ids = [op.get("operationId") for op in operations]
    assert None not in ids and len(set(ids)) == len(ids), ids
    assert {"uploadDocument", "getJob", "getJobResult", "getJobEvents", "getConfig"} <= set(ids)
    assert not (tmp_path / "storage").exists()  # nothing written either


def test_every_route_has_an_explicit_operation_id(tmp_path: Path) -> None:
    """Also those left out of the schema (/metrics): the generated client's names must not follow Python's."""
    app = create_app(make_settings(tmp_path))
    ours = [
        (route.path, handler)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if isinstance(handler, HTTPRouteHandler) and handler.fn.__module__.startswith("docparse.")
    ]
    assert len(ours) >= 15
    missing = [(path, handler.handler_name) for path, handler in ours if not handler.operation_id]
    assert missing == []
