"""OCR through the service: the upload's ocr fields, /config, and a scan read in a real parse process under the
OCR page timeout rather than the (much shorter) page timeout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from docparse import tessdata
from docparse.settings import Settings
from tests.conftest import WorkerProcess, make_settings, purge_queue, wait_for_status
from tests.parsing import scans

pytestmark = pytest.mark.skipif(
    not {"kor", "eng"} <= set(tessdata.installed_languages()) or not tessdata.orientation_available(),
    reason="Tesseract with Korean, English and orientation traineddata is not installed "
    "(apt-get install tesseract-ocr-kor tesseract-ocr-eng tesseract-ocr-osd)",
)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """A page timeout far below what a page of OCR takes: only the OCR page timeout lets a scan through."""
    s = make_settings(tmp_path, page_timeout=1.0)
    yield s
    purge_queue(s)


async def upload(client: AsyncTestClient, path: Path, **data: str) -> str:
    response = await client.post("/upload", files={"file": (path.name, path.read_bytes())}, data=data)
    assert response.status_code == 202, response.text
    return str(response.json()["job_id"])


async def test_config_says_what_ocr_reads(client: AsyncTestClient, settings: Settings) -> None:
    ocr = (await client.get("/config")).json()["ocr"]
    assert ocr["available"] is True and {"kor", "eng"} <= set(ocr["languages"]) and "osd" not in ocr["languages"]
    assert ocr["default_languages"] == settings.ocr_languages == "kor+eng"
    assert ocr["page_timeout"] == settings.ocr_page_timeout


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"ocr": "sometimes"}, "ocr: 'auto'"),
        ({"ocr_languages": "../../etc/passwd"}, "ocr_languages: Tesseract language names"),
        ({"ocr_languages": "kor+xyz"}, "no traineddata for xyz"),
    ],
)
async def test_ocr_fields_are_checked(
    client: AsyncTestClient, tmp_path: Path, fields: dict[str, str], complaint: str
) -> None:
    path = scans.png(scans.scan(scans.digital_page(), dpi=50), tmp_path / "scan.png")
    response = await client.post("/upload", files={"file": (path.name, path.read_bytes())}, data=fields)
    assert response.status_code == 400 and response.json()["code"] == "invalid_request", response.text
    assert complaint in response.json()["detail"]


async def test_a_scan_is_read_under_the_ocr_page_timeout(
    client: AsyncTestClient, worker: WorkerProcess, tmp_path: Path
) -> None:
    """A 300-dpi scan of a page of Korean takes seconds to read; the page timeout here is 1 s."""
    original = scans.digital_page(scans.KOREAN, fontsize=12)
    reference = original[0].get_text()
    path = scans.image_pdf([scans.scan(original, dpi=300, noise=0.002)], tmp_path / "scan.pdf")
    job_id = await upload(client, path, ocr="auto", ocr_languages="kor+eng")
    done = await wait_for_status(client, job_id, {"completed", "failed"}, timeout=240)
    assert done["status"] == "completed" and done["failed_pages"] == [], done
    page = (await client.get(f"/jobs/{job_id}/pages/1")).json()
    assert page["ocr"]["languages"] == "kor+eng" and page["ocr"]["dpi"] == 300 and page["notices"] == []
    assert scans.hangul_recall(reference, page["text"]) >= 0.9
    assert any(block["type"] == "text" for block in page["blocks"])


async def test_ocr_never_is_kept_with_the_job(client: AsyncTestClient, worker: WorkerProcess, tmp_path: Path) -> None:
    path = scans.image_pdf([scans.scan(scans.digital_page(), dpi=100)], tmp_path / "scan.pdf")
    done = await wait_for_status(client, await upload(client, path, ocr="never"), {"completed", "failed"})
    assert done["status"] == "completed", done
    page = (await client.get(f"/jobs/{done['job_id']}/pages/1")).json()
    assert page["text"] == "" and page["ocr"] is None and page["notices"] == []
