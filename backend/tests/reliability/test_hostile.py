"""Hostile and broken input through the running service: every file ends typed, within the limits, and no
worker dies."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pymupdf
import pytest

from tests.corpus import CORPUS_DIR, MISSING_REASON, load_manifest
from tests.documents import make_pdf
from tests.jobs.bombs import zip_bomb_cbz
from tests.reliability.stack import Stack, scaled

pytestmark = pytest.mark.reliability

TYPED_ERRORS = {"encrypted", "wrong_password", "corrupt", "page_timeout", "timeout", "too_many_pages",
                "invalid_request", "unsupported_type", "memory_limit"}  # fmt: skip


def bomb_pdf(path: Path, megabytes: int) -> Path:
    """One page whose content stream inflates from a few hundred KB to `megabytes` MB."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "a page over a decompression bomb")
    xref = page.get_contents()[0]
    doc.update_stream(xref, b"q Q\n" * (megabytes * 1024 * 256), compress=True)
    doc.save(path, deflate=True)
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    s = Stack(tmp_path_factory.mktemp("hostile"), workers=2, max_pages=500, page_timeout=20.0, max_queued=10_000)
    yield s
    s.close()


def test_every_robustness_file_ends_typed(stack: Stack) -> None:
    entries = [e for e in load_manifest() if e["set"] == "robustness"]
    if not entries:
        pytest.skip(MISSING_REASON)
    entries = entries[:: scaled(4, 1)]
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    with httpx.Client(timeout=60) as client:
        ids = {}
        for entry in entries:
            path = CORPUS_DIR / entry["path"]
            fields = {"password": entry["user_password"]} if entry["user_password"] else {}
            response = stack.upload(client, path.name, path.read_bytes(), **fields)
            if response.status_code != 202:
                assert response.status_code in (400, 413, 415) and response.json()["code"] in TYPED_ERRORS | {
                    "empty_file"}, response.text  # fmt: skip
                outcomes[f"refused: {response.json()['code']}"] = outcomes.get(f"refused: {response.json()['code']}",
                                                                                0) + 1  # fmt: skip
                continue
            ids[response.json()["job_id"]] = entry
        done = stack.wait_terminal(client, list(ids), timeout=900)
    for job_id, status in done.items():
        entry = ids[job_id]
        key = status["status"] if status["status"] == "completed" else f"failed: {status['error']['code']}"
        outcomes[key] = outcomes.get(key, 0) + 1
        if status["status"] == "failed":
            assert status["error"]["code"] in TYPED_ERRORS, (entry["path"], status)
            assert entry["expect"] != "ok", (entry["path"], status)
    assert all(w.poll() is None for w in stack.workers), "a worker died"
    print(f"\n{len(entries)} robustness files in {time.monotonic() - started:.0f} s: {json.dumps(outcomes)}")


def test_made_up_hostile_inputs(stack: Stack, tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf", pages=3).read_bytes()
    cases = {
        "truncated.pdf": good[: len(good) // 2],
        "bomb.pdf": bomb_pdf(tmp_path / "bomb.pdf", 200).read_bytes(),
        # 1.9 MB whose picture inflates to 1.9 GB: it took a parse process to 1.97 GB before the memory ceiling
        "bomb.cbz": zip_bomb_cbz(tmp_path / "bomb.cbz", 1900).read_bytes(),
        "too-many-pages.pdf": make_pdf(tmp_path / "many.pdf", pages=501).read_bytes(),
        "x" * 300 + ".pdf": good,
        "../../etc/passwd": good,
        "résumé 履歴書.pdf": good,
    }
    with httpx.Client(timeout=60) as client:
        ids = {}
        for name, data in cases.items():
            response = stack.upload(client, name, data)
            assert response.status_code == 202, (name, response.text)
            ids[response.json()["job_id"]] = name
            assert "/" not in response.json()["filename"] and len(response.json()["filename"].encode()) <= 255
        done = stack.wait_terminal(client, list(ids), timeout=120)
        by_name = {ids[k]: v for k, v in done.items()}
        assert by_name["too-many-pages.pdf"]["error"]["code"] == "too_many_pages"
        assert (
            by_name["truncated.pdf"]["status"] == "completed"
            or by_name["truncated.pdf"]["error"]["code"] in TYPED_ERRORS
        )
        assert by_name["bomb.pdf"]["status"] == "completed" or by_name["bomb.pdf"]["error"]["code"] in TYPED_ERRORS
        assert by_name["bomb.cbz"]["error"]["code"] == "memory_limit", by_name["bomb.cbz"]  # the default ceiling
        for name in ("x" * 300 + ".pdf", "../../etc/passwd", "résumé 履歴書.pdf"):
            assert by_name[name]["status"] == "completed"

        refusals = (
            ("empty.pdf", b"", "empty_file"),
            ("elf.pdf", b"\x7fELF" + bytes(500), "unsupported_type"),
            ("oops.pdf", b"oops\n", "unsupported_type"),
        )
        for name, data, code in refusals:
            refused = stack.upload(client, name, data)
            assert refused.json()["code"] == code, (name, refused.text)
        spoofed = client.post(f"{stack.url}/upload", files={"file": ("pic.pdf", good, "image/png")})
        assert spoofed.json()["file_type"] == "pdf"  # the bytes decide, not the Content-Type
        no_file = client.post(f"{stack.url}/upload", data={"password": "x"})
        assert no_file.status_code == 400 and no_file.json()["code"] == "invalid_request"
    assert all(w.poll() is None for w in stack.workers)


def test_an_oversized_body_is_refused_before_it_is_sent(stack: Stack) -> None:
    """413 from the Content-Length alone: the client sends only its headers, never the body, so any answer at all
    was made without reading it (however long a busy machine takes to give it)."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=60) as conn:
        size = 50 * 1024**3
        conn.sendall(
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
            + f"Content-Length: {size}\r\n\r\n".encode()
        )
        reply = b""
        while b"}" not in reply and (chunk := conn.recv(4096)):
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert b'"code":"file_too_large"' in reply
