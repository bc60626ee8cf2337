"""Parsing one page: text, blocks, images and links from a single text pass; tables and markdown when asked."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pymupdf
from pymupdf import mupdf

from docparse.errors import Corrupt, DocparseError, InvalidRequest
from docparse.messages import Msg
from docparse.parsing.engine import mupdf_reason, take_warnings
from docparse.parsing.markdown import page_markdown
from docparse.parsing.ocr import OcrResult, OcrUnavailable, engine_version, garbage_text, ocr_page
from docparse.parsing.render import MAX_IMAGE_PIXELS
from docparse.results import BBox, Block, Image, Link, Notice, Page, PageOcr, ParseOptions, Table
from docparse.tessdata import DEFAULT_LANGUAGES

# The flags page.get_text() uses, so that our text is its text. With PRESERVE_IMAGES the same pass also lists the
# images (bbox and pixel size, without decoding them) at no measurable cost, while page.get_image_info() would run
# the page a second time and halve the speed.
_TEXT_FLAGS = pymupdf.TEXTFLAGS_TEXT
_TEXT_AND_IMAGE_FLAGS = pymupdf.TEXTFLAGS_TEXT | pymupdf.TEXT_PRESERVE_IMAGES
# How extractBLOCKS() describes an image block; the colour space name may itself contain commas.
_IMAGE_TEXT = re.compile(r"<image: (.*), width: (\d+), height: (\d+), bpc: \d+>")
_TEXT_BLOCK, _IMAGE_BLOCK = 0, 1
_EXPLICIT_PAGE = re.compile(r"#page=(\d+)(?:&|$)")
# ocr=auto reads a page that images cover at least this share of (a scan, a photo, an image file) when its text
# layer has fewer letters than this or is garbage (ocr.garbage_text). A scanner's stamp or a page number
# ("ABC-000123") is no usable text layer.
_USABLE_TEXT = 20
_SCANNED_COVERAGE = 0.5
_INVISIBLE_SHARE = 0.5  # of the characters drawn invisibly (render mode 3 or transparent): an OCR layer


def parse_page(
    doc: pymupdf.Document, index: int, options: ParseOptions, *, on_ocr: Callable[[], None] | None = None
) -> Page:
    """Parse page `index` (zero-based). MuPDF failures become Corrupt, naming the page and what MuPDF said.

    `on_ocr` is called when the page turns out to need OCR, before Tesseract starts (it takes seconds)."""
    if not 0 <= index < doc.page_count:
        raise InvalidRequest(Msg("pages.beyond", first=index + 1, count=doc.page_count))
    try:
        return _parse(doc.load_page(index), options, on_ocr)
    except (DocparseError, MemoryError):
        raise
    except Exception as exc:
        take_warnings()  # drop this page's leftovers so they are not blamed on the next page
        reason = mupdf_reason(exc) or str(exc) or type(exc).__name__
        raise Corrupt(f"Page {index + 1} could not be read: {reason}.") from exc


def _parse(page: pymupdf.Page, options: ParseOptions, on_ocr: Callable[[], None] | None = None) -> Page:
    # OCR looks at the images whether or not they are asked for: it is the same pass.
    with_images = options.images or options.ocr != "never"
    textpage = page.get_textpage(flags=_TEXT_AND_IMAGE_FLAGS if with_images else _TEXT_FLAGS)
    # PyMuPDF gives text and images in the coordinates of the unrotated page, but links and tables in those of
    # the page as displayed (page.rect). Everything here is reported as displayed.
    rotation = page.rotation
    to_display = page.rotation_matrix if rotation else None
    # The page text is the text blocks joined, not a second extraction (extractText() would cost 10-15% more).
    # Measured on the corpus: identical to page.get_text() on 2795 of 2809 pages; the others differ only where
    # glyphs have no size (get_text() puts each of them on a line of its own, "H\ne\nl\nl\no" for "Hello").
    blocks, images, text = _blocks(textpage.extractBLOCKS(), to_display)
    tables = _tables(page, textpage) if options.tables else []
    rect = page.rect
    char_count = len("".join(text.split()))
    markdown = page_markdown(page, tables) if options.markdown else None
    ocr: PageOcr | None = None
    notices: list[Notice] = []
    if _needs_ocr(page, options, text, char_count, images):
        if on_ocr is not None:
            on_ocr()
        try:
            ocr, read = _ocr(page, options.ocr_languages or DEFAULT_LANGUAGES, images)
        except _OcrNotice as notice:
            notices.append(notice.notice)
        else:
            # The picture holds the text layer's few letters too, so the OCR text replaces it.
            blocks = [block for block in blocks if block.type == "image"] + read
            text = "".join(f"{block.text}\n" for block in read)
            char_count = len("".join(text.split()))
            if options.markdown:
                markdown = "\n\n".join(block.text or "" for block in read)
    if not options.images and images:  # listed for ocr=auto only
        blocks = [block for block in blocks if block.type != "image"]
        images = []
    return Page(
        number=page.number + 1,
        width=round(rect.width, 2),
        height=round(rect.height, 2),
        rotation=rotation,
        text=text,
        char_count=char_count,
        blocks=blocks,
        links=_links(page) if options.links else [],
        images=images,
        tables=tables,
        markdown=markdown,
        warnings=take_warnings(),
        ocr=ocr,
        notices=notices,
    )


def _needs_ocr(page: pymupdf.Page, options: ParseOptions, text: str, char_count: int, images: list[Image]) -> bool:
    """always: every page; never: none; auto: a page that images cover whose text layer is missing, too short to
    be of use, or garbage. Born-digital pages stop at the first test (no image, or images covering little)."""
    if options.ocr != "auto":
        return options.ocr == "always"
    if not images:
        return False
    rect = page.rect
    page_area: float = rect.width * rect.height
    # overlaps count twice: rare, harmless
    covered: float = sum(abs(pymupdf.Rect(image.bbox) & rect) for image in images)
    if page_area <= 0 or covered / page_area < _SCANNED_COVERAGE:
        return False
    return char_count < _USABLE_TEXT or garbage_text(text, lambda: _invisible(page)) is not None


def _invisible(page: pymupdf.Page) -> bool:
    """Whether most of the page's characters are drawn invisibly, as an OCR layer over a scan is."""
    drawn = hidden = 0
    for span in page.get_texttrace():
        count = len(span["chars"])
        drawn += count
        if span["type"] == 3 or span.get("opacity", 1) == 0:
            hidden += count
    return drawn > 0 and hidden >= _INVISIBLE_SHARE * drawn


class _OcrNotice(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.notice = Notice(code=code, message=message)


def _ocr(page: pymupdf.Page, languages: str, images: list[Image]) -> tuple[PageOcr, list[Block]]:
    """The page read by Tesseract: how, and its paragraphs as text blocks. Raises _OcrNotice when it cannot be."""
    if not page.parent.is_pdf:  # outside PDF, MuPDF decodes an image whole to draw it at any size
        for image in images:
            if (image.width or 0) * (image.height or 0) > MAX_IMAGE_PIXELS:
                raise _OcrNotice(
                    "ocr_failed",
                    f"This page holds a {image.width} x {image.height} px image, too big to draw for OCR "
                    f"(at most {MAX_IMAGE_PIXELS / 1e6:g} megapixels).",
                )
    try:
        result = ocr_page(page, languages)
    except OcrUnavailable as exc:
        raise _OcrNotice("ocr_unavailable", f"This page needs OCR, which this server lacks: {exc}") from exc
    except MemoryError:
        raise
    except Exception as exc:
        if mupdf_reason(exc) is not None:  # MuPDF drawing the page failed (e.g. out of memory): as any page would
            raise
        # Tesseract failing on one page leaves the page as its text layer has it
        raise _OcrNotice("ocr_failed", f"OCR failed on this page: {exc or type(exc).__name__}.") from exc
    info = PageOcr(
        engine=engine_version() or "tesseract",
        languages=languages,
        confidence=result.confidence,
        dpi=result.dpi,
        angle=result.angle,
    )
    return info, _ocr_blocks(result)


def _ocr_blocks(result: OcrResult) -> list[Block]:
    return [
        Block(type="text", bbox=paragraph.bbox, text="\n".join(line.text for line in paragraph.lines))
        for paragraph in result.paragraphs
    ]


def _bbox(x0: float, y0: float, x1: float, y1: float, matrix: pymupdf.Matrix | None = None) -> BBox:
    if matrix is not None:
        x0, y0, x1, y1 = pymupdf.Rect(x0, y0, x1, y1) * matrix
    # round(v * 100) / 100 is round(v, 2) at half the cost; this runs for every block, image and link.
    return (round(x0 * 100) / 100, round(y0 * 100) / 100, round(x1 * 100) / 100, round(y1 * 100) / 100)


def _blocks(raw: list[tuple[Any, ...]], to_display: pymupdf.Matrix | None) -> tuple[list[Block], list[Image], str]:
    """Blocks in MuPDF's order, the image blocks again as images with their pixel size, and the page's text."""
    blocks: list[Block] = []
    images: list[Image] = []
    lines: list[str] = []
    for x0, y0, x1, y1, content, _number, kind in raw:
        bbox = _bbox(x0, y0, x1, y1, to_display)
        if kind == _TEXT_BLOCK:
            lines.append(content)  # each line ends in a newline, as in get_text()
            blocks.append(Block(type="text", bbox=bbox, text=content.rstrip("\n")))
        elif kind == _IMAGE_BLOCK:
            blocks.append(Block(type="image", bbox=bbox, text=None))
            described = _IMAGE_TEXT.match(content)
            width, height = (int(described[2]), int(described[3])) if described else (None, None)
            colorspace = described[1] if described else None
            images.append(Image(bbox=bbox, width=width, height=height, colorspace=colorspace))
    return blocks, images, "".join(lines)


def _links(page: pymupdf.Page) -> list[Link]:
    """The page's links, read from MuPDF directly.

    page.get_links() builds a dict per link and resolves named destinations by listing all of the document's
    names for every link: 0.4-0.8 ms per page on link-rich PDFs, as much as the text itself. This loop gives the
    same targets for 0.03-0.15 ms.
    """
    doc = page.parent
    page_count = doc.page_count
    links: list[Link] = []
    link = mupdf.fz_load_links(page.this)
    while link.m_internal:
        uri = link.m_internal.uri or ""
        rect = link.rect()
        bbox = _bbox(rect.x0, rect.y0, rect.x1, rect.y1)
        if mupdf.fz_is_external_link(uri):
            links.append(Link(kind="uri", bbox=bbox, uri=uri, page=None))
        elif uri:
            links.append(Link(kind="goto", bbox=bbox, uri=None, page=_target_page(doc, page_count, uri)))
        link = link.next()
    return links


def _target_page(doc: pymupdf.Document, page_count: int, uri: str) -> int | None:
    """The 1-based page an internal link leads to, None if it leads nowhere."""
    # MuPDF writes explicit PDF destinations as "#page=N&...": read N rather than ask MuPDF again, which
    # costs 13 µs a link (the other URIs, "#nameddest=..." or EPUB paths, must be resolved).
    explicit = _EXPLICIT_PAGE.match(uri)
    if explicit:
        number = int(explicit[1])
        return number if 1 <= number <= page_count else None
    # Resolving a named destination scans the document's name tree: remember each one per document.
    targets: dict[str, int | None] = doc.__dict__.setdefault("_docparse_link_targets", {})
    if uri not in targets:
        index = doc.resolve_link(uri)[0]
        targets[uri] = index + 1 if index >= 0 else None
    return targets[uri]


def _tables(page: pymupdf.Page, textpage: pymupdf.TextPage) -> list[Table]:
    # use_layout=False: by default PyMuPDF 2.0 first runs its layout model (onnxruntime) on the page, keeps the
    # ruled tables it confirms and adds borderless ones it sees. Measured here: 4.5-5 pages/s with the model,
    # 14-27 pages/s with line-based detection alone (about pdfplumber's speed). The price: ruled tables only
    # (on 30 pages of a manual the model found 4 borderless tables, the lines none; on another it dropped 4 of 8).
    finder = page.find_tables(use_layout=False)
    if finder is None:  # find_tables() swallows its own exceptions, logs them and returns None
        return []
    words = textpage.extractWORDS()
    to_text = page.derotation_matrix if page.rotation else None
    return [
        Table(
            bbox=_bbox(*table.bbox),
            row_count=table.row_count,
            col_count=table.col_count,
            cells=_cell_texts(table, words, to_text),
        )
        for table in finder.tables
    ]


def _cell_texts(table: Any, words: list[tuple[Any, ...]], to_text: pymupdf.Matrix | None) -> list[list[str | None]]:
    """Each cell's words, by the text pass.

    Not Table.extract(): in PyMuPDF 2.0 it splits small glyphs onto lines of their own and drops spaces
    ("0.965" comes out as "0965\\n.", "ID of the function." as "IDofthefunction\\n."), on 40 of 423 cells
    of the corpus' tables. A word belongs to the cell that holds its centre.
    """
    x0, y0, x1, y1 = _text_rect(table.bbox, to_text)
    candidates = [word for word in words if x0 <= (word[0] + word[2]) / 2 <= x1 and y0 <= (word[1] + word[3]) / 2 <= y1]
    return [
        [None if cell is None else _text_in(_text_rect(cell, to_text), candidates) for cell in row.cells]
        for row in table.rows
    ]


def _text_rect(bbox: tuple[float, float, float, float], to_text: pymupdf.Matrix | None) -> tuple[float, ...]:
    return tuple(pymupdf.Rect(bbox) * to_text) if to_text is not None else bbox


def _text_in(rect: tuple[float, ...], words: list[tuple[Any, ...]]) -> str:
    """The words whose centre lies in `rect`, in reading order: spaces within a line, newlines between lines."""
    x0, y0, x1, y1 = rect
    inside = sorted(
        (word for word in words if x0 <= (word[0] + word[2]) / 2 <= x1 and y0 <= (word[1] + word[3]) / 2 <= y1),
        key=lambda word: (word[5], word[6], word[7]),  # block, line, word numbers
    )
    lines: dict[tuple[int, int], list[str]] = {}
    for word in inside:
        lines.setdefault((word[5], word[6]), []).append(word[4])
    return "\n".join(" ".join(line) for line in lines.values())
