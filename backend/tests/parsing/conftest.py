"""Documents for the parsing tests, made on the spot with PyMuPDF and zipfile (nothing copied from elsewhere)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pymupdf
import pytest

from .samples import OWNER_PASSWORD, TABLE, USER_PASSWORD, build_pdf, png_bytes, save


@pytest.fixture(scope="session")
def docs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("parsing-docs")


@pytest.fixture(scope="session")
def pdf_path(docs_dir: Path) -> Path:
    return save(build_pdf(), docs_dir / "fixture.pdf")


@pytest.fixture(scope="session")
def encrypted_pdf(docs_dir: Path) -> Path:
    """AES-256 with a user password."""
    return save(
        build_pdf(2),
        docs_dir / "encrypted.pdf",
        encryption=pymupdf.PDF_ENCRYPT_AES_256,
        user_pw=USER_PASSWORD,
        owner_pw=OWNER_PASSWORD,
    )


@pytest.fixture(scope="session")
def owner_only_pdf(docs_dir: Path) -> Path:
    """AES-256 with an owner password only: the user password is empty, so it opens without one."""
    return save(
        build_pdf(2), docs_dir / "owner-only.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw=OWNER_PASSWORD
    )


@pytest.fixture(scope="session")
def table_pdf(docs_dir: Path) -> Path:
    """One page with a ruled 3x3 table below a line of text."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 60), "Fruit prices", fontsize=18)
    x = [72, 200, 300, 400]
    y = [100, 130, 160, 190]
    for xi in x:
        page.draw_line((xi, y[0]), (xi, y[-1]))
    for yi in y:
        page.draw_line((x[0], yi), (x[-1], yi))
    for row, cells in enumerate(TABLE):
        for col, cell in enumerate(cells):
            page.insert_text((x[col] + 5, y[row] + 20), cell, fontsize=11)
    return save(doc, docs_dir / "table.pdf")


@pytest.fixture(scope="session")
def corrupt_pdf(docs_dir: Path) -> Path:
    """A PDF header followed by garbage."""
    path = docs_dir / "corrupt.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    return path


@pytest.fixture(scope="session")
def truncated_pdf(docs_dir: Path, pdf_path: Path) -> Path:
    path = docs_dir / "truncated.pdf"
    data = pdf_path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.fixture(scope="session")
def random_file(docs_dir: Path) -> Path:
    path = docs_dir / "random.bin"
    path.write_bytes(os.urandom(4096))
    return path


@pytest.fixture(scope="session")
def text_file(docs_dir: Path) -> Path:
    path = docs_dir / "plain.txt"
    path.write_text("Plain text fixture.\nIt has two lines and the word zebra.\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def png_file(docs_dir: Path) -> Path:
    path = docs_dir / "image.png"
    path.write_bytes(png_bytes())
    return path


@pytest.fixture(scope="session")
def jpeg_file(docs_dir: Path) -> Path:
    path = docs_dir / "image.jpg"
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 32, 16), False)
    pix.clear_with(90)
    path.write_bytes(pix.tobytes("jpg"))
    return path


@pytest.fixture(scope="session")
def pnm_file(docs_dir: Path) -> Path:
    path = docs_dir / "image.ppm"
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 16, 8), False)
    pix.clear_with(30)
    path.write_bytes(pix.tobytes("ppm"))
    return path


@pytest.fixture(scope="session")
def psd_file(docs_dir: Path) -> Path:
    path = docs_dir / "image.psd"
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 16, 8), False)
    pix.clear_with(60)
    pix.save(path)
    return path


@pytest.fixture(scope="session")
def svg_file(docs_dir: Path) -> Path:
    path = docs_dir / "drawing.svg"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- a comment before the root -->\n"
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">'
        '<rect x="10" y="10" width="80" height="40" fill="teal"/>'
        '<text x="10" y="80" font-size="20">Hello SVG</text></svg>\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def epub_file(docs_dir: Path) -> Path:
    """A one-chapter EPUB 3, mimetype stored first as the OCF spec asks."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        z.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">fixture</dc:identifier>'
            "<dc:title>Fixture Book</dc:title><dc:creator>Ishmael</dc:creator><dc:language>en</dc:language>"
            "</metadata>"
            '<manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest>'
            '<spine><itemref idref="c1"/></spine></package>',
        )
        z.writestr(
            "OEBPS/c1.xhtml",
            '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>One</title></head>'
            "<body><h1>Chapter One</h1><p>Call me Ishmael, said the whale of a fixture.</p></body></html>",
        )
    path = docs_dir / "book.epub"
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture(scope="session")
def cbz_file(docs_dir: Path) -> Path:
    """A comic book archive of three PNG pages."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for number in range(1, 4):
            z.writestr(f"page{number:02d}.png", png_bytes(60, 80, shade=40 * number))
    path = docs_dir / "comic.cbz"
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture(scope="session")
def xps_file(docs_dir: Path) -> Path:
    """A one-page XPS with a path and a line of text (the font is PyMuPDF's built-in Helvetica)."""
    ns = "http://schemas.microsoft.com/xps/2005/06"
    content_types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="fdseq" ContentType="application/vnd.ms-package.xps-fixeddocumentsequence+xml"/>'
        '<Default Extension="fdoc" ContentType="application/vnd.ms-package.xps-fixeddocument+xml"/>'
        '<Default Extension="fpage" ContentType="application/vnd.ms-package.xps-fixedpage+xml"/>'
        '<Default Extension="ttf" ContentType="application/vnd.ms-opentype"/></Types>'
    )
    rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="R1" Type="http://schemas.microsoft.com/xps/2005/06/fixedrepresentation"'
        ' Target="/FixedDocumentSequence.fdseq"/></Relationships>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", rels)
        z.writestr(
            "FixedDocumentSequence.fdseq",
            f'<FixedDocumentSequence xmlns="{ns}"><DocumentReference Source="/Documents/1/FixedDocument.fdoc"/>'
            "</FixedDocumentSequence>",
        )
        z.writestr(
            "Documents/1/FixedDocument.fdoc",
            f'<FixedDocument xmlns="{ns}"><PageContent Source="/Documents/1/Pages/1.fpage"/></FixedDocument>',
        )
        z.writestr("Documents/1/Resources/font.ttf", pymupdf.Font("helv").buffer)
        z.writestr(
            "Documents/1/Pages/1.fpage",
            f'<FixedPage xmlns="{ns}" Width="816" Height="1056" xml:lang="en-US">'
            '<Path Data="M 10,10 L 100,10 100,100 Z" Fill="#FF0000"/>'
            '<Glyphs Fill="#000000" FontUri="/Documents/1/Resources/font.ttf" FontRenderingEmSize="16"'
            ' OriginX="50" OriginY="200" UnicodeString="Hello XPS world"/></FixedPage>',
        )
    path = docs_dir / "paper.xps"
    path.write_bytes(buf.getvalue())
    return path
