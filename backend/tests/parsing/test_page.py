"""parse_page: text, blocks, links, images, tables and markdown, for PDFs and the other formats."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pymupdf
import pytest

from docparse.errors import Corrupt, InvalidRequest
from docparse.parsing import Page, ParseOptions, open_document, parse_page

from .samples import PNG_SIZE, TABLE, page_words


@pytest.fixture
def pdf(pdf_path: Path) -> Iterator[pymupdf.Document]:
    doc = open_document(pdf_path, "pdf", None)
    yield doc
    doc.close()


def parse_first(path: Path, file_type: str, options: ParseOptions | None = None) -> Page:
    doc = open_document(path, file_type, None)
    try:
        return parse_page(doc, 0, options or ParseOptions())
    finally:
        doc.close()


def inside(bbox: tuple[float, float, float, float], page: Page) -> bool:
    x0, y0, x1, y1 = bbox
    return 0 <= x0 <= x1 <= page.width + 0.01 and 0 <= y0 <= y1 <= page.height + 0.01


def test_text_is_exactly_get_text(pdf: pymupdf.Document) -> None:
    for index in range(pdf.page_count):
        page = parse_page(pdf, index, ParseOptions())
        assert page.text == pdf[index].get_text()
        assert page_words(index + 1) in page.text
        assert page.number == index + 1


def test_page_fields(pdf: pymupdf.Document) -> None:
    page = parse_page(pdf, 0, ParseOptions())
    assert (page.width, page.height, page.rotation) == (595, 842, 0)
    assert page.char_count == len("".join(page.text.split()))
    assert page.tables == [] and page.markdown is None  # opt-in only
    assert page.warnings == []
    texts = [block for block in page.blocks if block.type == "text"]
    assert any(page_words(1) in (block.text or "") for block in texts)
    for block in page.blocks:
        assert inside(block.bbox, page)
        assert all(round(value, 2) == value for value in block.bbox)


def test_rotated_page_reports_what_is_displayed(pdf: pymupdf.Document) -> None:
    """PyMuPDF gives text in unrotated coordinates but links in rotated ones; both come out as displayed."""
    page = parse_page(pdf, 3, ParseOptions())
    assert page.rotation == 90
    assert (page.width, page.height) == (842, 595)
    assert page_words(4) in page.text
    assert all(inside(block.bbox, page) for block in page.blocks)
    words = next(block for block in page.blocks if page_words(4) in (block.text or ""))
    # Written at y 108-123 on the upright page; turned by 90 degrees that is x 842-123 .. 842-108.
    assert 718 < words.bbox[0] < words.bbox[2] < 735
    (link,) = page.links
    assert link.bbox[0] <= words.bbox[0] and words.bbox[2] <= link.bbox[2]
    assert link.bbox[1] <= words.bbox[1] and words.bbox[3] <= link.bbox[3]


def test_tables_on_a_rotated_page(table_pdf: Path, docs_dir: Path) -> None:
    doc = pymupdf.open(table_pdf)
    doc[0].set_rotation(90)
    path = docs_dir / "table-rotated.pdf"
    doc.save(path)
    doc.close()
    page = parse_first(path, "pdf", ParseOptions(tables=True, markdown=True))
    (table,) = page.tables
    # Rows are as displayed: turned by 90 degrees, the upright first column reads bottom to top.
    assert table.cells == [list(reversed(column)) for column in zip(*TABLE, strict=True)]
    assert table.bbox == (652, 72, 742, 400)  # x 72-400, y 100-190 upright
    assert page.markdown and "| pear | apple | Name |" in page.markdown


def test_links(pdf: pymupdf.Document) -> None:
    links = parse_page(pdf, 0, ParseOptions()).links
    assert [(link.kind, link.uri, link.page) for link in links] == [
        ("uri", "https://example.org/", None),
        ("goto", None, 4),
    ]
    assert links[0].bbox == (72, 100, 300, 125)
    assert parse_page(pdf, 0, ParseOptions(links=False)).links == []


def test_images(pdf: pymupdf.Document) -> None:
    page = parse_page(pdf, 1, ParseOptions())
    assert len(page.images) == 1
    image = page.images[0]
    assert (image.width, image.height) == PNG_SIZE
    assert image.bbox == (100, 300, 300, 450)
    assert image.colorspace
    assert [block.type for block in page.blocks].count("image") == 1

    without = parse_page(pdf, 1, ParseOptions(images=False))
    assert without.images == [] and all(block.type == "text" for block in without.blocks)
    assert without.text == page.text


def test_images_agree_with_get_image_info(pdf: pymupdf.Document) -> None:
    info = pdf[1].get_image_info()
    images = parse_page(pdf, 1, ParseOptions()).images
    assert [(i["width"], i["height"]) for i in info] == [(i.width, i.height) for i in images]


def test_tables(table_pdf: Path) -> None:
    page = parse_first(table_pdf, "pdf", ParseOptions(tables=True))
    assert len(page.tables) == 1
    table = page.tables[0]
    assert (table.row_count, table.col_count) == (3, 3)
    assert table.cells == TABLE
    assert table.bbox == (72, 100, 400, 190)


def test_markdown(pdf: pymupdf.Document) -> None:
    markdown = parse_page(pdf, 0, ParseOptions(markdown=True)).markdown
    assert markdown is not None
    assert markdown.startswith("# Heading 1\n")  # 24 pt against 11 pt body text
    assert page_words(1) in markdown


def test_markdown_shapes(docs_dir: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Big Title", fontsize=22)
    page.insert_text((72, 110), "Section", fontsize=15)
    page.insert_text((72, 140), "A paragraph broken in a hyphen-\nated way, and on.", fontsize=11)
    page.insert_text((72, 200), "\u2022 first item\n\u2022 second item\n  continued", fontsize=11)
    page.insert_text((72, 260), "def f(x):\n    return x", fontsize=11, fontname="cour")
    page.insert_text((72, 320), "# not a heading", fontsize=11)
    path = docs_dir / "markdown.pdf"
    doc.save(path)
    doc.close()
    assert parse_first(path, "pdf", ParseOptions(markdown=True)).markdown == (
        "# Big Title\n\n"
        "## Section\n\n"
        "A paragraph broken in a hyphen-ated way, and on.\n\n"
        "- first item\n- second item continued\n\n"
        "```\ndef f(x):\n    return x\n```\n\n"
        "\\# not a heading\n"
    )


def test_markdown_with_tables(table_pdf: Path) -> None:
    markdown = parse_first(table_pdf, "pdf", ParseOptions(tables=True, markdown=True)).markdown
    assert markdown == (
        "# Fruit prices\n\n| Name | Qty | Price |\n| --- | --- | --- |\n| apple | 3 | 1.20 |\n| pear | 5 | 0.80 |\n"
    )


def test_markdown_of_an_empty_page(png_file: Path) -> None:
    assert parse_first(png_file, "png", ParseOptions(markdown=True)).markdown == ""


def test_encodes_to_json(pdf: pymupdf.Document) -> None:
    page = parse_page(pdf, 1, ParseOptions(tables=True, markdown=True))
    data = msgspec.json.decode(msgspec.json.encode(page))
    assert set(data) == {
        "number", "width", "height", "rotation", "text", "char_count", "blocks",
        "links", "images", "tables", "markdown", "warnings", "ocr", "notices",
    }  # fmt: skip
    assert set(data["images"][0]) == {"bbox", "width", "height", "colorspace", "xref"}
    assert msgspec.json.decode(msgspec.json.encode(page), type=Page) == page


def test_index_out_of_range(pdf: pymupdf.Document) -> None:
    with pytest.raises(InvalidRequest):
        parse_page(pdf, 4, ParseOptions())
    with pytest.raises(InvalidRequest):
        parse_page(pdf, -1, ParseOptions())


def test_broken_page_is_corrupt(docs_dir: Path) -> None:
    """A page whose content cannot be interpreted fails as Corrupt, naming the page."""
    doc = pymupdf.open()
    doc.new_page()
    doc.new_page()
    path = docs_dir / "broken-page.pdf"
    doc.save(path)
    doc.close()
    opened = open_document(path, "pdf", None)
    try:
        parse_page(opened, 0, ParseOptions())
        page = opened[1]
        opened.update_object(page.xref, "<< /Type /Page /Parent 1 0 R /MediaBox [0 0 0] >>")
        try:
            result = parse_page(opened, 1, ParseOptions())
        except Corrupt as exc:
            assert exc.message.startswith("Page 2 could not be read")
        else:  # MuPDF may repair it instead; then it must still be a page
            assert result.number == 2
    finally:
        opened.close()


@pytest.mark.parametrize(
    ("fixture", "file_type", "words"),
    [
        ("text_file", "txt", ["zebra"]),
        ("epub_file", "epub", ["Ishmael", "Chapter"]),
        ("xps_file", "xps", ["Hello", "XPS"]),
        ("svg_file", "svg", ["Hello", "SVG"]),
    ],
)
def test_other_formats_text(fixture: str, file_type: str, words: list[str], request: pytest.FixtureRequest) -> None:
    page = parse_first(request.getfixturevalue(fixture), file_type, ParseOptions(markdown=True))
    for word in words:
        assert word in page.text
        assert page.markdown and word in page.markdown


def test_png_page_is_one_image(png_file: Path) -> None:
    page = parse_first(png_file, "png")
    assert page.text == "" and page.char_count == 0
    assert [(image.width, image.height, image.xref) for image in page.images] == [(*PNG_SIZE, None)]


def test_cbz_pages(cbz_file: Path) -> None:
    doc = open_document(cbz_file, "cbz", None)
    try:
        assert doc.page_count == 3
        pages = [parse_page(doc, index, ParseOptions()) for index in range(3)]
    finally:
        doc.close()
    assert [(page.images[0].width, page.images[0].height) for page in pages] == [(60, 80)] * 3
