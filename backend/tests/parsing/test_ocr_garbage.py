"""ocr=auto and garbage text layers: a scan whose invisible text layer is junk is read again; a scan with a good OCR
layer, and born-digital text over a full-page picture, are left alone; no born-digital page of the corpus is read."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pymupdf
import pytest

from docparse import tessdata
from docparse.parsing import Page, ParseOptions, open_document, parse_page
from docparse.parsing import ocr as ocr_module
from docparse.parsing.ocr import garbage_text
from tests.corpus import CORPUS_DIR, MISSING_REASON, load_manifest

from . import scans

needs_tesseract = pytest.mark.skipif(
    not {"kor", "eng"} <= set(ocr_module.available_languages()) or not tessdata.orientation_available(),
    reason="Tesseract with Korean, English and orientation traineddata is not installed "
    "(apt-get install tesseract-ocr-kor tesseract-ocr-eng tesseract-ocr-osd)",
)
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

# What Tesseract's English model made of a page of Korean (measured here): a scanner's OCR layer in the wrong language.
ENGLISH_READING_OF_KOREAN = (
    "ASS AS BE BE\nAust EMS SAr7t SR AUCH. Hsert 4S SAL Sol7t ASAA SP7t SSUCt.\nLEMS ANS SH] APSorsAl2. AALS AS "
    "BAS\nA442} S30] AES He LOM Be AO] SSC.\nBap 4S Sal Usct. Sst Hf AS st HO] BS 27; SSUC SAVt We BMAE\n2\nAS SAS "
    "AA H7t HS] 712] RSUCH. HAAS Sala HA SMS SAI Alelat +\nOlx\nMe\n"
)


def never() -> bool:
    raise AssertionError("the characters alone decide")


def shifted(text: str) -> str:
    """Each glyph mapped to another printable ASCII character, as a font with a broken encoding reads."""
    return "".join(c if c.isspace() else chr(33 + ord(c) * 7 % 94) for c in text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("\ufffd\ufffd \ue012\ue013\ue014 \x00\x00 " * 10 + "hello", "replacement", id="unmapped glyphs"),
        pytest.param(scans.KOREAN.encode().decode("cp1252", "ignore"), "Latin-1", id="UTF-8 read as Windows-1252"),
    ],
)
def test_garbage_by_its_characters(text: str, reason: str) -> None:
    """Characters nobody writes decide without asking whether the layer is invisible."""
    found = garbage_text(text, never)
    assert found is not None and reason in found


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(scans.ENGLISH, id="English"),
        pytest.param(scans.KOREAN, id="Korean"),
        pytest.param(scans.BILINGUAL, id="both"),
        pytest.param(
            "Article premier. Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont doués"
            " de raison et de conscience et doivent agir les uns envers les autres dans un esprit de fraternité.",
            id="French",
        ),
        pytest.param("Table of Contents\n" + "1. Using the Manual · · · · · · · · · · · · 1\n" * 12, id="dot leaders"),
    ],
)
def test_text_is_not_garbage_even_if_invisible(text: str) -> None:
    assert garbage_text(text, lambda: True) is None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(ENGLISH_READING_OF_KOREAN, id="English OCR of Korean"),
        pytest.param(shifted(scans.ENGLISH), id="glyphs mapped to ASCII"),
        pytest.param(
            "".join(chr((ord(c) - ord("a") + 3) % 26 + ord("a")) if "a" <= c <= "z" else c for c in scans.ENGLISH),
            id="letters shifted",
        ),
    ],
)
def test_implausible_words_are_garbage_only_when_invisible(text: str) -> None:
    """Reference manuals and tables have as many odd words in born-digital text: only an OCR layer is judged."""
    assert garbage_text(text, lambda: False) is None
    found = garbage_text(text, lambda: True)
    assert found is not None and "implausible" in found


def scan_with_layer(path: Path, original: pymupdf.Document, layer: str, *, render_mode: int = 3) -> Path:
    """A 200-dpi scan of `original`'s page with `layer` written over it, invisibly by default (as OCR layers are)."""
    scans.image_pdf([scans.scan(original, dpi=200)], path)
    doc = pymupdf.open(path)
    page = doc[0]
    page.insert_font(fontname="layer", fontfile=str(DEJAVU if DEJAVU.exists() else scans.NANUM))
    box = pymupdf.Rect(20, 20, page.rect.width - 20, page.rect.height - 20)
    for fontsize in (9, 7, 5, 4, 3):
        spare = page.insert_textbox(box, layer, fontname="layer", fontsize=fontsize, render_mode=render_mode)
        if spare >= 0:
            break
    out = path.with_name(f"layered-{path.name}")
    doc.save(out)
    doc.close()
    return out


def parse(path: Path, on_ocr: Callable[[], None] | None = None, **options: object) -> Page:
    doc = open_document(path, "pdf", None)
    try:
        return parse_page(doc, 0, ParseOptions(**options), on_ocr=on_ocr)  # type: ignore[arg-type]
    finally:
        doc.close()


@needs_tesseract
def test_scan_with_a_wrong_language_ocr_layer_is_read_again(tmp_path: Path) -> None:
    original = scans.digital_page(scans.KOREAN, fontsize=12)
    path = scan_with_layer(tmp_path / "korean.pdf", original, ENGLISH_READING_OF_KOREAN)
    page = parse(path)
    assert page.ocr is not None
    assert scans.hangul_recall(original[0].get_text(), page.text) >= 0.9, page.text
    assert "SAr7t" not in page.text


@needs_tesseract
def test_scan_with_a_broken_font_layer_is_read_again(tmp_path: Path) -> None:
    original = scans.digital_page(scans.ENGLISH)
    reference = original[0].get_text()
    path = scan_with_layer(tmp_path / "english.pdf", original, shifted(reference))
    page = parse(path, ocr_languages="eng")
    assert page.ocr is not None
    assert scans.word_recall(reference, page.text) >= 0.95, page.text


@pytest.mark.parametrize("render_mode", [3, 0], ids=["good OCR layer", "visible text over a picture"])
def test_usable_text_over_a_picture_is_kept(tmp_path: Path, render_mode: int) -> None:
    """A good OCR layer is not read again; nor is visible text with odd words (codes, all capitals) over a
    full-page picture, as a born-digital form or slide has."""
    original = scans.digital_page(scans.ENGLISH)
    layer = original[0].get_text() if render_mode == 3 else ENGLISH_READING_OF_KOREAN
    called: list[bool] = []
    page = parse(scan_with_layer(tmp_path / "kept.pdf", original, layer, render_mode=render_mode), called.append)
    assert page.ocr is None and not called
    assert page.text.split() == layer.split()


@pytest.mark.skipif(not CORPUS_DIR.exists(), reason=MISSING_REASON)
def test_no_born_digital_page_of_the_corpus_is_read() -> None:
    """ocr=auto on every page with text of the corpus' ground-truth PDFs: none is taken for a scan."""
    read: list[str] = []
    for entry in load_manifest():
        if entry["set"] != "groundtruth" or entry["format"] != "pdf" or entry["expect"] != "ok":
            continue
        doc = open_document(CORPUS_DIR / entry["path"], "pdf", entry["user_password"])
        try:
            for index in range(doc.page_count):
                if len("".join(doc[index].get_text().split())) >= 20:
                    name = f"{entry['path']} page {index + 1}"
                    parse_page(doc, index, ParseOptions(), on_ocr=partial(read.append, name))
        finally:
            doc.close()
    assert read == []
