"""A parse process that hangs or dies on one page (DOCPARSE_TEST_HANG_PAGE / DOCPARSE_TEST_CRASH_PAGE, 1-based),
standing in for the real PDFs that make MuPDF spin for minutes or crash, or takes DOCPARSE_TEST_SLOW_PAGE
seconds per page, like a long scanned manual."""

from __future__ import annotations

import os
import time

from docparse import parsing
from docparse.jobs import child

_real_parse_page = parsing.parse_page


def _parse_page(doc, index, options):  # type: ignore[no-untyped-def]
    number = index + 1
    time.sleep(float(os.environ.get("DOCPARSE_TEST_SLOW_PAGE", "0")))
    if str(number) == os.environ.get("DOCPARSE_TEST_HANG_PAGE"):
        while True:  # like MuPDF stuck in a loop: never returns, ignores everything but SIGKILL
            time.sleep(3600)
    if str(number) == os.environ.get("DOCPARSE_TEST_CRASH_PAGE"):
        os._exit(139)  # as if it segfaulted
    return _real_parse_page(doc, index, options)


parsing.parse_page = _parse_page

if __name__ == "__main__":
    child.main()
