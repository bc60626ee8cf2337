"""Print the API's OpenAPI document without a running server: `python -m docparse.api.openapi_dump > openapi.json`."""

from __future__ import annotations

import json
import sys
from typing import Any

from docparse.app import create_app
from docparse.settings import Settings


def openapi_document() -> dict[str, Any]:
    """The document Litestar serves at /schema/openapi.json. create_app only connects to Redis in its lifespan,
    which never runs here, so no Redis is needed."""
    return create_app(Settings()).openapi_schema.to_schema()


def main() -> None:
    # Indented and newline-terminated, so the checked-in copy diffs line by line.
    sys.stdout.write(json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
