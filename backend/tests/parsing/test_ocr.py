"""OCR with the real Tesseract: scans, a sideways and a skewed scan and a photo, in English and Korean, each read
back against the born-digital page it was made from; born-digital pages left alone; a missing Tesseract reported."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pymupdf
import pytest

from docparse import tessdata
from docparse.parsing import Page, ParseOptions, open_document, parse_page
from docparse.parsing import ocr as ocr_module

from . import scans

pytestmark = pytest.mark.skipif(
    not {"kor", "eng"} <= set(ocr_module.available_languages()) or not tessdata.orientation_available(),
    reason="Tesseract with Korean, English and orientation traineddata is not installed "
    "(apt-get install tesseract-ocr-kor tesseract-ocr-eng tesseract-ocr-osd)",
)


@pytest.fixture(scope="module")
def digital() -> Iterator[pymupdf.Document]:
    """The born-digital original: three articles in English, three in Korean (Nanum Gothic)."""
    doc = scans.digital_page()
    yield doc
    doc.close()


@pytest.fixture(scope="module")
def reference(digital: pymupdf.Document) -> str:
    return digital[0].get_text()


def parse_first(path: Path, file_type: str, **options: object) -> Page:
    doc = open_document(path, file_type, None)
    try:
        return parse_page(doc, 0, ParseOptions(**options))  # type: ignore[arg-type]
    finally:
        doc.close()


def assert_read(page: Page, reference: str, minimum: float) -> None:
    """Both languages came back: English words and Hangul syllables of the original, `minimum` of each."""
    english = reference[: reference.index("제1조")]
    assert scans.word_recall(english, page.text) >= minimum, page.text
    assert scans.hangul_recall(reference, page.text) >= minimum, page.text
    assert page.ocr is not None and page.ocr.languages == "kor+eng"
    assert page.ocr.engine.startswith("tesseract")
    assert page.ocr.confidence is not None and 0.6 < page.ocr.confidence <= 1
    assert page.char_count == len("".join(page.text.split()))
    assert page.notices == []
    text_blocks = [block for block in page.blocks if block.type == "text"]
    assert "".join(f"{block.text}\n" for block in text_blocks) == page.text
    for block in text_blocks:  # boxes on the page, as for any page, for the viewer to draw over the picture
        x0, y0, x1, y1 = block.bbox
        assert -1 <= x0 < x1 <= page.width + 1 and -1 <= y0 < y1 <= page.height + 1


def test_scanned_pdf(tmp_path: Path, digital: pymupdf.Document, reference: str) -> None:
    path = scans.image_pdf([scans.scan(digital, dpi=200, noise=0.003)], tmp_path / "scan.pdf")
    page = parse_first(path, "pdf")
    assert_read(page, reference, 0.92)
    assert page.ocr is not None and page.ocr.dpi == 200 and page.ocr.angle == 0
    assert [image.width for image in page.images] == [scans.scan(digital, dpi=200).width]
    # The paragraphs sit where the original's do: the first starts at the text box's corner (60, 70).
    first = next(block for block in page.blocks if block.type == "text")
    assert first.text is not None and first.text.startswith("Article 1.")
    assert abs(first.bbox[0] - 60) < 6 and abs(first.bbox[1] - 70) < 8


def test_sideways_and_skewed_scans(tmp_path: Path, digital: pymupdf.Document, reference: str) -> None:
    sideways = scans.scan(digital, dpi=200, angle=-90, noise=0.003)  # turned a quarter clockwise
    skewed = scans.scan(digital, dpi=200, angle=3, noise=0.005)
    path = scans.image_pdf([sideways, skewed], tmp_path / "turned.pdf")
    doc = open_document(path, "pdf", None)
    try:
        turned, tilted = (parse_page(doc, index, ParseOptions()) for index in range(2))
    finally:
        doc.close()
    assert_read(turned, reference, 0.9)
    assert turned.ocr is not None and turned.ocr.angle == 90
    assert turned.width > turned.height  # a landscape page, its lines run down it: boxes taller than wide
    assert all(b.bbox[3] - b.bbox[1] > b.bbox[2] - b.bbox[0] for b in turned.blocks if b.type == "text")
    assert_read(tilted, reference, 0.9)
    assert tilted.ocr is not None and 356 < tilted.ocr.angle < 358.5  # turned back by about 3 degrees


def test_korean_on_its_side(tmp_path: Path) -> None:
    """A page of Korean turned a quarter: Tesseract's layout analysis took its grid of syllables for level lines
    and read them with a confidence of 78 (upright pages: 83-95), 31% of the letters, unless orientation
    detection turns the page first."""
    original = scans.digital_page(scans.KOREAN, fontsize=12)
    reference = original[0].get_text()
    path = scans.image_pdf([scans.scan(original, dpi=200, angle=-90, noise=0.004, seed=0)], tmp_path / "side.pdf")
    page = parse_first(path, "pdf")
    assert page.ocr is not None and page.ocr.angle == 90
    assert scans.hangul_recall(reference, page.text) >= 0.9, page.text
    assert scans.word_recall(reference.splitlines()[-1], page.text) >= 0.8  # its English line


# The first page of the benchmark's Korean scans (Tesseract's column finding tore its first paragraph into fragments
# and read 65% of its syllables), with a line of English words in it.
KOREAN_MANUAL = (
    "제1장 시작하기\n이 설명서는 문서 분석 서비스를 설치하고 사용하는 방법을 설명합니다. 서비스는 업로드된 문서를 "
    "읽어 쪽마다 글자와 위치, 목차와 링크를 돌려줍니다. 스캔한 문서는 광학 문자 인식으로 읽습니다. 처음 "
    "사용하는 분은 이 장을 끝까지 읽은 다음 다음 장으로 넘어가십시오. 설치에는 몇 분이 걸리며 인터넷 연결이 "
    "필요합니다. 설치가 끝나면 웹 화면에서 파일을 끌어다 놓아 바로 시험해 볼 수 있습니다.\n"
    "서버는 작업을 대기열에 넣고 작업자가 하나씩 꺼내어 처리합니다. 작업자의 수는 처리기의 수에 맞추는 것이 "
    "좋습니다. 큰 문서도 첫 쪽은 몇 초 안에 읽을 수 있으며 나머지 쪽은 분석되는 대로 나타납니다.\n"
    "웹 화면 대신 REST API로 PDF 파일을 올릴 수도 있습니다."
)


def test_korean_page_is_read_as_one_column(tmp_path: Path) -> None:
    """A page orientation detection finds Korean is read as one column, and words the English model claimed are
    read again by the Korean one: 0.90 of its syllables before, 0.99-1.0 now; its English words stay English."""
    original = scans.digital_page(KOREAN_MANUAL, fontsize=12)
    reference = original[0].get_text()
    page = parse_first(scans.image_pdf([scans.scan(original, dpi=200)], tmp_path / "korean.pdf"), "pdf")
    assert page.ocr is not None and page.ocr.languages == "kor+eng"
    assert scans.hangul_recall(reference, page.text) >= 0.97, page.text
    assert "REST" in page.text and "PDF" in page.text
    assert page.text.splitlines()[0] == "제1장 시작하기"


@pytest.mark.parametrize(
    ("pixels_per_inch", "declared", "read_at"),
    [
        (150, 150, 200),  # a low-resolution scan saved as PNG: enlarged to the 200 dpi Tesseract needs at least
        (300, 72, 72),  # a photo that says 72 dpi (most do): its own pixels are enough, never enlarged 2.8 times
    ],
)
def test_photo_of_a_page(
    tmp_path: Path, digital: pymupdf.Document, reference: str, pixels_per_inch: int, declared: int, read_at: int
) -> None:
    """A PNG of a page, a little askew and noisy."""
    pix = scans.scan(digital, dpi=pixels_per_inch, angle=-2, noise=0.01)
    pix.set_dpi(declared, declared)
    page = parse_first(scans.png(pix, tmp_path / "photo.png"), "png", markdown=True)
    assert_read(page, reference, 0.88)
    assert page.ocr is not None and page.ocr.dpi == read_at
    assert page.markdown is not None and "human" in page.markdown and "모든" in page.markdown


def test_born_digital_page_is_not_read_again(tmp_path: Path, digital: pymupdf.Document) -> None:
    path = tmp_path / "digital.pdf"
    digital.save(path)
    called: list[bool] = []
    doc = open_document(path, "pdf", None)
    try:
        auto = parse_page(doc, 0, ParseOptions(), on_ocr=lambda: called.append(True))
        never = parse_page(doc, 0, ParseOptions(ocr="never"))
    finally:
        doc.close()
    assert auto.ocr is None and not called
    assert auto.text == never.text == digital[0].get_text()


def test_ocr_always_reads_a_page_with_a_text_layer(tmp_path: Path) -> None:
    """always: the text layer is replaced by what Tesseract reads (for text layers that are garbage)."""
    path = tmp_path / "english.pdf"
    scans.digital_page(scans.ENGLISH.splitlines()[0]).save(path)
    called: list[bool] = []
    doc = open_document(path, "pdf", None)
    try:
        page = parse_page(doc, 0, ParseOptions(ocr="always", ocr_languages="eng"), on_ocr=lambda: called.append(True))
    finally:
        doc.close()
    assert called == [True]
    assert page.ocr is not None and page.ocr.languages == "eng" and page.ocr.dpi == 300
    assert scans.word_recall(scans.ENGLISH.splitlines()[0], page.text) >= 0.95


def test_never_leaves_a_scan_empty_and_says_nothing(tmp_path: Path, digital: pymupdf.Document) -> None:
    path = scans.image_pdf([scans.scan(digital, dpi=100)], tmp_path / "scan.pdf")
    page = parse_first(path, "pdf", ocr="never")
    assert page.text == "" and page.ocr is None and page.notices == []
    assert [block.type for block in page.blocks] == ["image"]


def test_missing_language_is_a_typed_notice(tmp_path: Path, digital: pymupdf.Document) -> None:
    path = scans.image_pdf([scans.scan(digital, dpi=100)], tmp_path / "scan.pdf")
    page = parse_first(path, "pdf", ocr_languages="kor+xyz")
    assert page.ocr is None and page.text == ""
    assert [notice.code for notice in page.notices] == ["ocr_unavailable"]
    assert "xyz" in page.notices[0].message


def test_missing_tesseract_is_a_typed_notice(
    tmp_path: Path, digital: pymupdf.Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no traineddata are installed, the page still completes, and says why its text is empty."""
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    monkeypatch.setattr(tessdata, "_TESSDATA_DIRS", ())
    monkeypatch.setattr(ocr_module, "_engine", None)
    tessdata.tessdata_dir.cache_clear()
    try:
        assert ocr_module.available_languages() == []
        path = scans.image_pdf([scans.scan(digital, dpi=100)], tmp_path / "scan.pdf")
        page = parse_first(path, "pdf")
    finally:
        tessdata.tessdata_dir.cache_clear()
    assert page.ocr is None and page.text == ""
    assert [notice.code for notice in page.notices] == ["ocr_unavailable"]
    assert "traineddata" in page.notices[0].message


@pytest.mark.parametrize("languages", ["../etc/passwd", "kor eng", "", "kor+", "a" * 40])
def test_languages_cannot_name_a_path(languages: str) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"ocr_languages": languages}, ParseOptions)


MEMORY_PROBE = """
import resource, sys
from docparse.parsing import ParseOptions, ocr, open_document, parse_page
ocr.warm_up()  # as in a parse process that has read a page before
with open("/proc/self/status") as status:
    size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (size + int(sys.argv[2]) * 1024 * 1024, resource.RLIM_INFINITY))
try:
    page = parse_page(open_document(sys.argv[1], "png", None), 0, ParseOptions())
    print("completed", [(notice.code, notice.message) for notice in page.notices])
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def parse_with_little_memory(path: Path, megabytes: int) -> str:
    """What parse_page did with a PNG, in a process allowed `megabytes` more than it takes with Tesseract loaded."""
    command = [sys.executable, "-c", MEMORY_PROBE, str(path), str(megabytes)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    return run.stdout + run.stderr


def test_a_page_too_big_to_draw_fails_as_any_page_would(tmp_path: Path) -> None:
    """MuPDF running out of memory while drawing a page for OCR is the page's failure, which the parse process
    reports as memory_limit, not an OCR notice on a page that completes empty."""
    path = scans.huge_png(tmp_path / "big.png", 6_000)  # 36 MB decoded, within the bound on images drawn
    outcome = parse_with_little_memory(path, 40)
    assert outcome.startswith("Corrupt") and "malloc" in outcome, outcome


def test_an_image_file_too_big_to_draw_is_not_read(tmp_path: Path) -> None:
    """Outside PDF MuPDF decodes an image whole to draw it: a 20,000 px square PNG (400 MB decoded) is not drawn
    for OCR, and the page completes (as its text layer has it) with a notice saying why."""
    outcome = parse_with_little_memory(scans.huge_png(tmp_path / "huge.png", 20_000), 100)
    assert outcome.startswith("completed [('ocr_failed',") and "20000 x 20000 px" in outcome, outcome
