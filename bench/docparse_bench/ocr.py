"""OCR figures: scans made here from born-digital pages (the born-digital text is the reference), read through the
service, by the same engine in this process, and by OCRmyPDF; and the cost of ocr=auto on a digital manual."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pymupdf
from docparse import parsing

from docparse_bench.client import Completions, Conn, upload_ok, upload_request
from docparse_bench.docs import LargeDoc
from docparse_bench.figures import Figure, fetch_text, median
from docparse_bench.services import CpuMeter, Service

DPI = 200
# Debian's fonts-nanum (the Korean pages are skipped without it: another font would measure another thing)
NANUM = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
HANGUL = re.compile(r"[\uac00-\ud7a3]")

# Five pages of Korean prose, a user manual's kind of text (written for this benchmark).
KOREAN_PAGES = [
    "제1장 시작하기\n이 설명서는 문서 분석 서비스를 설치하고 사용하는 방법을 설명합니다. 서비스는 업로드된 문서를 "
    "읽어 쪽마다 글자와 위치, 목차와 링크를 돌려줍니다. 스캔한 문서는 광학 문자 인식으로 읽습니다. 처음 "
    "사용하는 분은 이 장을 끝까지 읽은 다음 다음 장으로 넘어가십시오. 설치에는 몇 분이 걸리며 인터넷 연결이 "
    "필요합니다. 설치가 끝나면 웹 화면에서 파일을 끌어다 놓아 바로 시험해 볼 수 있습니다.\n"
    "서버는 작업을 대기열에 넣고 작업자가 하나씩 꺼내어 처리합니다. 작업자의 수는 처리기의 수에 맞추는 것이 "
    "좋습니다. 큰 문서도 첫 쪽은 몇 초 안에 읽을 수 있으며 나머지 쪽은 분석되는 대로 나타납니다.",
    "제2장 문서 올리기\n문서를 올릴 때에는 파일과 함께 몇 가지 선택 사항을 보낼 수 있습니다. 표를 찾을지, "
    "마크다운을 만들지, 광학 문자 인식을 언제 쓸지를 정합니다. 기본값은 글자가 없는 쪽만 인식하는 자동 "
    "방식입니다. 언어는 한국어와 영어가 기본이며 다른 언어는 서버에 설치된 경우에만 쓸 수 있습니다.\n"
    "올린 파일은 해시 값으로 저장되므로 같은 파일을 두 번 올려도 저장 공간은 한 번만 씁니다. 파일의 크기에는 "
    "제한이 있으며 제한을 넘으면 서버는 오류를 돌려줍니다. 암호가 걸린 문서는 암호를 함께 보내야 열 수 있습니다.",
    "제3장 결과 읽기\n작업이 끝나면 결과를 글자, 마크다운 또는 구조화된 자료로 받을 수 있습니다. 각 쪽에는 "
    "글 상자와 그 위치, 그림과 링크가 들어 있습니다. 광학 문자 인식으로 읽은 쪽에는 인식 엔진의 이름과 "
    "언어, 해상도와 신뢰도가 함께 적힙니다. 신뢰도가 낮은 쪽은 원본을 다시 스캔하는 것이 좋습니다.\n"
    "진행 상황은 작업 상태를 물어보거나 이벤트 흐름을 구독하여 알 수 있습니다. 이벤트 흐름은 쪽이 하나 "
    "끝날 때마다 알려 주므로 화면을 바로 갱신할 수 있습니다. 연결이 끊어지면 마지막으로 받은 위치부터 다시 "
    "이어 받을 수 있습니다.",
    "제4장 운영\n서버는 저장소와 대기열을 씁니다. 저장소의 용량이 모자라면 오래된 결과부터 지우도록 보존 "
    "기간을 정할 수 있습니다. 작업자가 멈추면 대기열은 그 작업을 다른 작업자에게 다시 맡깁니다. 같은 작업이 "
    "여러 번 실패하면 더는 시도하지 않고 실패로 기록합니다.\n"
    "기록은 한 줄에 한 사건씩 남으며 작업 번호로 찾을 수 있습니다. 메모리를 지나치게 쓰는 문서는 분석 과정을 "
    "새로 시작하여 서버 전체가 느려지지 않게 합니다. 설정은 환경 변수로 바꾸며 잘못된 값은 시작할 때 알려 "
    "줍니다.",
    "제5장 자주 묻는 질문\n스캔한 문서의 글자가 잘못 읽힙니다. 해상도가 너무 낮거나 종이가 기울어진 경우가 "
    "많습니다. 이백 점 이상으로 스캔하고 문서의 언어를 정확히 지정하십시오. 사진으로 찍은 문서는 그림자와 "
    "흔들림이 없도록 밝은 곳에서 찍는 것이 좋습니다.\n"
    "결과가 너무 늦게 나옵니다. 광학 문자 인식은 한 쪽에 몇 초가 걸립니다. 글자가 있는 문서에는 자동 방식을 "
    "쓰면 추가 비용이 거의 없습니다. 작업자를 늘리면 여러 문서를 동시에 처리할 수 있습니다.",
]


@dataclass
class ScanSet:
    lang: str  # what is measured: "English" or "Korean"
    languages: str  # Tesseract's, for the service, the engine in process and OCRmyPDF alike
    path: Path  # the image-only PDF, one scanned page a page
    references: list[str]  # the born-digital text of each page
    source: str


def _scan_pdf(pages: list[pymupdf.Page], path: Path) -> Path:
    """Each page drawn in grey at DPI and put alone on a page of its own size: an image-only PDF, as a scanner makes."""
    out = pymupdf.open()
    zoom = DPI / 72
    for page in pages:
        pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csGRAY, alpha=False)
        pix.set_dpi(DPI, DPI)
        rect = pymupdf.Rect(0, 0, pix.width * 72 / DPI, pix.height * 72 / DPI)
        out.new_page(width=rect.width, height=rect.height).insert_image(rect, pixmap=pix)
    out.save(path, deflate=True)
    out.close()
    return path


def english_scans(manual: LargeDoc, count: int, workdir: Path) -> ScanSet:
    """`count` prose pages of a real manual (pages with the most words, spread over the document)."""
    doc = pymupdf.open(manual.path)
    step = max(1, doc.page_count // (count * 4))
    candidates = [(len(doc[i].get_text().split()), i) for i in range(10, doc.page_count - 5, step)]
    # the wordiest pages of each stretch of the manual: prose, not a title or an index
    stretch = max(1, len(candidates) // count)
    chosen = sorted(max(candidates[k * stretch : (k + 1) * stretch])[1] for k in range(count))
    pages = [doc[i] for i in chosen]
    refs = [p.get_text() for p in pages]
    path = _scan_pdf(pages, workdir / "scan-eng.pdf")
    doc.close()
    return ScanSet("English", "eng", path, refs, f"{manual.name} pages {', '.join(str(i + 1) for i in chosen)}")


def korean_scans(count: int, workdir: Path) -> ScanSet | None:
    """`count` A4 pages of Korean prose in Nanum Gothic, 12 pt; None without fonts-nanum."""
    if not NANUM.exists():
        return None
    doc = pymupdf.open()
    for text in KOREAN_PAGES[:count]:
        page = doc.new_page(width=595, height=842)
        page.insert_font(fontname="nanum", fontfile=str(NANUM))
        spare = page.insert_textbox(pymupdf.Rect(60, 70, 535, 780), text, fontsize=12, fontname="nanum",
                                    lineheight=1.6)  # fmt: skip
        assert spare >= 0, "the text does not fit on the page"
    refs = [p.get_text() for p in doc]
    path = _scan_pdf(list(doc), workdir / "scan-kor.pdf")
    doc.close()
    return ScanSet("Korean", "kor+eng", path, refs, f"{count} A4 pages of Korean prose, Nanum Gothic 12 pt")


# --- recall ---


def word_recall(reference: str, found: str) -> float:
    """Share of the reference's words (lowercase runs of letters and digits, a multiset) that the found text holds."""
    ref = Counter(re.findall(r"\w+", reference.lower()))
    got = Counter(re.findall(r"\w+", found.lower()))
    return sum((ref & got).values()) / max(1, sum(ref.values()))


def hangul_recall(reference: str, found: str) -> float:
    """Share of the reference's Hangul syllables (a multiset) that the found text holds."""
    ref, got = Counter(HANGUL.findall(reference)), Counter(HANGUL.findall(found))
    return sum((ref & got).values()) / max(1, sum(ref.values()))


def _page_texts(text: str, pages: int) -> list[str]:
    """The service's text result, split back into pages (form feeds between pages)."""
    parts = text.split("\f")
    return parts if len(parts) == pages else [text] + [""] * (pages - 1)


# --- the three readers ---


async def _through_service(svc: Service, path: Path, fields: dict[str, str]) -> tuple[float, str]:
    """Upload → completion, seconds; and the job's id."""
    raw = upload_request(path.read_bytes(), path.name, fields=fields)  # noqa: ASYNC240 (before the clock starts)
    async with Completions(svc.redis_url, svc.queue) as done:
        conn = await Conn("127.0.0.1", svc.api_port).connect()
        t0 = time.perf_counter()
        job_id = await upload_ok(conn, raw)
        t1, _ = await done.wait(job_id)
        await conn.close()
    return t1 - t0, job_id


def service_seconds(svc: Service, path: Path, fields: dict[str, str]) -> tuple[float, str]:
    return asyncio.run(_through_service(svc, path, fields))


def in_process(path: Path, languages: str) -> tuple[float, list[str]]:
    """docparse's parse_page (the engine the service runs, kept warm in this process): seconds, text of each page."""
    options = parsing.ParseOptions(ocr="auto", ocr_languages=languages)
    t = time.perf_counter()
    doc = parsing.open_document(path, "pdf", None)
    pages = [parsing.parse_page(doc, i, options) for i in range(doc.page_count)]
    doc.close()
    secs = time.perf_counter() - t
    return secs, ["\n".join(b.text for b in p.blocks if getattr(b, "text", None)) for p in pages]


def ocrmypdf_available() -> str | None:
    """None when OCRmyPDF can run here, else why not."""
    if shutil.which("gs") is None:
        return "Ghostscript (gs) is missing: apt-get install ghostscript"
    if shutil.which("tesseract") is None:
        return "the tesseract program is missing: apt-get install tesseract-ocr"
    try:
        import ocrmypdf  # noqa: F401
    except ImportError as exc:
        return f"ocrmypdf cannot be imported ({exc})"
    return None


def ocrmypdf_seconds(path: Path, languages: str, workdir: Path) -> tuple[float, str]:
    """`ocrmypdf --force-ocr --jobs 1`, one Tesseract thread (as docparse's engine): seconds, and its text layer."""
    out = workdir / f"ocrmypdf-{path.stem}.pdf"
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    cmd = [str(Path(sys.executable).parent / "ocrmypdf"), "--force-ocr", "--jobs", "1", "-l", languages,
           "--output-type", "pdf", "--quiet", str(path), str(out)]  # fmt: skip
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, capture_output=True, timeout=900)
    secs = time.perf_counter() - t
    with pymupdf.open(out) as doc:
        text = "\f".join(p.get_text() for p in doc)
    out.unlink()
    return secs, text


# --- the figures ---


@dataclass
class OcrRuns:
    sets: list[ScanSet]
    service: dict[str, list[float]]
    inproc: dict[str, list[float]]
    ocrmypdf: dict[str, list[float]]
    service_text: dict[str, list[str]]
    inproc_text: dict[str, list[str]]
    ocrmypdf_text: dict[str, str]
    ocrmypdf_why: str | None
    cpu: dict[str, float]
    foreign: list[float]


def measure(svc: Service, sets: list[ScanSet], reps: int, workdir: Path, log) -> OcrRuns:  # type: ignore[no-untyped-def]
    """Per repetition and language, interleaved so that all three readers see the same machine."""
    why = ocrmypdf_available()
    runs = OcrRuns(sets, {}, {}, {}, {}, {}, {}, why, {}, [])
    for s in sets:  # warm: both engines loaded with the language (the service's worker keeps its engine)
        fields = {"ocr": "auto", "ocr_languages": s.languages}
        service_seconds(svc, s.path, fields)
        in_process(s.path, s.languages)
    for rep in range(reps):
        for s in sets:
            fields = {"ocr": "auto", "ocr_languages": s.languages}
            with CpuMeter(svc) as meter:
                secs, job_id = service_seconds(svc, s.path, fields)
            runs.foreign.append(meter.foreign_cores())
            for role, c in meter.by_role().items():
                runs.cpu[role] = runs.cpu.get(role, 0.0) + c
            runs.service.setdefault(s.lang, []).append(secs)
            text = asyncio.run(fetch_text(svc, job_id))
            runs.service_text[s.lang] = _page_texts(text, len(s.references))
            secs, texts = in_process(s.path, s.languages)
            runs.inproc.setdefault(s.lang, []).append(secs)
            runs.inproc_text[s.lang] = texts
            if why is None:
                secs, text = ocrmypdf_seconds(s.path, s.languages, workdir)
                runs.ocrmypdf.setdefault(s.lang, []).append(secs)
                runs.ocrmypdf_text[s.lang] = text
            log(f"  OCR rep {rep + 1} {s.lang}: service {runs.service[s.lang][-1]:.1f} s, in process "
                f"{runs.inproc[s.lang][-1]:.1f} s" + (f", OCRmyPDF {runs.ocrmypdf[s.lang][-1]:.1f} s" if why is None
                                                       else ""))  # fmt: skip
    return runs


def _recall_figure(number: int, name: str, runs: OcrRuns, s: ScanSet, recall, unit: str) -> Figure:  # type: ignore[no-untyped-def]
    per_page = [recall(ref, got) for ref, got in zip(s.references, runs.service_text[s.lang], strict=True)]
    inproc = [recall(ref, got) for ref, got in zip(s.references, runs.inproc_text[s.lang], strict=True)]
    value = median(per_page)
    details = [
        f"{s.source}, drawn in grey at {DPI} dpi into an image-only PDF; read through the service (ocr=auto, "
        f"ocr_languages={s.languages}), text from GET /jobs/{{id}}/result?format=text split at the form feeds",
        f"{unit} recall per page vs the born-digital text: "
        + ", ".join(f"{r:.3f}" for r in per_page)
        + f" (median {value:.3f}, worst {min(per_page):.3f}); the same engine in process: median "
        f"{median(inproc):.3f}",
    ]
    if s.lang in runs.ocrmypdf_text:
        theirs = _page_texts(runs.ocrmypdf_text[s.lang], len(s.references))
        r = [recall(ref, got) for ref, got in zip(s.references, theirs, strict=True)]
        details.append(f"information: OCRmyPDF's text layer on the same pages, median {unit} recall {median(r):.3f}")
    return Figure(number, name, f"{value:.3f}", "≥ 0.92", value >= 0.92, details,
                  {"median": value, "pages": per_page})  # fmt: skip


def english_figure(number: int, name: str, runs: OcrRuns) -> Figure:
    s = next(x for x in runs.sets if x.lang == "English")
    return _recall_figure(number, name, runs, s, word_recall, "word")


def korean_figure(number: int, name: str, runs: OcrRuns) -> Figure:
    s = next(x for x in runs.sets if x.lang == "Korean")
    return _recall_figure(number, name, runs, s, hangul_recall, "Hangul-syllable")


def _pps(runs: OcrRuns, side: dict[str, list[float]]) -> tuple[float, list[str]]:
    """Pages/s over every language (pages ÷ the sum of each language's median seconds), and each language's."""
    pages = sum(len(s.references) for s in runs.sets)
    total = sum(median(side[s.lang]) for s in runs.sets)
    each = [f"{s.lang} {len(s.references) / median(side[s.lang]):.2f}" for s in runs.sets]
    return pages / total, each


def service_figure(number: int, name: str, runs: OcrRuns, reps: int) -> Figure:
    svc_pps, svc_each = _pps(runs, runs.service)
    in_pps, in_each = _pps(runs, runs.inproc)
    ratio = svc_pps / in_pps
    n = sum(len(s.references) for s in runs.sets) * reps
    details = [
        f"the same scans ({', '.join(f'{len(s.references)} {s.lang}' for s in runs.sets)} pages), 1 worker, median of "
        f"{reps}: service {svc_pps:.2f} pages/s ({', '.join(svc_each)}; upload start → completed), docparse's "
        f"parse_page in this process with a warm engine {in_pps:.2f} pages/s ({', '.join(in_each)})",
        "CPU per page through the service (ms): "
        + ", ".join(f"{k} {v / n * 1000:.0f}" for k, v in runs.cpu.items() if v > 0)
        + f"; other processes on the machine meanwhile: median {median(runs.foreign):.2f} cores",
    ]
    return Figure(number, name, f"{ratio:.2f}", "≥ 0.9", ratio >= 0.9, details,
                  {"ratio": ratio, "service_pps": svc_pps, "inproc_pps": in_pps})  # fmt: skip


def ocrmypdf_figure(number: int, name: str, runs: OcrRuns, reps: int) -> Figure:
    if runs.ocrmypdf_why is not None:
        return Figure(number, name, "skipped", "≥ 1.5", None, [f"OCRmyPDF cannot run here: {runs.ocrmypdf_why}"])
    svc_pps, svc_each = _pps(runs, runs.service)
    their_pps, their_each = _pps(runs, runs.ocrmypdf)
    ratio = svc_pps / their_pps
    import ocrmypdf

    details = [
        f"the same scans, median of {reps}: docparse through the service (1 worker) {svc_pps:.2f} pages/s "
        f"({', '.join(svc_each)}), OCRmyPDF {ocrmypdf.__version__} `ocrmypdf --force-ocr --jobs 1 -l <languages> "
        f"--output-type pdf` {their_pps:.2f} pages/s ({', '.join(their_each)}), each run a new process, "
        "OMP_THREAD_LIMIT=1 for its tesseract (docparse's engine reads on one thread too)",
        "OCRmyPDF runs the system's tesseract program once per page and writes a PDF with a text layer; "
        "docparse keeps one Tesseract engine loaded per parse process",
    ]
    return Figure(number, name, f"{ratio:.2f}", "≥ 1.5", ratio >= 1.5, details,
                  {"ratio": ratio, "service_pps": svc_pps, "ocrmypdf_pps": their_pps})  # fmt: skip


def auto_figure(number: int, name: str, svc: Service, manual: LargeDoc, reps: int) -> Figure:
    """A born-digital manual through the service with ocr=auto and ocr=never, alternately: auto must cost nothing."""
    service_seconds(svc, manual.path, {"ocr": "auto"})  # warm-up
    auto, never = [], []
    for _ in range(reps):
        never.append(service_seconds(svc, manual.path, {"ocr": "never"})[0])
        auto.append(service_seconds(svc, manual.path, {"ocr": "auto"})[0])
    ratio = median(never) / median(auto)
    details = [
        f"{manual.name} ({manual.pages} pages, born digital) through the service, 1 worker, ocr=never and ocr=auto "
        f"alternately, median of {reps}: auto {manual.pages / median(auto):.0f} pages/s "
        f"({', '.join(f'{manual.pages / x:.0f}' for x in auto)}), never {manual.pages / median(never):.0f} pages/s "
        f"({', '.join(f'{manual.pages / x:.0f}' for x in never)})",
    ]
    return Figure(number, name, f"{ratio:.2f}", "≥ 0.95", ratio >= 0.95, details, {"ratio": ratio})


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="docparse-bench-ocr-"))
