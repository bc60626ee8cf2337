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
    assert {"redis", "s3", "s3-init", "api", "worker", "frontend"} <= services.keys()
    assert "--appendonly" in services["redis"]["command"] and "yes" in services["redis"]["command"]
    assert any(v.startswith("redis_data:") for v in services["redis"]["volumes"])
    assert any(v.startswith("s3_data:") for v in services["s3"]["volumes"])
    assert "-s3" in services["s3"]["command"] and "healthcheck" in services["s3"]
    assert services["s3-init"]["depends_on"]["s3"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        service = services[name]
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["depends_on"]["s3-init"]["condition"] == "service_completed_successfully"
        assert "healthcheck" in service
        # S3 mode: jobs' files go through the bucket, as between machines; api and workers share no volume
        assert "volumes" not in service
        env = service["environment"]
        assert env["DOCPARSE_STORAGE_URL"].startswith("s3://")
        assert env["AWS_ENDPOINT_URL"] == "http://s3:8333" and env["AWS_ALLOW_HTTP"] == "true"
        assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "REDIS_URL"} <= env.keys()
    # A scalable worker publishes no port and has no fixed container name.
    assert "ports" not in services["worker"] and "container_name" not in services["worker"]
    assert {"redis_data", "s3_data"} <= compose["volumes"].keys()


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
