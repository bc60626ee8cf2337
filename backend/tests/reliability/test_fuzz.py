"""The live API fuzzed by schemathesis from its own OpenAPI document: no server error, and every answer — status,
media type, body, headers — as the document says."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.stack import Stack, scaled

pytestmark = pytest.mark.reliability

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance," \
         "response_headers_conformance"  # fmt: skip


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    stack = Stack(tmp_path, workers=1)
    try:
        st = [sys.executable, "-m", "schemathesis.cli"] if not shutil.which("schemathesis") else ["schemathesis"]
        run = subprocess.run(
            [*st, "run", f"{stack.url}/schema/openapi.json", "--checks", CHECKS,
             "--max-examples", str(scaled(30, 200)), "--request-timeout", "30", "--seed", "1"],
            capture_output=True, text=True, cwd=tmp_path, timeout=900,
        )  # fmt: skip
        summary = run.stdout[run.stdout.rfind("SUMMARY") :]
        print(summary)
        assert run.returncode == 0, run.stdout[-8000:]
    finally:
        stack.close()
