"""The shared test corpus, found through DOCPARSE_CORPUS_DIR (default: ../shared/corpus beside the repository)."""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = Path(os.environ.get("DOCPARSE_CORPUS_DIR", REPO_ROOT.parent / "shared" / "corpus"))
MANIFEST = CORPUS_DIR / "manifest.json"
MISSING_REASON = f"test corpus not found at {CORPUS_DIR} (set DOCPARSE_CORPUS_DIR to its folder)"


def load_manifest() -> list[dict]:
    """The manifest's entries, or [] when the corpus is absent (the tests then skip with MISSING_REASON)."""
    if not MANIFEST.is_file():
        return []
    return json.loads(MANIFEST.read_text(encoding="utf-8"))
