"""In-process measurements: raw PyMuPDF, docparse's parse_page, the peers, and poppler's pdftotext for fidelity."""

from __future__ import annotations

import io
import re
import shutil
import statistics
import subprocess
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import pymupdf
from docparse import parsing


def raw_seconds(path: Path) -> float:
    """pymupdf.open + page.get_text() for every page + close: the raw baseline."""
    t = time.perf_counter()
    doc = pymupdf.open(path)
    for page in doc:
        page.get_text()
    doc.close()
    return time.perf_counter() - t


def parse_page_seconds(path: Path) -> float:
    """docparse's own extraction, in process: open_document + parse_page(ParseOptions()) for every page."""
    options = parsing.ParseOptions()
    t = time.perf_counter()
    doc = parsing.open_document(path, "pdf", None)
    for i in range(doc.page_count):
        parsing.parse_page(doc, i, options)
    doc.close()
    return time.perf_counter() - t


def one_page_parse_seconds(path: Path, reps: int) -> tuple[float, float]:
    """Median seconds of open_document and of parse_page for a one-page file."""
    options = parsing.ParseOptions()
    opens, pages = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        doc = parsing.open_document(path, "pdf", None)
        t1 = time.perf_counter()
        parsing.parse_page(doc, 0, options)
        t2 = time.perf_counter()
        doc.close()
        opens.append(t1 - t0)
        pages.append(t2 - t1)
    return statistics.median(opens), statistics.median(pages)


# --- peers: each tool opens the document once; then the same pages are timed one by one ---


def _time_pages(extract: Callable[[int], object], indices: Sequence[int]) -> float:
    t = time.perf_counter()
    for i in indices:
        extract(i)
    return time.perf_counter() - t


def peer_extractors(path: Path) -> dict[str, tuple[Callable[[int], object], Callable[[], None]]]:
    """name -> (extract page i, close)."""
    out: dict[str, tuple[Callable[[int], object], Callable[[], None]]] = {}

    raw = pymupdf.open(path)
    out["pymupdf get_text (raw)"] = (lambda i: raw[i].get_text(), raw.close)

    ddoc = parsing.open_document(path, "pdf", None)
    options = parsing.ParseOptions()
    out["docparse parse_page"] = (lambda i: parsing.parse_page(ddoc, i, options), ddoc.close)

    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # "fontTools is required ..." notes on some fonts

    reader = PdfReader(path)
    out["pypdf extract_text"] = (lambda i: reader.pages[i].extract_text(), lambda: None)

    # pdfminer.six: the body of pdfminer.high_level.extract_text(), with the document parsed once instead of once
    # per call (extract_text(path, page_numbers=[i]) re-reads the file and walks the whole page tree every time).
    from pdfminer.converter import TextConverter
    from pdfminer.layout import LAParams
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    fp = open(path, "rb")  # noqa: SIM115
    pages = list(PDFPage.get_pages(fp))
    rsrcmgr = PDFResourceManager(caching=True)
    laparams = LAParams()

    def pdfminer_page(i: int) -> str:
        buf = io.StringIO()
        device = TextConverter(rsrcmgr, buf, codec="utf-8", laparams=laparams)
        PDFPageInterpreter(rsrcmgr, device).process_page(pages[i])
        device.close()
        return buf.getvalue()

    out["pdfminer.six extract_text"] = (pdfminer_page, fp.close)
    return out


def sample_indices(page_count: int, n: int) -> list[int]:
    """`n` pages spread evenly over the document (first and last included)."""
    if n >= page_count:
        return list(range(page_count))
    return sorted({round(k * (page_count - 1) / (n - 1)) for k in range(n)})


def peers_on(path: Path, indices: Sequence[int]) -> dict[str, float]:
    """Seconds each tool spends on `indices` (after one untimed warm-up page each)."""
    tools = peer_extractors(path)
    secs = {}
    try:
        for name, (extract, _close) in tools.items():
            extract(indices[0])
            secs[name] = _time_pages(extract, indices)
    finally:
        for _extract, close in tools.values():
            close()
    return secs


# --- fidelity against poppler ---

_WORD = re.compile(r"\w+")


def words(text: str) -> Counter:
    """Normalised words: NFKC (ligatures, full-width forms), then runs of letters and digits."""
    return Counter(_WORD.findall(unicodedata.normalize("NFKC", text)))


def pdftotext(path: Path) -> str | None:
    exe = shutil.which("pdftotext")
    if exe is None:
        return None
    proc = subprocess.run([exe, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=600)
    return proc.stdout.decode("utf-8", "replace")


def recall_precision(
    ours: Counter, reference: Counter
) -> tuple[float, float, list[tuple[str, int]], list[tuple[str, int]]]:
    common = sum((ours & reference).values())
    recall = common / max(1, sum(reference.values()))
    precision = common / max(1, sum(ours.values()))
    missing = (reference - ours).most_common(8)
    extra = (ours - reference).most_common(8)
    return recall, precision, missing, extra
