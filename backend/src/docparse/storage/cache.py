"""The bounded local cache of S3 sources: PyMuPDF opens files, so a machine keeps copies of the sources it parses."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

# --- the cache of S3 sources ---

# Fills a temporary file with a source, calling `reserve(size)` once the size is known and before writing.
Download = Callable[[Path, Callable[[int], Awaitable[None]]], Awaitable[None]]


class SourceCache:
    """Local copies of sources, shared by the processes of one machine, kept under a size bound.

    A copy is downloaded to a temporary name and renamed into place, so nobody sees half a file; within a process one
    download per key runs at a time and other callers wait for it. A file's modification time marks its last use;
    beyond the bound the least recently used files go, never one used in the last `grace` seconds.
    """

    def __init__(self, root: Path, namespace: str, max_bytes: int, *, grace: float = 60.0) -> None:
        self.root = root
        self.directory = root / namespace
        self.max_bytes = max_bytes
        self.grace = grace
        self._downloads: dict[str, asyncio.Task[Path]] = {}
        self.downloads = 0  # downloads this process started (hits and shared waits don't count)

    def path(self, name: str) -> Path:
        return self.directory / name

    async def fetch(self, name: str, download: Download) -> Path:
        path = self.path(name)
        try:
            await asyncio.to_thread(os.utime, path)  # a hit: mark it used
            return path
        except FileNotFoundError:
            pass
        task = self._downloads.get(name)
        if task is None:
            task = asyncio.create_task(self._download(path, download))
            self._downloads[name] = task
            task.add_done_callback(lambda _: self._downloads.pop(name, None))
        # Shielded: a caller that gives up does not cancel the download others wait for.
        return await asyncio.shield(task)

    async def _download(self, path: Path, download: Download) -> Path:
        if await asyncio.to_thread(path.is_file):  # another process finished it meanwhile
            await asyncio.to_thread(os.utime, path)
            return path
        await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True)

        async def reserve(size: int) -> None:
            await asyncio.to_thread(self.evict, size)

        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")
        self.downloads += 1
        try:
            await download(tmp, reserve)
            await asyncio.to_thread(os.replace, tmp, path)
        except BaseException:
            await asyncio.to_thread(tmp.unlink, missing_ok=True)
            raise
        return path

    def drop(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def evict(self, incoming: int = 0) -> None:
        """Remove least recently used copies until `incoming` more bytes fit under the bound (recent ones stay)."""
        now = time.time()
        files: list[tuple[float, int, str]] = []
        total = 0
        try:
            namespaces = [e.path for e in os.scandir(self.root) if e.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return
        for folder in namespaces:
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                continue
            for entry in entries:
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if entry.name.endswith(".part"):
                    # a download in flight counts against the bound; one left by a dead process goes after an hour
                    if now - st.st_mtime > 3600:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(entry.path)
                    else:
                        total += st.st_size
                    continue
                total += st.st_size
                files.append((st.st_mtime, st.st_size, entry.path))
        files.sort()
        for mtime, file_size, file_path in files:
            if total + incoming <= self.max_bytes:
                break
            if now - mtime < self.grace:
                break  # sorted by last use: everything after this one is recent too
            try:
                if time.time() - os.stat(file_path).st_mtime < self.grace:
                    continue  # used a moment ago, by another process
                os.unlink(file_path)
            except FileNotFoundError:
                pass
            total -= file_size
