"""Pictures of pages: a page rendered to PNG at a requested width, for drawing parsed boxes over it."""

from __future__ import annotations

import math

import pymupdf

from docparse.errors import MemoryLimit

MAX_WIDTH = 3000  # pixels
MAX_PIXELS = 16_000_000  # width x height: a tall page at a given width can be any number of pixels
MAX_IMAGE_PIXELS = 50_000_000  # a raster MuPDF decodes whole to draw it at any size: ~6 bytes a pixel (RGB)


def render_page(
    doc: pymupdf.Document,
    index: int,
    width: int,
    *,
    max_pixels: int = MAX_PIXELS,
    max_image_pixels: int = MAX_IMAGE_PIXELS,
) -> bytes:
    """PNG of page `index` (0-based), `width` pixels wide, as displayed (rotation applied), like the boxes.

    The picture keeps the page's aspect, so a page that would exceed `max_pixels` gets a narrower one (its PNG
    header says its size). A page holding a raster bigger than `max_image_pixels` raises MemoryLimit (0: no
    bound): outside PDF, MuPDF decodes such an image whole whatever the size drawn (a 20,000 px square PNG took
    1.3 GB for an 800 px picture), while a PDF's images are scaled down as they are decoded."""
    page = doc[index]
    rect = page.rect
    if max_image_pixels and not doc.is_pdf:
        for image in page.get_image_info():  # sizes from the image headers, nothing decoded
            if image["width"] * image["height"] > max_image_pixels:
                raise MemoryLimit(
                    f"Page {index + 1} holds a {image['width']} x {image['height']} px image; drawing it would need "
                    f"more memory than this server allows (at most {max_image_pixels / 1e6:g} megapixels)."
                )
    zoom = min(max(1, min(width, MAX_WIDTH)) / rect.width, _zoom_within(rect, max_pixels))
    # clip: only the page's visible area is drawn, however far its content reaches beyond it
    pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), clip=rect, alpha=False)
    png: bytes = pix.tobytes("png")
    return png


def _zoom_within(rect: pymupdf.Rect, max_pixels: int) -> float:
    """The largest zoom at which `rect` fits in `max_pixels`, allowing for MuPDF rounding each side outwards
    (up to 2 px): the root of (w·z + 2)(h·z + 2) = max_pixels."""
    w: float = rect.width
    h: float = rect.height
    return (math.sqrt((w + h) ** 2 + w * h * (max_pixels - 4)) - (w + h)) / (w * h)
