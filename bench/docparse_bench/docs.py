"""Documents for the benchmarks: the large real manuals of the shared corpus, and PDFs generated here."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from docparse_bench import REPO

_TEXT = (
    "Parsing services turn uploaded documents into text blocks with positions metadata outlines and links "
    "so that search indexes and language models can read them A worker takes each job from the queue opens "
    "the file with MuPDF and writes every page as soon as it is parsed while the client watches the progress"
)
LOREM = _TEXT.split()


@dataclass(frozen=True)
class LargeDoc:
    name: str
    path: Path
    pages: int


def corpus_dir() -> Path:
    """DOCPARSE_CORPUS_DIR, default ../shared/corpus relative to the repository root (as the backend tests use)."""
    raw = os.environ.get("DOCPARSE_CORPUS_DIR")
    return Path(raw).resolve() if raw else (REPO / ".." / "shared" / "corpus").resolve()


def cache_dir() -> Path:
    """Where fetch-large.sh puts the large PDFs: DOCPARSE_BENCH_CACHE, else the script's own default."""
    raw = os.environ.get("DOCPARSE_BENCH_CACHE")
    if raw:
        return Path(raw).resolve()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "docparse-corpus"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def large_docs(log: callable) -> tuple[list[LargeDoc], str | None]:  # type: ignore[valid-type]
    """The large corpus PDFs (downloaded with fetch-large.sh when missing), or ([], why not)."""
    corpus = corpus_dir()
    listing = corpus / "large.json"
    script = corpus / "fetch-large.sh"
    if not listing.exists() or not script.exists():
        return [], f"no corpus at {corpus} (set DOCPARSE_CORPUS_DIR to the folder holding fetch-large.sh)"
    wanted = json.loads(listing.read_text())
    dest = cache_dir()

    def present() -> bool:
        return all((dest / d["file"]).exists() and (dest / d["file"]).stat().st_size == d["size"] for d in wanted)

    if not present():
        log(f"fetching the large corpus into {dest} with {script} ...")
        proc = subprocess.run(["bash", str(script), str(dest)], capture_output=True, text=True, timeout=900)
        if proc.returncode != 0 or not present():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            return [], f"fetch-large.sh failed ({' / '.join(tail)})"
    bad = [d["file"] for d in wanted if _sha256(dest / d["file"]) != d["sha256"]]
    if bad:
        return [], f"checksum mismatch in {dest}: {', '.join(bad)}"
    docs = [LargeDoc(d["file"], dest / d["file"], d["pages"]) for d in wanted]
    return sorted(docs, key=lambda d: d.pages), None


def one_page_pdf(words: int = 300) -> bytes:
    """A one-page PDF of plain text (~`words` words, base-14 font), like a short letter or invoice."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    text = " ".join(LOREM[i % len(LOREM)] for i in range(words))
    page.insert_textbox(pymupdf.Rect(56, 56, 556, 780), text, fontsize=10, fontname="helv")
    data = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    return data


def big_pdf(path: Path, size: int) -> Path:
    """A valid one-page PDF of exactly `size` bytes: a text page plus an unreferenced stream of zeros as padding.

    The padding is a hole in a sparse file, so it costs neither time nor disk here; the API still receives, hashes
    and stores every byte, and the worker opens it through the xref without reading the padding."""
    content = b"BT /F1 24 Tf 72 700 Td (docparse bench: a 1 GiB upload) Tj ET"
    head_objs = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
        b"<</Length %d>>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(head_objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    pad_obj_offset = len(out)

    def tail(pad: int) -> tuple[bytes, bytes]:
        start = b"6 0 obj\n<</Length %d>>\nstream\n" % pad
        end = b"\nendstream\nendobj\n"
        xref_at = pad_obj_offset + len(start) + pad + len(end)
        xref = b"xref\n0 7\n0000000000 65535 f \n" + b"".join(
            b"%010d 00000 n \n" % o for o in [*offsets, pad_obj_offset]
        )
        trailer = b"trailer\n<</Size 7/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % xref_at
        return start, end + xref + trailer

    pad = size - len(out)
    for _ in range(3):  # the digits of the lengths change the overhead a little: converge
        start, end = tail(pad)
        pad = size - len(out) - len(start) - len(end)
    start, end = tail(pad)
    with open(path, "wb") as f:
        f.write(bytes(out) + start)
        f.seek(pad, os.SEEK_CUR)
        f.write(end)
    assert path.stat().st_size == size, (path.stat().st_size, size)
    return path


def text_pdf(path: Path, pages: int, words: int = 350) -> Path:
    """A born-digital text PDF of `pages` pages (base-14 font, ~`words` words a page): the stand-in for the
    corpus's 2,415-page manual when the corpus is absent. Made once per path."""
    if path.exists():
        return path
    import pymupdf

    doc = pymupdf.open()
    for n in range(pages):
        page = doc.new_page()
        text = f"Page {n + 1}. " + " ".join(LOREM[(n + i) % len(LOREM)] for i in range(words))
        page.insert_textbox(pymupdf.Rect(56, 56, 556, 780), text, fontsize=10, fontname="helv")
    doc.save(path, garbage=3, deflate=True)
    doc.close()
    return path
