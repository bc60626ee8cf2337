"""Scans made on the spot: born-digital pages (English, and Korean in a real Korean font) rendered to pictures,
with noise, skew and rotation, wrapped into image-only PDFs or saved as PNG. The born-digital text is the reference."""

from __future__ import annotations

import random
import re
import struct
import zlib
from pathlib import Path

import pymupdf

# Debian's fonts-nanum; PyMuPDF's own CJK font (Droid Sans Fallback) where it is not installed.
NANUM = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")

# The first articles of the Universal Declaration of Human Rights, in English and in its Korean translation.
ENGLISH = (
    "Article 1. All human beings are born free and equal in dignity and rights. They are endowed with reason "
    "and conscience and should act towards one another in a spirit of brotherhood.\n"
    "Article 2. Everyone is entitled to all the rights and freedoms set forth in this Declaration, without "
    "distinction of any kind, such as race, colour, sex, language, religion, political or other opinion, "
    "national or social origin, property, birth or other status.\n"
    "Article 3. Everyone has the right to life, liberty and security of person.\n"
    "Article 4. No one shall be held in slavery or servitude; slavery and the slave trade shall be prohibited "
    "in all their forms.\n"
    "Article 5. No one shall be subjected to torture or to cruel, inhuman or degrading treatment or punishment."
)
KOREAN = (
    "제1조 모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다. 인간은 천부적으로 이성과 "
    "양심을 부여받았으며 서로 형제애의 정신으로 행동하여야 한다.\n"
    "제2조 모든 사람은 인종, 피부색, 성, 언어, 종교, 정치적 또는 기타의 견해, 민족적 또는 사회적 출신, "
    "재산, 출생 또는 기타의 신분과 같은 어떠한 종류의 차별이 없이, 이 선언에 규정된 모든 권리와 자유를 "
    "향유할 자격이 있다.\n"
    "제3조 모든 사람은 생명과 신체의 자유와 안전에 대한 권리를 가진다.\n"
    "제4조 어느 누구도 노예나 예속상태에 놓여지지 아니한다. 모든 형태의 노예제도와 노예매매는 금지된다.\n"
    "제5조 어느 누구도 고문, 또는 잔혹하거나 비인도적이거나 굴욕적인 처우 또는 형벌을 받지 아니한다.\n"
    "Universal Declaration of Human Rights (UDHR), 1948"
)


# Half a page: three articles in each language (a page of OCR takes seconds; the tests read a few).
BILINGUAL = "\n".join([*ENGLISH.splitlines()[:3], *KOREAN.splitlines()[:3], KOREAN.splitlines()[-1]])


def digital_page(text: str = BILINGUAL, *, fontsize: float = 11) -> pymupdf.Document:
    """One A4 page of `text` in a box with margins: Helvetica for Latin, Nanum Gothic where Hangul is needed."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    fontname = "helv"
    if re.search(r"[\uac00-\ud7a3]", text):
        fontname = "nanum"
        if NANUM.exists():
            page.insert_font(fontname=fontname, fontfile=str(NANUM))
        else:
            page.insert_font(fontname=fontname, fontbuffer=pymupdf.Font("korea").buffer)
    spare = page.insert_textbox(
        pymupdf.Rect(60, 70, 535, 780), text, fontsize=fontsize, fontname=fontname, lineheight=1.5
    )
    assert spare >= 0, "the text does not fit on the page"
    return doc


def scan(
    doc: pymupdf.Document,
    *,
    dpi: int = 200,
    angle: float = 0,
    noise: float = 0.0,
    seed: int = 1,
) -> pymupdf.Pixmap:
    """The first page as a greyscale picture at `dpi`, turned `angle` degrees anticlockwise (a skewed or sideways
    scan), with a fraction `noise` of its pixels flipped to black or white specks."""
    zoom = dpi / 72
    pix = doc[0].get_pixmap(matrix=pymupdf.Matrix(zoom, zoom).prerotate(angle), colorspace=pymupdf.csGRAY)
    if noise:
        samples = bytearray(pix.samples)
        rng = random.Random(seed)
        for _ in range(int(len(samples) * noise)):
            samples[rng.randrange(len(samples))] = rng.choice((0, 255))
        pix = pymupdf.Pixmap(pymupdf.csGRAY, pix.width, pix.height, bytes(samples), False)
    pix.set_dpi(dpi, dpi)
    return pix


def image_pdf(pixmaps: list[pymupdf.Pixmap], path: Path) -> Path:
    """An image-only PDF, one pixmap a page, each page the size the pixmap has at its own resolution."""
    out = pymupdf.open()
    for pix in pixmaps:
        rect = pymupdf.Rect(0, 0, pix.width * 72 / pix.xres, pix.height * 72 / pix.yres)
        out.new_page(width=rect.width, height=rect.height).insert_image(rect, pixmap=pix)
    out.save(path, deflate=True)
    out.close()
    return path


def png(pix: pymupdf.Pixmap, path: Path) -> Path:
    pix.save(path)
    return path


def huge_png(path: Path, side: int) -> Path:
    """A black greyscale PNG of side x side pixels in a few hundred KB (decoded: side² bytes and more)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(1)
    row = bytes(side + 1)  # filter byte + black pixels
    pixels = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))
    return path


def words(text: str) -> list[str]:
    """Lowercase words without punctuation, for recall against OCR."""
    return re.findall(r"\w+", text.lower())


def word_recall(reference: str, found: str) -> float:
    """Share of the reference's words (as a multiset) that the found text holds."""
    pool: dict[str, int] = {}
    for word in words(found):
        pool[word] = pool.get(word, 0) + 1
    hits = 0
    for word in words(reference):
        if pool.get(word, 0) > 0:
            pool[word] -= 1
            hits += 1
    return hits / max(1, len(words(reference)))


def hangul_recall(reference: str, found: str) -> float:
    """Share of the reference's Hangul syllables (as a multiset) that the found text holds."""
    pool: dict[str, int] = {}
    for char in re.findall(r"[\uac00-\ud7a3]", found):
        pool[char] = pool.get(char, 0) + 1
    wanted = re.findall(r"[\uac00-\ud7a3]", reference)
    hits = 0
    for char in wanted:
        if pool.get(char, 0) > 0:
            pool[char] -= 1
            hits += 1
    return hits / max(1, len(wanted))
