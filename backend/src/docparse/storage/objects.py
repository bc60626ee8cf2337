"""Storage on obstore: S3 (`s3://bucket/prefix`) or a local directory, with a bounded local cache of S3 sources.

Local mode keeps plain files under the storage directory (`<dir>/jobs/<id>/...`, written to a temporary name and
renamed); plain files read twice as fast as obstore's LocalStore and let `local_source` hand out the file itself.
S3 mode writes nothing into the storage directory: objects go to the bucket, and sources PyMuPDF must open are
downloaded into the cache directory, shared by every process of the machine.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import hashlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar
from urllib.parse import urlsplit

import obstore
from obstore.store import S3Store

from docparse.errors import Unavailable
from docparse.storage.base import SourceWriter, Storage, job_prefix, source_key
from docparse.storage.cache import SourceCache

if TYPE_CHECKING:
    from obstore import AsyncWritableFile

MIB = 1024 * 1024
# Local writes and reads up to this size are made on the event loop: a thread hop costs more CPU (~50 µs, four
# system calls) than a small write that lands in the page cache. (A storage folder on a slow network mount would
# rather have them all in threads.)
INLINE_BYTES = 256 * 1024
T = TypeVar("T")
# S3 uploads: parts of PART_SIZE, at most UPLOAD_CONCURRENCY in flight, so an upload holds ~40 MiB at most.
PART_SIZE = 8 * MIB
UPLOAD_CONCURRENCY = 4
# Uploads are written on in pieces of this size (one thread hop or obstore call per piece, not per network read).
WRITE_PIECE = 1 * MIB
COPY_CONCURRENCY = 16  # server-side copies of one job's results at once
DOWNLOAD_CHUNK = 1 * MIB  # measured: 8 MiB chunks held ~50 MiB more and ran slower
ENSURE_TIMEOUT = 20.0
# Environment variables obstore (object_store's AmazonS3Builder::from_env) reads for the endpoint.
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT")


@dataclass(frozen=True)
class StorageLocation:
    """A parsed storage URL: a local directory, or a bucket and a key prefix."""

    directory: Path | None = None
    bucket: str = ""
    prefix: str = ""

    @property
    def is_local(self) -> bool:
        return self.directory is not None


def parse_storage_url(url: str, default_dir: Path) -> StorageLocation:
    """`""` → default_dir; a plain path or `file:///abs/path` → that directory; `s3://bucket/prefix` → S3."""
    if not url:
        return StorageLocation(directory=Path(default_dir).resolve())
    if url.startswith("s3://"):
        parts = urlsplit(url)
        if not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"storage URL {url!r}: expected s3://bucket or s3://bucket/prefix")
        return StorageLocation(bucket=parts.netloc, prefix=parts.path.strip("/"))
    if url.startswith("file://"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError(f"storage URL {url!r}: expected file:///absolute/path")
        return StorageLocation(directory=Path(parts.path).resolve())
    if "://" in url:
        raise ValueError(f"storage URL {url!r}: only s3://, file:// and plain paths are supported")
    return StorageLocation(directory=Path(url).expanduser().resolve())


def _check_key(key: str) -> str:
    # Keys come from the helpers in base.py; this keeps a bad one from leaving the storage directory.
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid storage key {key!r}")
    return key


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


class ObjectStorage(Storage):
    """Jobs' objects in a local directory or an S3 bucket (one prefix per job, see base.py)."""

    def __init__(self, location: StorageLocation, *, cache_dir: Path, cache_bytes: int) -> None:
        self.location = location
        self.root = location.directory  # local mode only
        self._store: S3Store | None = None
        self.cache: SourceCache | None = None
        if location.directory is None:
            endpoint = next((os.environ[v] for v in ENDPOINT_VARIABLES if os.environ.get(v)), "")
            # The store reads AWS_* from the environment (credentials, region, endpoint, AWS_ALLOW_HTTP).
            self._store = S3Store(location.bucket, prefix=location.prefix or None)
            # One cache folder per store, so two deployments sharing a machine never share a file.
            namespace = hashlib.sha256(f"{endpoint}|{location.bucket}|{location.prefix}".encode()).hexdigest()[:16]
            self.cache = SourceCache(Path(cache_dir), namespace, cache_bytes)

    @property
    def url(self) -> str:
        if self.root is not None:
            return str(self.root)
        return f"s3://{self.location.bucket}/{self.location.prefix}".rstrip("/")

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / _check_key(key)

    def _s3(self) -> S3Store:
        assert self._store is not None
        return self._store

    async def ensure(self) -> None:
        if self.root is not None:
            await asyncio.to_thread((self.root / "jobs").mkdir, parents=True, exist_ok=True)
            return
        assert self.cache is not None
        await asyncio.to_thread(self.cache.directory.mkdir, parents=True, exist_ok=True)
        # A store of its own that gives up after a few quick retries: a wrong endpoint is reported in seconds.
        # (No client_options here: they would replace the ones obstore took from the environment, AWS_ALLOW_HTTP.)
        probe = S3Store(
            self.location.bucket,
            prefix=self.location.prefix or None,
            retry_config={"max_retries": 2, "retry_timeout": timedelta(seconds=ENSURE_TIMEOUT)},
        )
        try:
            await asyncio.wait_for(obstore.list_with_delimiter_async(probe, prefix="jobs/"), timeout=ENSURE_TIMEOUT)
        except Exception as e:
            first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise Unavailable(f"docparse cannot reach its storage {self.url}: {first_line}") from e

    # --- sources ---

    def open_source(self, job_id: str) -> SourceWriter:
        key = source_key(job_id)
        if self.root is not None:
            return _FileWriter(self._path(key))
        writer = obstore.open_writer_async(self._s3(), key, buffer_size=PART_SIZE, max_concurrency=UPLOAD_CONCURRENCY)
        return _ObjectWriter(writer)

    async def local_source(self, job_id: str) -> Path:
        key = source_key(job_id)
        if self.root is not None:
            path = self._path(key)
            if not path.is_file():  # (one stat: inline, see INLINE_BYTES)
                raise FileNotFoundError(f"job {job_id} has no source")
            return path
        assert self.cache is not None
        store = self._s3()

        async def download(target: Path, reserve: Callable[[int], Awaitable[None]]) -> None:
            result = await obstore.get_async(store, key)  # FileNotFoundError (NotFoundError) when missing
            await reserve(int(result.meta["size"]))
            with open(target, "wb") as f:
                async for chunk in result.stream(min_chunk_size=DOWNLOAD_CHUNK):
                    await asyncio.to_thread(f.write, chunk)

        return await self.cache.fetch(str(uuid.UUID(job_id)), download)

    async def has_source(self, job_id: str) -> bool:
        key = source_key(job_id)
        if self.root is not None:
            return await asyncio.to_thread(self._path(key).is_file)
        try:
            await obstore.head_async(self._s3(), key)
        except FileNotFoundError:
            return False
        return True

    # --- objects ---

    async def put(self, key: str, data: bytes) -> None:
        if self.root is not None:
            await _file_io(len(data), _write_file, self._path(key), data)
            return
        await obstore.put_async(self._s3(), _check_key(key), data)

    async def get(self, key: str) -> bytes | None:
        if self.root is not None:
            try:
                return await asyncio.to_thread(self._path(key).read_bytes)
            except FileNotFoundError:
                return None
        try:
            result = await obstore.get_async(self._s3(), _check_key(key))
            return bytes(await result.bytes_async())
        except FileNotFoundError:
            return None

    async def get_range(self, key: str, start: int, length: int) -> bytes:
        if start < 0 or length < 0:
            raise ValueError(f"bad range: start {start}, length {length}")
        if self.root is not None:
            return await _file_io(length, _read_range, self._path(key), start, length)
        store, key = self._s3(), _check_key(key)
        if length == 0:
            await obstore.head_async(store, key)  # still FileNotFoundError when missing
            return b""
        try:
            return bytes(await obstore.get_range_async(store, key, start=start, length=length))
        except FileNotFoundError:
            raise
        except Exception:
            # S3 answers 416 to a range that starts at or past the end; a file read gives b"" there, and so do we
            if start >= (await obstore.head_async(store, key))["size"]:
                return b""
            raise

    async def copy_results(self, from_job: str, to_job: str) -> None:
        source, target = job_prefix(from_job), job_prefix(to_job)
        if self.root is not None:
            await asyncio.to_thread(_link_results, self.root / source, self.root / target)
            return
        store = self._s3()
        keys = [source + "document.json"]
        async for batch in obstore.list(store, prefix=source + "pages/", chunk_size=1000):
            keys += [meta["path"] for meta in batch]
        # Server-side copies, a few at a time: the bytes never come through this process.
        limit = asyncio.Semaphore(COPY_CONCURRENCY)

        async def copy(key: str) -> None:
            async with limit:
                await obstore.copy_async(store, key, target + key[len(source) :])

        await asyncio.gather(*(copy(key) for key in keys))

    async def delete_job(self, job_id: str) -> None:
        prefix = job_prefix(job_id)
        if self.root is not None:
            await asyncio.to_thread(shutil.rmtree, self.root / prefix, ignore_errors=True)
            return
        store = self._s3()
        async for batch in obstore.list(store, prefix=prefix, chunk_size=1000):
            paths = [meta["path"] for meta in batch]
            if paths:
                await obstore.delete_async(store, paths)
        assert self.cache is not None
        await asyncio.to_thread(self.cache.drop, str(uuid.UUID(job_id)))

    async def jobs(self) -> AsyncIterator[tuple[str, float]]:
        if self.root is not None:
            jobs_dir = self.root / "jobs"
            for name in await asyncio.to_thread(_job_dirs, jobs_dir):
                newest = await asyncio.to_thread(_newest_mtime, jobs_dir / name)
                if newest is not None:
                    yield name, newest
            return
        newest_by_job: dict[str, float] = {}
        async for batch in obstore.list(self._s3(), prefix="jobs/", chunk_size=1000):
            for meta in batch:
                parts = meta["path"].split("/")
                if len(parts) < 3:
                    continue
                job_id = _as_job_id(parts[1])
                if job_id is None:
                    continue
                written = meta["last_modified"].timestamp()
                if written > newest_by_job.get(job_id, 0.0):
                    newest_by_job[job_id] = written
        for job_id, written in newest_by_job.items():
            yield job_id, written


# --- local files ---


def _link_results(source: Path, target: Path) -> None:
    """Hard links of the results (written once, never changed in place: a link is as good as a copy, and
    deleting one job unlinks only its own names); a copy where links are not possible."""
    names = [source / "document.json", *sorted((source / "pages").glob("*"))]
    for path in names:
        if path.name.startswith("."):
            continue  # a write under way
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copyfile(path, destination)


async def _file_io(size: int, work: Callable[..., T], *args: Any) -> T:
    """`work` on `size` bytes of a local file: on the event loop up to INLINE_BYTES, else in a thread."""
    if size <= INLINE_BYTES:
        return work(*args)
    return await asyncio.to_thread(work, *args)


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_range(path: Path, start: int, length: int) -> bytes:
    with open(path, "rb") as f:
        return os.pread(f.fileno(), length, start)


def _as_job_id(name: str) -> str | None:
    try:
        job_id = str(uuid.UUID(name))
    except ValueError:
        return None
    return job_id if job_id == name else None


def _job_dirs(jobs_dir: Path) -> list[str]:
    try:
        with os.scandir(jobs_dir) as entries:
            return [e.name for e in entries if e.is_dir(follow_symlinks=False) and _as_job_id(e.name)]
    except FileNotFoundError:
        return []


def _newest_mtime(directory: Path) -> float | None:
    """The newest change under a job's folder: files and folders (a rename into a folder changes the folder)."""
    newest: float | None = None
    for dirpath, _dirnames, filenames in os.walk(directory):
        for path in (dirpath, *(os.path.join(dirpath, n) for n in filenames)):
            try:
                mtime = os.stat(path, follow_symlinks=False).st_mtime
            except FileNotFoundError:
                continue
            newest = mtime if newest is None else max(newest, mtime)
    return newest


class _PieceWriter(SourceWriter):
    """Gathers the small writes of an upload into pieces of WRITE_PIECE bytes: one thread hop or one call into obstore
    per piece instead of per network read (64 KiB reads cost ~1 ms each through obstore's writer)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._done = False

    @abc.abstractmethod
    async def _write_piece(self, piece: bytearray) -> None: ...

    @abc.abstractmethod
    async def _finish(self) -> None:
        """Make the written pieces the source."""

    @abc.abstractmethod
    async def _discard(self) -> None:
        """Drop what was written."""

    async def write(self, data: bytes) -> None:
        if self._done:
            raise ValueError("source writer is closed")
        self._buffer += data
        if len(self._buffer) >= WRITE_PIECE:
            piece, self._buffer = self._buffer, bytearray()
            try:
                await self._write_piece(piece)
            except BaseException:
                await self.abort()
                raise

    async def close(self) -> None:
        if self._done:
            raise ValueError("source writer is closed")
        self._done = True
        piece, self._buffer = self._buffer, bytearray()
        try:
            if piece:
                await self._write_piece(piece)
            await self._finish()
        except BaseException:
            await self._discard()
            raise

    async def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._buffer = bytearray()
        await self._discard()


class _FileWriter(_PieceWriter):
    """A source written to a hidden temporary file beside its place, renamed into place on close."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.tmp = _temp_name(path)
        self._file: BinaryIO | None = None
        self.written = 0

    def _open(self) -> BinaryIO:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.tmp, "wb")  # noqa: SIM115  (closed in _finish or _discard)
        return self._file

    async def _write_piece(self, piece: bytearray) -> None:
        self.written += len(piece)
        await _file_io(len(piece), lambda: self._open().write(piece))

    def _rename(self) -> None:
        self._open().close()  # opened here for an empty source
        os.replace(self.tmp, self.path)

    async def _finish(self) -> None:
        await _file_io(self.written, self._rename)

    def _remove(self) -> None:
        if self._file is not None:
            self._file.close()
        self.tmp.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.path.parent.rmdir()  # the job's folder, when the upload was all it held

    async def _discard(self) -> None:
        await asyncio.to_thread(self._remove)


class _ObjectWriter(_PieceWriter):
    """obstore's buffered writer: one PUT for a small source, a multipart upload (parts of PART_SIZE, at most
    UPLOAD_CONCURRENCY in flight) for a big one."""

    def __init__(self, writer: AsyncWritableFile) -> None:
        super().__init__()
        self._writer = writer

    async def _write_piece(self, piece: bytearray) -> None:
        await self._writer.write(piece)

    async def _finish(self) -> None:
        await self._writer.close()

    async def _discard(self) -> None:
        # obstore aborts (drops the multipart upload) when its context exits with an exception; after a failed
        # close there is nothing left to abort (it raises "already closed", ignored).
        error = RuntimeError("upload aborted")
        with contextlib.suppress(Exception):
            await self._writer.__aexit__(type(error), error, None)
