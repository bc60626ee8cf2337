"""OCR of pages without a usable text layer: Tesseract through tesserocr, one warm engine per process.

Measured here, five 200-dpi half-page scans each, one process: English (eng) 1.74 pages/s with a warm tesserocr
engine against 0.75 with PyMuPDF's get_textpage_ocr (a new Tesseract per page); Korean (kor+eng) 0.87 against
0.24, and PyMuPDF's Korean words came back cut into syllables (word recall 0.16 against 0.95). The traineddata
are the system's (Debian's tesseract-ocr-kor, -eng, -osd): none for Korean is on PyPI.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import pymupdf

from docparse.tessdata import (
    DEFAULT_LANGUAGES,
    installed_languages,
    missing_languages,
    orientation_available,
    tessdata_dir,
)

# Tesseract built with OpenMP runs every page on all cores; the worker runs one parse process per core already.
# Read by the OpenMP runtime when it loads, so set before tesserocr is imported (the PyPI wheel has no OpenMP).
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

ENGINE = "tesseract"

# Resolution of the picture Tesseract reads: the page's own scan resolution within these bounds, 300 dpi for
# pages without images. Tesseract wants letters 20+ px tall; below ~200 dpi body text gets too small, and
# above 300 the time grows with the pixels for no gain. A huge page gets fewer dpi rather than more pixels.
MIN_DPI, MAX_DPI, DEFAULT_DPI = 200, 300, 300
MAX_PIXELS = 40_000_000
_PAGE_INCHES = (8.27, 11.69)  # A4
_ENOUGH_PIXELS = _PAGE_INCHES[0] * MIN_DPI * _PAGE_INCHES[1] * MIN_DPI
# Orientation detection runs on every page read: 0.5-0.6 CPU-s, as long again as reading a page takes without it
# (1 page per CPU-second without, 0.6 with). Cheaper signals failed on the test scans: Korean on its side reads as
# level lines (Tesseract's layout analysis took its grid of syllables for rows) at a confidence of 78, where
# upright pages scored 83-95, and with 31% of its letters.
_MIN_ORIENTATION_CONFIDENCE = 2.0  # Tesseract's OSD margin; correct turns of the test scans scored 6.6-17
_MIN_DESKEW = math.radians(1.0)  # Tesseract absorbs smaller skews itself (and measured 0.6 degrees on level text)
# Korean pages (orientation detection names the script) are read as one column of lines, and their words that the
# English model took are read again by the Korean one. On the bench's five 200-dpi Korean scans Hangul recall went
# from 0.650, 0.976, 0.906, 0.923, 0.880 to 1.000, 0.990, 0.986, 0.964, 1.000: Tesseract's column finding takes
# the grid of syllables for columns and vertical text (a paragraph torn into fragments, the ends of lines dropped),
# and the English model claims Hangul words as Latin ("SUC ASA" for "씁니다. 저장소의"). Reading with `kor` alone
# did as well on Korean but read every English word as digits. A page whose layout analysis finds text columns
# side by side keeps the column finding (a single column would join the lines of both columns).
_HANGUL_SCRIPTS = frozenset({"Korean", "Hangul"})
_COLUMN_SHARE = 0.25  # a column is at least this share of the page's width
# A word the Korean model reads as Hangul syllables alone, punctuation around them aside: "^미로" for "API로" is
# no better reading than the English model's "APIZ"
_HANGUL_WORD = re.compile(r"[(\[\"'「『]?[\uac00-\ud7a3]+[.,;:!?)\]\"'」』]*")


class OcrUnavailable(Exception):
    """Tesseract, or traineddata for a requested language, is not installed."""


@dataclass(frozen=True)
class OcrLine:
    text: str
    bbox: tuple[float, float, float, float]  # in page coordinates (points, page as displayed)


@dataclass(frozen=True)
class OcrParagraph:
    lines: list[OcrLine]
    bbox: tuple[float, float, float, float]


@dataclass(frozen=True)
class OcrResult:
    paragraphs: list[OcrParagraph]
    confidence: float | None
    """Mean word confidence, 0-1; None when no word was found."""
    languages: str
    dpi: int
    angle: float
    """Degrees the picture was turned (anticlockwise) before it was read: 90/180/270 for sideways or upside-down
    scans, a few degrees for skewed ones."""


@cache
def _tesserocr() -> Any:
    try:
        import tesserocr
    except ImportError as exc:  # no wheel for this platform and no system build
        raise OcrUnavailable(f"tesserocr cannot be imported ({exc}).") from exc
    return tesserocr


def engine_version() -> str | None:
    """'tesseract 5.5.4', or None when tesserocr cannot be imported."""
    try:
        first = _tesserocr().tesseract_version().split("\n", 1)[0]
    except OcrUnavailable:
        return None
    return first.strip() or ENGINE


def available_languages() -> list[str]:
    """Languages OCR can read here, e.g. ['eng', 'kor']; empty when it cannot run at all."""
    return installed_languages() if engine_version() is not None else []


def check_languages(languages: str) -> None:
    """Raise OcrUnavailable naming what is missing to read `languages` ("kor+eng")."""
    if engine_version() is None:
        _tesserocr()  # raises with the import error
    if tessdata_dir() is None:
        raise OcrUnavailable("No Tesseract traineddata are installed (e.g. Debian's tesseract-ocr-eng).")
    missing = missing_languages(languages)
    if missing:
        raise OcrUnavailable(f"Tesseract has no traineddata for {', '.join(missing)} on this server.")


class _Engine:
    """One PyTessBaseAPI for one set of languages, kept loaded between pages (loading kor+eng takes ~0.7 s),
    and one for orientation detection, loaded when a page first needs it."""

    def __init__(self, languages: str) -> None:
        check_languages(languages)
        tesserocr = _tesserocr()
        self.languages = languages
        self._path = f"{tessdata_dir()}/"
        try:
            self.api = tesserocr.PyTessBaseAPI(path=self._path, lang=languages)
        except RuntimeError as exc:
            raise OcrUnavailable(f"Tesseract could not load {languages}: {exc}.") from exc
        self._osd: Any = None
        # Korean alone, for the words the other languages' models took on Korean pages
        self._korean: Any = None
        self.korean_fallback = "kor" in languages.split("+") and languages != "kor"

    def korean(self) -> Any:
        if self._korean is None:
            tesserocr = _tesserocr()
            self._korean = tesserocr.PyTessBaseAPI(path=self._path, lang="kor", psm=tesserocr.PSM.SINGLE_WORD)
        return self._korean

    def osd(self) -> Any:
        # A separate instance: DetectOrientationScript() on the reading instance aborted the process
        # (std::out_of_range inside Tesseract 5.5) when it had kor+eng loaded.
        if self._osd is None and orientation_available():
            tesserocr = _tesserocr()
            self._osd = tesserocr.PyTessBaseAPI(path=self._path, lang="osd", psm=tesserocr.PSM.OSD_ONLY)
        return self._osd

    def close(self) -> None:
        self.api.End()
        if self._osd is not None:
            self._osd.End()
        if self._korean is not None:
            self._korean.End()


_engine: _Engine | None = None


def engine(languages: str) -> _Engine:
    """The process's warm engine for `languages`; another language set replaces it (one set stays in memory)."""
    global _engine
    if _engine is None or _engine.languages != languages:
        if _engine is not None:
            _engine.close()
            _engine = None
        _engine = _Engine(languages)
    return _engine


def warm_up(languages: str = DEFAULT_LANGUAGES) -> bool:
    """Load the engine ahead of the first page; False when OCR is unavailable."""
    try:
        engine(languages)
    except OcrUnavailable:
        return False
    return True


def ocr_page(page: pymupdf.Page, languages: str = DEFAULT_LANGUAGES, dpi: int | None = None) -> OcrResult:
    """Read `page` as displayed with Tesseract: paragraphs and lines with boxes in page coordinates.

    Orientation detection comes first and turns a page scanned sideways or upside down; Tesseract's layout
    analysis then measures the skew, and a skewed page is straightened (else the recognition reuses that
    analysis). A page orientation detection finds Korean is read as one column unless that analysis found columns
    side by side, and its words read by another language's model are read again in Korean. Raises OcrUnavailable
    when Tesseract or a language is missing."""
    reader = engine(languages)
    dpi = dpi or _dpi(page)
    api = reader.api
    angle = 0.0
    picture = _Picture(page, dpi, angle)
    osd = reader.osd()
    korean = False
    if osd is not None:
        turn, script = picture.orientation(osd)
        korean = script in _HANGUL_SCRIPTS
        if turn:
            angle = float(-turn)
            picture = _Picture(page, dpi, angle)
    skew, columns = picture.skew(api)
    if abs(skew) >= _MIN_DESKEW:
        angle -= math.degrees(skew)
        picture = _Picture(page, dpi, angle)
    single_column = korean and not columns
    if single_column:
        api.SetPageSegMode(_tesserocr().PSM.SINGLE_COLUMN)
    try:
        result = picture.read(api, reader.korean() if korean and reader.korean_fallback else None)
    finally:
        if single_column:
            api.SetPageSegMode(_tesserocr().PSM.AUTO)
        api.Clear()  # the page's recognition results; the models stay loaded
    return OcrResult(
        paragraphs=result.paragraphs,
        confidence=round(result.confidence_100 / 100, 3) if result.paragraphs else None,
        languages=languages,
        dpi=dpi,
        angle=round(angle % 360, 2),
    )


def _dpi(page: pymupdf.Page) -> int:
    """The resolution of the page's biggest image (a scan's own), within MIN_DPI-MAX_DPI, and within MAX_PIXELS.

    An image with pixels enough for a page at MIN_DPI is never enlarged, whatever resolution it declares: photos
    of pages often say 72 dpi, and drawing a 2600 x 3600 px one at 200 dpi took 13 s instead of 3, and read worse."""
    best, area, pixels = float(DEFAULT_DPI), 0.0, 0
    for info in page.get_image_info():  # from the image headers, nothing decoded
        x0, y0, x1, y1 = info["bbox"]
        if (x1 - x0) * (y1 - y0) > area:
            area = (x1 - x0) * (y1 - y0)
            pixels = info["width"] * info["height"]
            best = math.sqrt(pixels / area) * 72  # whichever way the image is turned on the page
    enlarge = best >= MIN_DPI or pixels < _ENOUGH_PIXELS
    dpi = round(min(max(best, MIN_DPI), MAX_DPI)) if enlarge else round(best)
    rect = page.rect
    most = int(math.sqrt(MAX_PIXELS / max(1.0, rect.width * rect.height)) * 72)
    return max(1, min(dpi, most))


@dataclass
class _Read:
    paragraphs: list[OcrParagraph]
    words: int
    confidence_100: float


class _Picture:
    """The page drawn in grey at `dpi`, turned by `angle` degrees anticlockwise, and the way back to page points."""

    def __init__(self, page: pymupdf.Page, dpi: int, angle: float) -> None:
        zoom = dpi / 72
        matrix = pymupdf.Matrix(zoom, zoom).prerotate(angle)
        self.dpi = dpi
        self.pix = page.get_pixmap(matrix=matrix, colorspace=pymupdf.csGRAY, alpha=False, clip=page.rect)
        # Pixel (0, 0) is the corner (pix.x, pix.y) of the turned page; ~matrix leads back to page points.
        self._back = pymupdf.Matrix(1, 0, 0, 1, self.pix.x, self.pix.y) * ~matrix
        # Tesseract reads this buffer without copying it: one copy (pix.samples makes a new one each time),
        # alive as long as the picture.
        self._samples = self.pix.samples
        self._laid_out: Any = None  # the engine that holds this picture's layout analysis
        self._laid_out_psm: int | None = None  # and the segmentation mode it was made in

    def _set(self, api: Any) -> None:
        api.SetImageBytes(self._samples, self.pix.width, self.pix.height, 1, self.pix.stride)
        # What Tesseract is told: at least what a page-sized picture of this many pixels would have (a photo that
        # says 72 dpi is no 72-dpi picture; Tesseract sizes its noise filters by it).
        api.SetSourceResolution(max(self.dpi, round(max(self.pix.width, self.pix.height) / _PAGE_INCHES[1])))

    def skew(self, api: Any) -> tuple[float, bool]:
        """The skew Tesseract's layout analysis measures, in radians (turned by minus that, the lines are level),
        and whether it found text columns side by side. Recognize() reuses the analysis, so it costs nothing on a
        page read as it is."""
        self._set(api)
        self._laid_out, self._laid_out_psm = api, api.GetPageSegMode()
        layout = api.AnalyseLayout()
        if layout is None:
            return 0.0, False
        skew = float(layout.Orientation()[3])
        return skew, _side_by_side(layout, self.pix.width * _COLUMN_SHARE)

    def orientation(self, osd: Any) -> tuple[int, str | None]:
        """Degrees (0, 90, 180, 270) the picture is turned clockwise, by Tesseract's orientation detection, and the
        script it names ("Latin", "Korean", ...)."""
        self._set(osd)
        found = osd.DetectOrientationScript()
        if not found:
            return 0, None
        turn = int(found["orient_deg"]) % 360 if found["orient_conf"] >= _MIN_ORIENTATION_CONFIDENCE else 0
        return turn, found.get("script_name")

    def read(self, api: Any, korean: Any = None) -> _Read:
        """Recognize the picture; `korean`, a Korean-only engine, reads again the words another model took."""
        from tesserocr import RIL

        if self._laid_out is not api or api.GetPageSegMode() != self._laid_out_psm:
            self._set(api)
        self._laid_out = None
        api.Recognize()
        fixes = self._korean_words(api, korean) if korean is not None else {}
        page_lines = [line for line in (api.GetUTF8Text() or "").splitlines() if line.strip()]
        paragraphs: list[OcrParagraph] = []
        lines: list[OcrLine] = []
        para_box: tuple[float, float, float, float] | None = None
        iterator = api.GetIterator()
        if iterator is not None:
            iterator.Begin()
            number = 0
            while True:
                if iterator.IsAtBeginningOf(RIL.PARA):
                    if lines and para_box is not None:
                        paragraphs.append(OcrParagraph(lines=lines, bbox=para_box))
                    lines, para_box = [], self._box(iterator.BoundingBox(RIL.PARA))
                try:
                    text = iterator.GetUTF8Text(RIL.TEXTLINE).strip()
                except RuntimeError:  # tesserocr's way of saying the line holds no text
                    text = ""
                box = iterator.BoundingBox(RIL.TEXTLINE)
                if text and box is not None:
                    spaced = _spaced(text, page_lines)
                    for wrong, right in fixes.get(number, ()):
                        spaced = spaced.replace(wrong, right, 1)
                    lines.append(OcrLine(text=spaced, bbox=self._box(box)))
                number += 1
                if not iterator.Next(RIL.TEXTLINE):
                    break
            if lines and para_box is not None:
                paragraphs.append(OcrParagraph(lines=lines, bbox=para_box))
        confidences = api.AllWordConfidences()
        mean = sum(confidences) / len(confidences) if confidences else 0.0
        return _Read(paragraphs=paragraphs, words=len(confidences), confidence_100=mean)

    def _korean_words(self, api: Any, korean: Any) -> dict[int, list[tuple[str, str]]]:
        """Words of a Korean page that a model other than Korean read, read again by the Korean model alone, by
        line number: (as read, as the Korean model reads it) where that reads Hangul with more confidence. Real
        English words stay: the Korean model reads them as digits and symbols, at a lower confidence."""
        from tesserocr import RIL

        fixes: dict[int, list[tuple[str, str]]] = {}
        iterator = api.GetIterator()
        if iterator is None:
            return fixes
        iterator.Begin()
        number, ready = -1, False
        while True:
            if iterator.IsAtBeginningOf(RIL.TEXTLINE):
                number += 1
            box = iterator.BoundingBox(RIL.WORD)
            if box is not None and iterator.WordRecognitionLanguage() not in (None, "kor"):
                word = (iterator.GetUTF8Text(RIL.WORD) or "").strip()
                if not ready:
                    self._set(korean)
                    ready = True
                x0, y0, x1, y1 = box
                korean.SetRectangle(max(0, x0 - 4), max(0, y0 - 4), x1 - x0 + 8, y1 - y0 + 8)
                korean.Recognize()
                read = (korean.GetUTF8Text() or "").strip()
                if word and _HANGUL_WORD.fullmatch(read) and korean.MeanTextConf() > iterator.Confidence(RIL.WORD):
                    fixes.setdefault(number, []).append((word, read))
            if not iterator.Next(RIL.WORD):
                break
        if ready:
            korean.Clear()
        return fixes

    def _box(self, box: tuple[int, int, int, int] | None) -> tuple[float, float, float, float]:
        if box is None:
            return (0.0, 0.0, 0.0, 0.0)
        rect = pymupdf.Rect(box) * self._back
        return (round(rect.x0, 2), round(rect.y0, 2), round(rect.x1, 2), round(rect.y1, 2))


# --- garbage text layers ---
#
# ocr=auto also reads a page that images cover when its text layer is garbage: a scanner's bad OCR layer, or text
# whose font maps its glyphs to nothing usable. Measured on scans made here (the bench's 5 Korean and 5 English
# pages) with invisible junk layers of six kinds, 40 in all: every one caught; their correct text and Tesseract's own
# reading as the layer: none of the 20 caught. On the 5,210 pages with text of the corpus and its five large
# manuals: the characters alone flag 4 (each mostly control characters), and ocr=auto reads none. Word shapes
# alone are no evidence: 383 born-digital pages of reference manuals and tables have as many odd words as junk has
# (0.3 or more), but none of them is invisible text, which is what an OCR layer over a scan is.
_UNUSABLE_SHARE = 0.1  # replacement, private-use and control characters among the non-space characters
# Latin-1 letters among the letters (UTF-8 read as Latin-1: "ì\x9d" for "이"): Korean so read 0.6; the corpus' pages
# at most 0.12 (German: 0.03)
_MOJIBAKE_SHARE = 0.3
_LEAST_WORDS = 20  # Latin words enough to judge their shapes
_ODD_SHARE = 0.3  # good OCR layers 0.01-0.03; English OCR of Korean 0.48-0.69; glyphs mapped to ASCII 0.44-0.81
_FEWEST_COMMON = 0.05  # common words of western languages: good layers 0.28-0.34; letters shifted by a few 0.0
_EDGE_PUNCTUATION = ".,;:!?()[]{}\"'«»\u201c\u201d\u2018\u2019-\u2013\u2014/*"
# The commonest words of English, French, German, Spanish, Italian, Portuguese, Dutch and Swedish
_COMMON = """the of and to in is for that with as on by this be are or it from at an not which can if you
    le la les de des du et est un une pour dans que qui sur pas par au aux ce il elle
    der die das und ist nicht ein eine zu den von mit sich auf für im dem
    el los las del en por con una para es se lo como más
    di che della per non sono gli nel
    o os do da dos das em um uma com não
    het een van dat op te zijn voor niet met
    och att det som på är av för med"""
_COMMON_WORDS = frozenset(_COMMON.split())
_VOWELS = frozenset("aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœ")
_HANGUL_IN = re.compile(r"[\uac00-\ud7a3]")
_ODD_INSIDE = re.compile("[a-z][A-Z]|[^\\w'\u2019.\\-/:@#&+=%,]")
_LETTERS_AND_NUMBER = re.compile(r"[A-Za-z]+\d+|\d+[A-Za-z]{1,3}")  # x86, h264, 10th, 12pt: no oddity


def garbage_text(text: str, invisible: Any) -> str | None:
    """Why the text layer `text` is garbage, or None when it may be read. `invisible()` says whether the layer is
    mostly invisible text (an OCR layer over a scan); it is asked only when the characters alone do not decide."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return None
    unusable = sum(1 for c in chars if _unusable(c))
    if unusable >= _UNUSABLE_SHARE * len(chars):
        return "replacement, private-use or control characters"
    letters = [c for c in chars if c.isalpha()]
    latin1 = sum(1 for c in letters if "\u00c0" <= c <= "\u00ff")
    if letters and latin1 >= _MOJIBAKE_SHARE * len(letters):
        return "UTF-8 read as Latin-1"
    words = odd = common = 0
    for token in text.split():
        word = token.strip(_EDGE_PUNCTUATION)
        if not any("a" <= c <= "z" or "A" <= c <= "Z" for c in word) or _HANGUL_IN.search(word):
            continue  # Korean words, numbers and symbols: their shapes are not judged
        words += 1
        if word.lower() in _COMMON_WORDS:
            common += 1
        elif _odd(word):
            odd += 1
    if words < _LEAST_WORDS or (odd < _ODD_SHARE * words and common >= _FEWEST_COMMON * words):
        return None
    return "implausible words in an invisible text layer" if invisible() else None


def _unusable(c: str) -> bool:
    code = ord(c)
    return code < 32 or 0x7F <= code <= 0x9F or c == "\ufffd" or 0xE000 <= code <= 0xF8FF or code >= 0xF0000


def _odd(word: str) -> bool:
    """A word no language writes: all capitals and short (OCR's reading of Hangul: "ASS", "EMS"), letters and
    digits mixed ("SAr7t"), a capital inside ("APSorsAl2"), a symbol inside ("SO]"), or no vowel at all."""
    letters = [c for c in word if c.isalpha()]
    if len(letters) < 2:
        return bool(_ODD_INSIDE.search(word))
    return (
        (word.isupper() and len(word) <= 5)
        or (any(c.isdigit() for c in word) and not _LETTERS_AND_NUMBER.fullmatch(word))
        or bool(_ODD_INSIDE.search(word))
        or not any(c.lower() in _VOWELS for c in letters)
    )


def _side_by_side(layout: Any, least_width: float) -> bool:
    """Whether the layout analysis found two text blocks at least `least_width` wide side by side: columns."""
    from tesserocr import RIL

    wide: list[tuple[int, int, int, int]] = []
    layout.Begin()
    while True:
        box = layout.BoundingBox(RIL.BLOCK)
        if box is not None and box[2] - box[0] >= least_width and _is_text(layout.BlockType()):
            wide.append(box)
        if not layout.Next(RIL.BLOCK):
            break
    return any(
        (a[2] <= b[0] or b[2] <= a[0]) and min(a[3], b[3]) > max(a[1], b[1])  # apart across, level down
        for i, a in enumerate(wide)
        for b in wide[i + 1 :]
    )


def _is_text(block_type: int) -> bool:
    from tesserocr import PT

    return block_type in (PT.FLOWING_TEXT, PT.HEADING_TEXT, PT.PULLOUT_TEXT, PT.CAPTION_TEXT, PT.TABLE)


def _spaced(line: str, page_lines: list[str]) -> str:
    """The line as the page text spells it.

    tesserocr's iterator joins a line's words with a space each, and Tesseract's Korean model cuts words into
    pieces ("인 간 은" for "인간은": word recall 0.51 instead of 0.95), while the page text keeps Tesseract's own
    spacing. The page text holds the same lines in the same order; the first (near the front) that matches the
    line letter for letter is used and dropped, so that repeated lines pair up in order."""
    letters = "".join(line.split())
    for i, candidate in enumerate(page_lines[:4]):
        if "".join(candidate.split()) == letters:
            del page_lines[: i + 1]
            return candidate.strip()
    return line
