"""Tesseract on this machine: where its traineddata are and which languages they read, found without importing
PyMuPDF or Tesseract, so that the API can say in /config what OCR reads and check an upload's languages."""

from __future__ import annotations

import importlib.util
import os
import re
from functools import cache, lru_cache
from pathlib import Path

DEFAULT_LANGUAGES = "kor+eng"
LANGUAGES_PATTERN = r"^[A-Za-z0-9_]{1,32}(\+[A-Za-z0-9_]{1,32}){0,7}$"
"""Language names joined by "+". They name traineddata files, so nothing path-like is allowed."""
# Where distributions put the traineddata; TESSDATA_PREFIX (Tesseract's own variable) comes first.
_TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",  # Debian, Ubuntu
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tesseract/tessdata",  # Fedora
    "/usr/share/tessdata",  # Alpine, Arch
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)
_NOT_LANGUAGES = frozenset({"osd", "equ"})  # orientation and equation models, not languages to read


@cache
def tessdata_dir() -> Path | None:
    """The directory holding the traineddata files, None when there is none."""
    for candidate in (os.environ.get("TESSDATA_PREFIX", ""), *_TESSDATA_DIRS):
        if candidate and any(Path(candidate).glob("*.traineddata")):
            return Path(candidate)
    return None


def engine_installed() -> bool:
    """Whether tesserocr (which brings the Tesseract library) is installed, without loading it."""
    return importlib.util.find_spec("tesserocr") is not None


def installed_languages() -> list[str]:
    """Languages with traineddata installed, e.g. ['eng', 'kor']. (Every upload asks: the folder is listed again
    only when it changed, which one stat tells.)"""
    directory = tessdata_dir()
    if directory is None:
        return []
    try:
        changed = directory.stat().st_mtime_ns
    except OSError:
        return []
    return list(_languages_in(directory, changed))


@lru_cache(maxsize=4)
def _languages_in(directory: Path, changed: int) -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in directory.glob("*.traineddata") if p.stem not in _NOT_LANGUAGES))


def orientation_available() -> bool:
    """Whether the orientation model (Debian's tesseract-ocr-osd) is installed."""
    directory = tessdata_dir()
    return directory is not None and (directory / "osd.traineddata").exists()


def missing_languages(languages: str) -> list[str]:
    """The languages of "kor+eng" that have no traineddata here."""
    installed = set(installed_languages())
    return [language for language in languages.split("+") if language not in installed]


def valid_languages(languages: str) -> bool:
    return re.fullmatch(LANGUAGES_PATTERN, languages) is not None
