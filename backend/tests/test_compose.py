"""docker-compose.dev.yml, checked without a Docker engine: against the Compose schema (when the schema is
available) and for every build context, Dockerfile and command it names."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.corpus import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.dev.yml"
SCHEMA = Path(os.environ.get("DOCPARSE_COMPOSE_SCHEMA", REPO_ROOT.parent / "shared/schemas/compose-spec.json"))


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_matches_the_compose_specification(compose: dict) -> None:
    if not SCHEMA.is_file():
        pytest.skip(f"Compose schema not found at {SCHEMA} (set DOCPARSE_COMPOSE_SCHEMA)")
    jsonschema.validate(compose, json.loads(SCHEMA.read_text()))


def test_services_and_volumes(compose: dict) -> None:
    services = compose["services"]
    assert {"redis", "api", "worker", "frontend"} <= services.keys()
    assert "--appendonly" in services["redis"]["command"] and "yes" in services["redis"]["command"]
    assert any(v.startswith("redis_data:") for v in services["redis"]["volumes"])
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
        assert any(v.startswith("storage:") for v in services[name]["volumes"])
        assert "healthcheck" in services[name]
    # A scalable worker publishes no port and has no fixed container name.
    assert "ports" not in services["worker"] and "container_name" not in services["worker"]
    assert {"redis_data", "storage"} <= compose["volumes"].keys()


def test_builds_and_commands_exist(compose: dict) -> None:
    scripts = tomllib.loads((REPO_ROOT / "backend/pyproject.toml").read_text())["project"]["scripts"]
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            context = REPO_ROOT / build["context"]
            assert context.is_dir(), f"{name}: no build context {context}"
            assert (context / build.get("dockerfile", "Dockerfile")).is_file(), f"{name}: no Dockerfile"
        command = service.get("command")
        if name in ("api", "worker"):
            assert command[0] in scripts and command[1] in ("api", "worker"), command
    frontend = json.loads((REPO_ROOT / "frontend/package.json").read_text())
    assert "dev" in frontend["scripts"]
