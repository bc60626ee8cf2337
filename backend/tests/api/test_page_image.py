"""Page pictures through the API, with a real worker and real render processes: their size is bounded in pixels,
a big one does not hold up a small one, identical requests share one render, and huge raster images are refused."""

from __future__ import annotations

import asyncio
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pymupdf
import pytest
from litestar.testing import AsyncTestClient

from docparse.app import create_app
from docparse.settings import Settings
from tests.conftest import WorkerProcess, settings_env, wait_for_status
from tests.documents import make_pdf, make_png
from tests.test_live_server import free_port


async def upload(client: AsyncTestClient, path: Path) -> str:
    response = await client.post("/upload", files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert (await wait_for_status(client, job_id, {"completed", "failed"}))["status"] == "completed"
    return job_id


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG")
    return struct.unpack(">II", data[16:24])


def make_tall_pdf(path: Path) -> Path:
    """Page 1 an ordinary page; page 2 300 x 10,000 pt full of text: 3000 px wide it would be 300 megapixels."""
    doc = pymupdf.open()
    doc.new_page(width=595, height=842).insert_text((72, 72), "An ordinary first page.")
    page = doc.new_page(width=300, height=10_000)
    for y in range(20, 10_000, 12):
        page.insert_text((10, y), f"Line at {y} pt: the quick brown fox jumps over the lazy dog.", fontsize=9)
    doc.save(path, garbage=4, deflate=True)
    return path


def make_huge_png(path: Path, side: int = 20_000) -> Path:
    """A black greyscale PNG, side x side pixels, of a few hundred KB (decoded: side² bytes and more)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(1)
    row = bytes(side + 1)  # filter byte + black pixels
    pixels = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))
    return path


async def test_a_tall_page_gets_a_picture_within_the_pixel_bound(
    client: AsyncTestClient, worker: WorkerProcess, settings: Settings, tmp_path: Path
) -> None:
    job_id = await upload(client, make_tall_pdf(tmp_path / "tall.pdf"))
    response = await client.get(f"/jobs/{job_id}/pages/2/image", params={"width": 3000})
    assert response.status_code == 200, response.text
    width, height = png_size(response.content)
    assert width * height <= settings.render_max_pixels
    assert height / width == pytest.approx(10_000 / 300, rel=0.01)  # narrower, not squashed
    assert (response.headers["x-image-width"], response.headers["x-image-height"]) == (str(width), str(height))
    ordinary = await client.get(f"/jobs/{job_id}/pages/1/image", params={"width": 1000})
    assert png_size(ordinary.content)[0] == 1000  # pages within the bound get the width asked for


async def upload_live(http: httpx.AsyncClient, path: Path) -> str:
    response = await http.post("/upload", files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    deadline = time.monotonic() + 60
    while (status := (await http.get(f"/jobs/{job_id}")).json()["status"]) not in ("completed", "failed"):
        assert time.monotonic() < deadline, f"job {job_id} stayed {status}"
        await asyncio.sleep(0.05)
    assert status == "completed"
    return job_id


# Over real HTTP: the in-process test client serves one request at a time, which would hide what these test.


@contextmanager
def live_api(settings: Settings) -> Iterator[tuple[str, Path]]:
    """`docparse api` on a free port; yields its base URL and its log."""
    port = free_port()
    log_path = settings.storage_dir.parent / f"api-{port}.log"
    env = {**settings_env(settings), "DOCPARSE_PORT": str(port), "DOCPARSE_HOST": "127.0.0.1"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "docparse.cli", "api"], env=env, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"{base}/health"):
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()[-2000:]
            time.sleep(0.1)
        yield base, log_path
    finally:
        process.terminate()
        process.wait(15)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


async def test_a_small_picture_is_not_held_up_by_a_big_one(
    worker: WorkerProcess, settings: Settings, tmp_path: Path
) -> None:
    with live_api(settings) as (base, _):
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            tall = await upload_live(http, make_tall_pdf(tmp_path / "tall.pdf"))
            small = await upload_live(http, make_pdf(tmp_path / "small.pdf", pages=1))
            warm = await http.get(f"/jobs/{small}/pages/1/image", params={"width": 100})  # starts the processes
            assert warm.status_code == 200
            finished: list[tuple[str, int]] = []

            async def fetch(name: str, job_id: str, number: int, width: int) -> None:
                response = await http.get(f"/jobs/{job_id}/pages/{number}/image", params={"width": width})
                finished.append((name, response.status_code))

            big = asyncio.create_task(fetch("big", tall, 2, 3000))  # ~1 s of drawing
            await asyncio.sleep(0.2)  # let it reach a render process
            await fetch("small", small, 1, 800)  # ~30 ms of drawing
            await big
    assert finished == [("small", 200), ("big", 200)]


async def test_identical_requests_share_one_render(worker: WorkerProcess, settings: Settings, tmp_path: Path) -> None:
    with live_api(settings) as (base, log_path):
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            job_id = await upload_live(http, make_tall_pdf(tmp_path / "tall.pdf"))
            responses = await asyncio.gather(
                *(http.get(f"/jobs/{job_id}/pages/2/image", params={"width": 2000}) for _ in range(10))
            )
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    lines = log_path.read_text().splitlines()
    renders = [line for line in lines if '"page picture rendered"' in line and job_id in line]
    assert len(renders) == 1, renders


async def test_a_huge_raster_image_is_refused_rather_than_decoded(
    client: AsyncTestClient, worker: WorkerProcess, settings: Settings, tmp_path: Path
) -> None:
    """MuPDF decodes a PNG whole to draw it at any size: a 20,000 px square took 0.9 GB for an 800 px picture."""
    huge = await upload(client, make_huge_png(tmp_path / "huge.png"))
    response = await client.get(f"/jobs/{huge}/pages/1/image", params={"width": 800})
    assert response.status_code == 422 and response.json()["code"] == "memory_limit", response.text
    assert "20000 x 20000" in response.json()["detail"]
    small = await upload(client, make_png(tmp_path / "small.png"))
    picture = await client.get(f"/jobs/{small}/pages/1/image", params={"width": 400})
    assert picture.status_code == 200 and png_size(picture.content)[0] == 400


async def test_the_bounds_are_settings(worker: WorkerProcess, settings: Settings, tmp_path: Path) -> None:
    tight = settings.model_copy(update={"render_max_pixels": 100_000, "render_max_image_pixels": 1000})
    async with AsyncTestClient(app=create_app(tight)) as client:
        pdf = await upload(client, make_pdf(tmp_path / "a.pdf", pages=1))
        width, height = png_size((await client.get(f"/jobs/{pdf}/pages/1/image", params={"width": 2000})).content)
        assert width * height <= 100_000
        png = await upload(client, make_png(tmp_path / "a.png"))  # 40 x 30 px
        assert (await client.get(f"/jobs/{png}/pages/1/image")).json()["code"] == "memory_limit"
