"""Scenarios 3 and 4: a damaged file, files of unsupported types, and a password-protected PDF."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

import documents
from ui import Doc, choose, expect_status, job_card, open_home, page_region, upload, visible_text

PASSWORD = "open sesame"


def upload_item(page: Page, filename: str) -> Locator:
    return page.get_by_role("list", name="Files to upload").get_by_role("listitem").filter(has_text=filename)


def test_damaged_and_unsupported_files_show_their_typed_errors(page: Page, stack, shot) -> None:
    open_home(page)
    choose(
        page,
        Doc("damaged.pdf", documents.corrupt_pdf()),  # a PDF by its bytes: accepted, fails while parsing
        Doc("program.pdf", documents.elf_binary()),  # named .pdf, but the bytes are a program
        Doc("archive.zip", documents.zip_archive()),  # a plain ZIP archive
    )
    # The browser reads the first bytes as the server does, and refuses both at once, before anything is sent.
    refusal = "This file type is not supported. Choose a PDF, XPS, EPUB, MOBI, FB2, CBZ, SVG, text file or an image."
    for name in ("archive.zip", "program.pdf"):
        item = upload_item(page, name)
        expect(item.get_by_text("Not uploaded", exact=True)).to_be_visible()
        expect(item.get_by_role("alert")).to_have_text(refusal)
        expect(item.get_by_role("button", name="Upload again")).to_have_count(0)
    # (the server agrees: it refuses the same bytes)
    refused = stack.api.post("/upload", files={"file": ("program.pdf", documents.elf_binary())})
    assert refused.status_code == 415 and refused.json()["code"] == "unsupported_type", refused.text
    page.get_by_role("button", name="Upload", exact=True).click()

    # The damaged PDF was accepted, then failed with the "corrupt" error's message and what to do about it.
    card = job_card(page, "damaged.pdf")
    expect_status(card, "Failed")
    expect(card.get_by_text("The file is damaged and could not be read.", exact=True)).to_be_visible()
    expect(card.get_by_text("Open it in another program, save or export it again")).to_be_visible()
    expect(card.get_by_text("Server message: ")).to_be_visible()
    # a damaged file fails the same way every time: no Retry
    expect(card.get_by_role("button", name="Retry")).to_have_count(0)
    shot("errors")

    # Nothing else broke: the refused files can be removed, and a good file goes through as usual.
    upload_item(page, "archive.zip").get_by_role("button", name="Remove").click()
    upload_item(page, "program.pdf").get_by_role("button", name="Remove").click()
    expect(page.get_by_role("list", name="Files to upload")).to_have_count(0)
    upload(page, Doc("scan.png", documents.png_image()))
    expect_status(job_card(page, "scan.png"), "Completed")
    expect_status(job_card(page, "damaged.pdf"), "Failed", timeout=1000)


def test_refused_uploads_leave_nothing_in_storage(page: Page, stack) -> None:
    """An upload the server refuses (unsupported type, empty file) leaves no trace: no file, no job folder."""
    before = stack.job_dirs()
    open_home(page)
    upload(page, Doc("program.pdf", documents.elf_binary()), Doc("blank.txt", b"x"))
    expect(upload_item(page, "program.pdf").get_by_text("Not uploaded", exact=True)).to_be_visible()
    expect_status(job_card(page, "blank.txt"), "Completed")  # the other file went through meanwhile
    assert stack.api.post("/upload", files={"file": ("program.pdf", documents.elf_binary())}).status_code == 415
    assert stack.api.post("/upload", files={"file": ("empty.pdf", b"")}).status_code == 400
    accepted = {job["job_id"] for job in stack.api.get("/jobs").json()["jobs"]}
    left = stack.job_dirs() - before - accepted
    assert not left, f"refused uploads left job folders in storage: {sorted(left)}"


def test_password_protected_pdf_asks_for_the_password(page: Page, shot) -> None:
    open_home(page)
    upload(page, Doc("secret.pdf", documents.encrypted_pdf(PASSWORD)))

    card = job_card(page, "secret.pdf")
    expect_status(card, "Failed")
    expect(card.get_by_text("This PDF is password protected — enter the password and retry.")).to_be_visible()
    password = card.get_by_label("Document password")
    retry = card.get_by_role("button", name="Retry")
    expect(retry).to_be_disabled()  # until a password is typed
    shot("password-asked")

    # a wrong password: told so, and asked again
    password.fill("not it")
    retry.click()
    expect(card.get_by_text("The password is wrong — enter the correct password and retry.")).to_be_visible(
        timeout=30_000
    )
    expect(card.get_by_text("Attempt 2")).to_be_visible()

    # the right one: the same job completes
    password.fill(PASSWORD)
    retry.click()
    expect_status(card, "Completed")
    expect(card.get_by_text("Parsed 3 pages")).to_be_visible()
    expect(card.get_by_label("Document password")).to_have_count(0)

    card.get_by_role("link", name="View result").click()
    expect(visible_text(page_region(page, 1), "Secret page 1: the treasure is under the oak.")).to_be_visible()
    details = page.get_by_role("region", name="Document")
    expect(details.get_by_role("definition").filter(has_text="Yes")).to_have_count(1)  # Encrypted: Yes
