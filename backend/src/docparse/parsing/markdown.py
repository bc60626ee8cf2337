"""A plain per-page markdown: headings by font size, paragraphs, bullet lists, code, and tables when detected.

Why not pymupdf4llm: measured on real PDFs (117-429 pages) it ran at 0.9-4.3 pages/s (with or without the layout
model) and printed to stdout and stderr; this renderer costs one extra text pass (90-550 pages/s in all). It does not
guess reading order, columns, headers or footers: it follows MuPDF's block order, and heading levels are relative
to the sizes on the same page.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pymupdf

from docparse.results import Table

_HEADING_RATIO = 1.2  # a block whose text is this much larger than the page's body text is a heading
_MAX_HEADING_CHARS = 200
_MAX_HEADING_LEVEL = 6
_MONOSPACED = 8  # span flag bit
# Bullets: • ● ◦ ▪ ■ ‣, the hyphen bullet, and a middle dot (what • becomes in WinAnsi fonts), "-", "*" or an en
# dash followed by a space.
_BULLETS = ("•", "●", "◦", "▪", "■", "‣", "\u2043", "· ", "- ", "* ", "\u2013 ")


def page_markdown(page: pymupdf.Page, tables: list[Table]) -> str:
    """Markdown for one page; `tables` (when tables were asked for) replace the text blocks they cover."""
    # A second text pass, for font sizes. It leaves images out: extractDICT() would copy every image's bytes.
    content = page.get_textpage(flags=pymupdf.TEXTFLAGS_TEXT).extractDICT()
    blocks = [block for block in content["blocks"] if block["type"] == 0]
    weights = [_size_weights(block) for block in blocks]
    sizes = [_most_common(counts) for counts in weights]
    body = _most_common(sum(weights, Counter()))
    heading_sizes = sorted({size for size in sizes if body and size >= body * _HEADING_RATIO}, reverse=True)
    # Text comes in the coordinates of the unrotated page, tables in those of the page as displayed.
    to_text = page.derotation_matrix if page.rotation else pymupdf.Identity
    table_rects = [pymupdf.Rect(table.bbox) * to_text for table in tables]
    parts: list[str] = []
    emitted: set[int] = set()
    for block, size in zip(blocks, sizes, strict=True):
        covering = _covering_table(block["bbox"], table_rects)
        if covering is not None:
            if covering not in emitted:
                emitted.add(covering)
                parts.append(table_markdown(tables[covering]))
            continue
        level = heading_sizes.index(size) + 1 if size in heading_sizes else 0
        part = _block_markdown(block, level)
        if part:
            parts.append(part)
    parts.extend(table_markdown(table) for number, table in enumerate(tables) if number not in emitted)
    return "\n\n".join(parts) + "\n" if parts else ""


def table_markdown(table: Table) -> str:
    """A GitHub-style table; the first row is taken as the header."""

    def row(cells: list[str | None]) -> str:
        texts = [(cell or "").replace("\n", " ").replace("|", "\\|").strip() for cell in cells]
        return "| " + " | ".join(texts) + " |"

    if not table.cells:
        return ""
    header, *rows = table.cells
    separator = "| " + " | ".join("---" for _ in header) + " |"
    return "\n".join([row(header), separator, *(row(cells) for cells in rows)])


def _spans(block: dict[str, Any]) -> list[dict[str, Any]]:
    return [span for line in block["lines"] for span in line["spans"] if span["text"].strip()]


def _size_weights(block: dict[str, Any]) -> Counter[float]:
    """How many characters of the block have each font size (to half a point)."""
    weights: Counter[float] = Counter()
    for span in _spans(block):
        weights[round(span["size"] * 2) / 2] += len(span["text"])
    return weights


def _most_common(weights: Counter[float]) -> float:
    """The size of most characters: a block's size (one big initial does not count), or the page's body size."""
    return weights.most_common(1)[0][0] if weights else 0.0


def _covering_table(bbox: tuple[float, float, float, float], table_rects: list[pymupdf.Rect]) -> int | None:
    """The index of the table that contains the centre of `bbox`, if any."""
    centre = pymupdf.Point((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
    for number, rect in enumerate(table_rects):
        if centre in rect:
            return number
    return None


def _block_markdown(block: dict[str, Any], level: int) -> str:
    raw_lines = ["".join(span["text"] for span in line["spans"]).rstrip() for line in block["lines"]]
    spans = _spans(block)
    if spans and all(span["flags"] & _MONOSPACED for span in spans):
        return "```\n" + "\n".join(line for line in raw_lines if line) + "\n```"  # indentation kept
    lines = [line.strip() for line in raw_lines if line.strip()]
    if not lines:
        return ""
    if level and len(" ".join(lines)) <= _MAX_HEADING_CHARS:
        return "#" * min(level, _MAX_HEADING_LEVEL) + " " + _join(lines)
    if lines[0].startswith(_BULLETS):
        return _bullet_list(lines)
    paragraph = _join(lines)
    # A paragraph that starts like markdown syntax would change meaning.
    return "\\" + paragraph if paragraph.startswith(("#", ">", "|")) else paragraph


def _join(lines: list[str]) -> str:
    """Lines of one paragraph as one line; a line ending in a hyphen continues without a space."""
    text = lines[0]
    for line in lines[1:]:
        text += line if text.endswith("-") else " " + line
    return text


def _bullet_list(lines: list[str]) -> str:
    items: list[list[str]] = []
    for line in lines:
        bullet = next((bullet for bullet in _BULLETS if line.startswith(bullet)), None)
        if bullet is not None or not items:
            items.append([line[len(bullet or "") :].strip()])
        else:
            items[-1].append(line)
    return "\n".join("- " + _join(item) for item in items)
