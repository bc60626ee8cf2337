"""Local-directory storage: `jobs/<id>/source`, `document.json` and `pages/<n>.json`, written atomically."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path


class LocalStorage:
    """Files of each job under `root/jobs/<job_id>/`. Writers replace files atomically, so readers never see halves."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.jobs_root = self.root / "jobs"

    def ensure(self) -> None:
        self.jobs_root.mkdir(parents=True, exist_ok=True)

    def job_dir(self, job_id: str) -> Path:
        # Job ids are UUIDs made by us; parsing them here keeps a crafted id from naming another path.
        return self.jobs_root / str(uuid.UUID(job_id))

    def source_path(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "source"

    def document_path(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "document.json"

    def pages_dir(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "pages"

    def page_path(self, job_id: str, number: int) -> Path:
        return self.pages_dir(job_id) / f"{number}.json"

    def image_path(self, job_id: str, number: int, width: int) -> Path:
        return self.job_dir(job_id) / "images" / f"{number}-{width}.png"

    def write_atomic(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def read(self, path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def page_numbers(self, job_id: str) -> list[int]:
        """Numbers of the pages stored so far, ascending."""
        try:
            names = os.listdir(self.pages_dir(job_id))
        except FileNotFoundError:
            return []
        return sorted(int(n[:-5]) for n in names if n.endswith(".json") and not n.startswith("."))

    def clear_results(self, job_id: str) -> None:
        """Remove earlier results (before a re-run), keeping the source."""
        shutil.rmtree(self.pages_dir(job_id), ignore_errors=True)
        shutil.rmtree(self.job_dir(job_id) / "images", ignore_errors=True)
        self.document_path(job_id).unlink(missing_ok=True)

    def delete_job(self, job_id: str) -> None:
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def job_ids(self) -> Iterator[str]:
        try:
            names = [p.name for p in self.jobs_root.iterdir() if p.is_dir()]
        except FileNotFoundError:
            return
        for name in names:
            try:
                yield str(uuid.UUID(name))
            except ValueError:
                continue  # not ours
