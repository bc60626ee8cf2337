"""A big source streams through S3 with bounded memory, both ways (measured in a fresh process: peak RSS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SeaweedEndpoint

pytestmark = pytest.mark.slow

SIZE_MIB = 256  # 32 parts of 8 MiB: far more than the 4 the writer may hold at once

PROBE = """
import asyncio, json, os, sys, time, uuid
from pathlib import Path
from docparse.storage.objects import ObjectStorage, parse_storage_url

def peak_mib():
    # VmHWM, this process's peak RSS (ru_maxrss would carry the parent's peak over fork and exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

async def main(url, size_mib, cache):
    storage = ObjectStorage(parse_storage_url(url, Path("unused")), cache_dir=Path(cache), cache_bytes=1 << 40)
    await storage.ensure()
    job = str(uuid.uuid4())
    piece = os.urandom(64 * 1024)
    before = peak_mib()
    started = time.monotonic()
    writer = storage.open_source(job)
    for _ in range(int(size_mib) * 16):
        await writer.write(bytes(piece))  # a fresh object each time, as read from a request body
    await writer.close()
    uploaded = time.monotonic()
    after_upload = peak_mib()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # peak RSS back to the current RSS, so the download is measured on its own
    before_download = peak_mib()
    path = await storage.local_source(job)
    downloaded = time.monotonic()
    print(json.dumps({
        "before": before, "after_upload": after_upload, "before_download": before_download,
        "after_download": peak_mib(),
        "upload_s": uploaded - started, "download_s": downloaded - uploaded, "size": path.stat().st_size,
    }))
    await storage.delete_job(job)

asyncio.run(main(*sys.argv[1:4]))
"""


def test_big_source_streams_with_bounded_memory(seaweed: SeaweedEndpoint, tmp_path: Path) -> None:
    env = dict(os.environ, **seaweed.env)
    url = f"s3://{seaweed.bucket}/memory-{tmp_path.name}"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, url, str(SIZE_MIB), str(tmp_path / "cache")],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=Path(__file__).parents[2],
    )
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{SIZE_MIB} MiB through S3: {figures}")
    assert figures["size"] == SIZE_MIB * 1024 * 1024
    assert figures["after_upload"] - figures["before"] < 64, figures  # parts in flight, not the whole file
    assert figures["after_download"] - figures["before_download"] < 64, figures
