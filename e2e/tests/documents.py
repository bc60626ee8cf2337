"""Test documents made on the spot: real PDFs (PyMuPDF), an EPUB (zipfile), a PNG, and deliberately bad files."""

from __future__ import annotations

import io
import random
import zipfile

import pymupdf

LINK_URI = "https://example.org/docparse-e2e"
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
TABLE_ROWS = [("Item", "Qty", "Price"), ("Apple", "3", "1.20"), ("Pear", "5", "0.80"), ("Plum", "12", "2.50")]


def _picture_png(width: int = 120, height: int = 80) -> bytes:
    """A small coloured PNG (a gradient), made by PyMuPDF."""
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, height), False)
    samples = bytearray(pix.samples)
    for y in range(height):
        for x in range(width):
            i = (y * width + x) * 3
            samples[i : i + 3] = bytes(((40 + x * 2) % 256, (90 + y * 2) % 256, 200))
    return pymupdf.Pixmap(pymupdf.csRGB, width, height, bytes(samples), False).tobytes("png")


def _draw_table(page: pymupdf.Page, top: float) -> pymupdf.Rect:
    """A 4 x 3 table ruled with lines, its cells filled with words; returns its rectangle."""
    left, col, row = 72, 110, 22
    rect = pymupdf.Rect(left, top, left + col * 3, top + row * len(TABLE_ROWS))
    shape = page.new_shape()
    for r in range(len(TABLE_ROWS) + 1):
        shape.draw_line((rect.x0, top + r * row), (rect.x1, top + r * row))
    for c in range(4):
        shape.draw_line((left + c * col, rect.y0), (left + c * col, rect.y1))
    shape.finish(color=(0, 0, 0), width=0.8)
    shape.commit()
    for r, cells in enumerate(TABLE_ROWS):
        for c, cell in enumerate(cells):
            page.insert_text((left + c * col + 6, top + r * row + 15), cell, fontsize=10)
    return rect


def page_text(number: int) -> str:
    """The sentence written on body page `number` (1-based) of `report_pdf`."""
    return f"This is page {number} of the docparse end-to-end report."


def report_pdf(pages: int = 30) -> bytes:
    """A multi-page report: a heading, a paragraph and a ruled appendix grid on every page, an outline, a picture
    and a link on page 1, a small table drawn with lines on page 2, and document metadata."""
    doc = pymupdf.open()
    toc = []
    for n in range(1, pages + 1):
        page = doc.new_page(width=595, height=842)
        heading = f"Chapter {n}: Findings" if n > 1 else "Quarterly Report"
        page.insert_text((72, 90), heading, fontsize=20, fontname="hebo")
        body = (
            f"{page_text(n)}\n"
            "Docparse reads every page, keeps the blocks with their positions,\n"
            "and lists the links and pictures it finds on the way.\n"
        )
        page.insert_text((72, 130), body, fontsize=11)
        toc.append([1, heading, n])
        # a figure table in the lower half: with the tables option each page then takes a noticeable moment
        page.insert_text((72, 470), f"Appendix {n}: measurements", fontsize=12, fontname="hebo")
        _draw_grid(page, pymupdf.Rect(72, 480, 523, 800), 30, 10)
        if n == 1:
            page.insert_image(pymupdf.Rect(72, 220, 252, 340), stream=_picture_png())
            label = "Read more at example.org"
            page.insert_text((72, 380), label, fontsize=11, color=(0, 0, 0.8))
            page.insert_link({"kind": pymupdf.LINK_URI, "from": pymupdf.Rect(70, 368, 210, 384), "uri": LINK_URI})
        if n == 2:
            page.insert_text((72, 210), "Table 1: fruit sold", fontsize=12, fontname="hebo")
            _draw_table(page, 220)
    doc.set_toc(toc)
    doc.set_metadata({"title": "E2E Quarterly Report", "author": "Docparse Tests", "subject": "end-to-end"})
    return doc.tobytes(garbage=3, deflate=True)


def _draw_grid(page: pymupdf.Page, rect: pymupdf.Rect, rows: int, cols: int) -> None:
    """A ruled grid over `rect` with a small number in every cell: a big table for the table finder."""
    w, h = rect.width / cols, rect.height / rows
    shape = page.new_shape()
    for r in range(rows + 1):
        shape.draw_line((rect.x0, rect.y0 + r * h), (rect.x1, rect.y0 + r * h))
    for c in range(cols + 1):
        shape.draw_line((rect.x0 + c * w, rect.y0), (rect.x0 + c * w, rect.y1))
    shape.finish(color=(0.3, 0.3, 0.3), width=0.3)
    shape.commit()
    writer = pymupdf.TextWriter(page.rect)
    font = pymupdf.Font("helv")
    for r in range(rows):
        for c in range(cols):
            position = (rect.x0 + c * w + 1, rect.y0 + (r + 1) * h - 2)
            writer.append(position, f"{r}.{c}", font=font, fontsize=min(6, h - 2))
    writer.write_text(page)


def long_pdf(pages: int, rows: int = 60, cols: int = 16) -> bytes:
    """`pages` copies of one page holding a dense ruled grid: quick to make and to parse as text, but slow (a few
    pages a second) with the tables option, so a job can be watched and cancelled midway."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((20, 30), "Long document", fontsize=14)
    _draw_grid(page, pymupdf.Rect(20, 40, 575, 820), rows, cols)
    for _ in range(pages - 1):
        doc.fullcopy_page(0)
    return doc.tobytes(garbage=1, deflate=True)


def encrypted_pdf(password: str, pages: int = 3) -> bytes:
    """A PDF encrypted with AES-256 that needs `password` to be opened."""
    doc = pymupdf.open()
    for n in range(1, pages + 1):
        page = doc.new_page()
        page.insert_text((72, 90), f"Secret page {n}: the treasure is under the oak.", fontsize=12)
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=password, owner_pw=password + "-owner")


def xss_pdf() -> bytes:
    """A PDF whose text is HTML and JavaScript: it must be shown as text, never run."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 90), "Hostile text below", fontsize=16)
    page.insert_text((72, 130), XSS_SCRIPT, fontsize=12)
    page.insert_text((72, 160), XSS_IMG, fontsize=12)
    page.insert_text((72, 190), "<b>not bold</b> &amp; done", fontsize=12)
    doc.set_metadata({"title": XSS_IMG, "author": XSS_SCRIPT})
    doc.set_toc([[1, XSS_SCRIPT, 1]])
    return doc.tobytes()


def png_image() -> bytes:
    """A PNG of a small page with a line of text on it (rendered by PyMuPDF)."""
    doc = pymupdf.open()
    page = doc.new_page(width=300, height=200)
    page.insert_text((20, 100), "A picture of words", fontsize=18)
    return page.get_pixmap(dpi=96).tobytes("png")


def scanned_page_png(dpi: int = 200) -> bytes:
    """A page of English and Korean (Nanum Gothic where installed, else PyMuPDF's CJK font) as a greyscale picture,
    slightly askew: what a phone or a scanner makes of a printed page. It has no text layer."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    nanum = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"
    try:
        page.insert_font(fontname="ko", fontfile=nanum)
    except Exception:
        page.insert_font(fontname="ko", fontbuffer=pymupdf.Font("korea").buffer)
    text = (
        "All human beings are born free and equal in dignity and rights.\n"
        "모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다."
    )
    page.insert_textbox(pymupdf.Rect(60, 80, 535, 300), text, fontsize=14, fontname="ko", lineheight=1.6)
    zoom = dpi / 72
    pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom).prerotate(-1.5), colorspace=pymupdf.csGRAY)
    pix.set_dpi(dpi, dpi)
    return pix.tobytes("png")


def epub_book() -> bytes:
    """A minimal valid EPUB 2 with two chapters (mimetype first and stored, as the format requires)."""
    chapters = {
        "ch1.xhtml": ("Chapter One", "It was a bright cold day in April."),
        "ch2.xhtml": ("Chapter Two", "The clocks were striking thirteen."),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
            compress_type=zipfile.ZIP_DEFLATED,
        )
        manifest = "".join(
            f'<item id="c{i}" href="{name}" media-type="application/xhtml+xml"/>' for i, name in enumerate(chapters)
        )
        spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
        z.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>E2E Book</dc:title>'
            '<dc:identifier id="id">e2e-book</dc:identifier><dc:language>en</dc:language></metadata>'
            f'<manifest>{manifest}<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/></manifest>'
            f'<spine toc="ncx">{spine}</spine></package>',
            compress_type=zipfile.ZIP_DEFLATED,
        )
        z.writestr(
            "OEBPS/toc.ncx",
            '<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">'
            '<head><meta name="dtb:uid" content="e2e-book"/></head><docTitle><text>E2E Book</text></docTitle>'
            '<navMap><navPoint id="n1" playOrder="1"><navLabel><text>Chapter One</text></navLabel>'
            '<content src="ch1.xhtml"/></navPoint></navMap></ncx>',
            compress_type=zipfile.ZIP_DEFLATED,
        )
        for name, (title, text) in chapters.items():
            z.writestr(
                f"OEBPS/{name}",
                '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                f"<head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>",
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return buffer.getvalue()


def corrupt_pdf() -> bytes:
    """A PDF header followed by garbage: typed as PDF by its bytes, unreadable by MuPDF."""
    rng = random.Random(5)
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(rng.randrange(256) for _ in range(4096))


def elf_binary() -> bytes:
    """The start of an ELF executable: not a document type docparse supports."""
    return b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + bytes(2048)


def zip_archive() -> bytes:
    """A plain ZIP archive of text files (not EPUB, XPS nor CBZ)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("notes/readme.md", "# Not a document docparse reads\n")
        z.writestr("notes/data.csv", "a,b\n1,2\n")
    return buffer.getvalue()
