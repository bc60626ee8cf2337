"""docparse benchmarks: `just bench` (default, < 10 min) or `just bench --quick` (< 2 min). See ../BENCHMARKS.md."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
