"""A parse process that hangs or dies on one page (DOCPARSE_TEST_HANG_PAGE / DOCPARSE_TEST_CRASH_PAGE, 1-based),
standing in for the real PDFs that make MuPDF spin for minutes or crash, or takes DOCPARSE_TEST_SLOW_PAGE
seconds per page, like a long scanned manual. DOCPARSE_TEST_SLOW_OPEN makes opening a document take that many
seconds; DOCPARSE_TEST_MEMORY_ERROR_PAGE raises MemoryError on that page, and DOCPARSE_TEST_MEMORY_EXIT_PAGE
exits as a process that ran out of memory where it could not say so."""

from __future__ import annotations

import os
import time

from docparse import parsing
from docparse.jobs import child
from docparse.jobs.runner import MEMORY_EXIT

_real_parse_page = parsing.parse_page
_real_open_document = parsing.open_document


def _parse_page(doc, index, options, **kwargs):  # type: ignore[no-untyped-def]
    number = str(index + 1)
    time.sleep(float(os.environ.get("DOCPARSE_TEST_SLOW_PAGE", "0")))
    if number == os.environ.get("DOCPARSE_TEST_HANG_PAGE"):
        while True:  # like MuPDF stuck in a loop: never returns, ignores everything but SIGKILL
            time.sleep(3600)
    if number == os.environ.get("DOCPARSE_TEST_CRASH_PAGE"):
        os._exit(139)  # as if it segfaulted
    if number == os.environ.get("DOCPARSE_TEST_MEMORY_ERROR_PAGE"):
        raise MemoryError
    if number == os.environ.get("DOCPARSE_TEST_MEMORY_EXIT_PAGE"):
        os._exit(MEMORY_EXIT)
    return _real_parse_page(doc, index, options, **kwargs)


def _open_document(*args, **kwargs):  # type: ignore[no-untyped-def]
    time.sleep(float(os.environ.get("DOCPARSE_TEST_SLOW_OPEN", "0")))
    return _real_open_document(*args, **kwargs)


parsing.parse_page = _parse_page
parsing.open_document = _open_document

if __name__ == "__main__":
    child.main()
