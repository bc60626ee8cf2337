"""Scenario: a photo of a page in English and Korean, read by OCR: the form's OCR choice, the page marked as OCR'd."""

from __future__ import annotations

import glob

import pytest
from playwright.sync_api import Page, expect

import documents
from ui import Doc, expect_status, job_card, open_home, page_region, visible_text

pytestmark = pytest.mark.skipif(
    not glob.glob("/usr/share/tesseract-ocr/*/tessdata/kor.traineddata"),
    reason="Tesseract's Korean traineddata are not installed (apt-get install tesseract-ocr-kor)",
)


def test_a_photo_of_a_page_is_read_by_ocr(page: Page, shot) -> None:
    open_home(page)
    expect(page.get_by_role("radio", name="Pages without text (scans, photos)")).to_be_checked()
    page.get_by_label("Choose files").set_input_files([Doc("photo.png", documents.scanned_page_png()).payload()])
    page.get_by_label("OCR languages").fill("kor+eng")
    page.get_by_role("button", name="Upload", exact=True).click()
    card = job_card(page, "photo.png")
    expect_status(card, "Completed")
    card.get_by_role("link", name="View result").click()

    region = page_region(page, 1)
    expect(region.get_by_text("OCR", exact=True)).to_be_visible()
    expect(region.get_by_text("Text read by OCR (kor+eng")).to_be_visible()
    expect(visible_text(region, "human beings")).to_be_visible()
    expect(visible_text(region, "인간은")).to_be_visible()
    shot("ocr-page")
