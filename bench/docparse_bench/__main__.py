"""`python -m docparse_bench [--quick]`: run the figures, print the table, write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import uvloop

from docparse_bench import REPO, chunking, figures, ocr, report, services
from docparse_bench.client import Conn, get_request, upload_ok, upload_request
from docparse_bench.docs import LargeDoc, large_docs, one_page_pdf, text_pdf
from docparse_bench.figures import Config, Figure
from docparse_bench.profile import Profiler
from docparse_bench.services import CpuMeter, Service

QUIET_CORES = 0.3

NAMES = {
    1: "service ÷ raw (1 worker, large PDFs)",
    2: "scaling, 2 workers ÷ 1 (2 cores)",
    3: "job overhead, 1-page PDF (median / p99)",
    4: "small-job throughput (1-page PDFs, 2 workers)",
    5: "peers: docparse ÷ slowest common choice",
    6: "fidelity vs pdftotext (word recall / precision)",
    7: "upload memory, 1 GiB: API RSS growth",
    8: "big document (2,415 pages): peak RSS / page 1 readable",
    9: "status latency, GET /jobs/{id} p99 at 500 req/s",
    10: "OCR word recall, English manual pages scanned at 200 dpi (median)",
    11: "OCR Hangul recall, Korean pages scanned at 200 dpi (median)",
    12: "OCR pages/s: service ÷ same engine in process (1 worker)",
    13: "OCR pages/s: service ÷ OCRmyPDF --jobs 1",
    14: "digital manual pages/s: ocr=auto ÷ ocr=never",
    15: "one 2,415-page document: 2 workers ÷ 1 (wall time, local)",
    16: "one 2,415-page document: S3 ÷ local directory (throughput, 1 worker)",
    17: "1-page job latency p99 beside a 2,415-page tables job (2 workers)",
    18: "2,415 pages: page 1 readable after the 202 (local / S3)",
    19: "object writes for the 2,415-page document (worst run)",
    20: "one 40-page scan, OCR: 2 workers ÷ 1",
    21: "re-upload of a parsed document: result reused (median, worst document)",
    22: "Redis round trips per 1-page job, all processes together",
    23: "CPU per 1-page job, all processes together",
}
GOALS = {1: "≥ 0.90", 2: "≥ 1.8", 3: "≤ 8 ms / ≤ 30 ms", 4: "≥ 200 jobs/s", 5: "≥ 20×", 6: "≥ 0.97",
         7: "≤ 64 MiB", 8: "≤ 300 MB / ≤ 1 s", 9: "≤ 5 ms", 10: "≥ 0.92", 11: "≥ 0.92", 12: "≥ 0.9", 13: "≥ 1.5",
         14: "≥ 0.95", 15: "≥ 1.8", 16: "≥ 0.85", 17: "≤ 3 s", 18: "≤ 1 s (both)", 19: "≤ 150",
         20: "≥ 1.9", 21: "< 100 ms", 22: "≤ 12", 23: "≤ 6 ms"}  # fmt: skip
OCR = (10, 11, 12, 13)
CHUNKS = (15, 16, 18, 19)  # one measurement: the 2,415-page document on local 1 and 2 workers and S3 1 worker
SMALL = (4, 22, 23)  # one measurement: figure 4's uploads, what the service spent on them in Redis and CPU


class Run:
    def __init__(self, only: set[int], quiet_budget: float, profile: bool = False) -> None:
        self.only = only
        self.profile = profile
        self.svc: Service | None = None
        self.quiet_budget = quiet_budget
        self.figures: dict[int, Figure] = {}
        self.notes: list[str] = []
        self.t0 = time.perf_counter()

    def log(self, msg: str) -> None:
        print(f"[{time.perf_counter() - self.t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    def wanted(self, n: int) -> bool:
        return not self.only or n in self.only

    def skip(self, n: int, why: str) -> None:
        self.figures[n] = Figure(n, NAMES[n], "skipped", GOALS[n], None, [why])

    def wait_quiet(self) -> str:
        """Wait (within the run's budget) until other processes leave the cores alone: this machine is shared,
        and a figure measured while someone else's test suite runs says little."""
        t0 = time.perf_counter()
        calm = 0
        load = 0.0
        while True:
            with CpuMeter(self.svc) as m:
                time.sleep(0.5)
            load = m.foreign_cores()
            calm = calm + 1 if load < QUIET_CORES else 0
            waited = time.perf_counter() - t0
            if calm >= 2 or self.quiet_budget - waited <= 0:
                break
        self.quiet_budget -= time.perf_counter() - t0
        waited = time.perf_counter() - t0
        if calm >= 2:
            return f"started once other processes used < {QUIET_CORES} cores (waited {waited:.0f} s)"
        return f"started while other processes used {load:.2f} cores (the wait budget for quiet ran out)"

    def attempt(self, n: int, fn: Callable[[], Figure | None], measures: bool = True) -> None:
        """Run one figure; a failure is reported as that figure's result and the run goes on. A figure that only
        reads an earlier figure's measurement (not `measures`) does not wait for a quiet machine."""
        if not self.wanted(n):
            return
        quiet = self.wait_quiet() if measures else "measured in an earlier figure's runs"
        self.log(f"figure {n}: {NAMES[n]} ({quiet})")
        t = time.perf_counter()
        profiler = None
        if self.profile and self.svc is not None and self.svc.api is not None:
            profiler = Profiler(self.svc, REPO / "bench" / ".results" / "profiles", f"fig{n}")
        try:
            if profiler:
                with profiler:
                    fig = fn()
                if fig is not None:
                    fig.details += profiler.lines()
            else:
                fig = fn()
            if fig is not None:
                fig.details.append(f"machine: {quiet}; the figure took {time.perf_counter() - t:.1f} s")
                self.figures[n] = fig
                self.log(f"figure {n}: {fig.value} (goal {fig.goal}) in {time.perf_counter() - t:.1f} s")
        except Exception as exc:
            traceback.print_exc()
            self.figures[n] = Figure(n, NAMES[n], "error", GOALS[n], False, [f"the benchmark failed: {exc!r}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and samples (< 2 min)")
    parser.add_argument("--only", default="", help="comma-separated figure numbers, e.g. 3,4")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="where to write the report")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--keep", action="store_true", help="keep the service's temp dir (logs, storage) at the end")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the API and workers during each service "
        "figure; collapsed stacks in bench/.results/profiles/, a summary in the report",
    )
    parser.add_argument(
        "--backend",
        type=Path,
        help="run the service from another copy of backend/ (with its own "
        ".venv), e.g. a scratch copy with a fix to try; in-process figures still use bench/.venv",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for every service process, e.g. DOCPARSE_CHUNK_SECONDS=3, to try a value without editing "
        "the backend (does not write BENCHMARKS.md)",
    )
    args = parser.parse_args(argv)
    uvloop.install()
    if args.backend:
        services.BACKEND[0] = args.backend.resolve()
    for item in args.env:
        name, _, value = item.partition("=")
        services.EXTRA_ENV[name] = value

    cfg = Config.make(args.quick)
    run = Run({int(x) for x in args.only.split(",") if x.strip()}, 10.0 if args.quick else 90.0, args.profile)
    started = dt.datetime.now(dt.UTC)
    code = report.git_state()  # at the start: the tree may change while the benchmark runs
    scratch = Path(tempfile.mkdtemp(prefix="docparse-bench-files-"))

    docs, why = large_docs(run.log)
    if why:
        run.notes.append(f"large corpus unavailable: {why}; figures 1, 2, 5, 6, 8 and 10-14 are skipped")
        for n in (1, 2, 5, 6, 8):
            if run.wanted(n):
                run.skip(n, f"needs the large corpus: {why}")
    fullref = next((d for d in docs if d.name == "fullrefman.pdf"), None)
    mids = [d for d in docs if d is not fullref]
    fig1_docs = mids + ([fullref] if fullref and cfg.include_fullrefman_in_fig1 else [])
    small = one_page_pdf()
    small_path = scratch / "one-page.pdf"
    small_path.write_bytes(small)

    # --- in process, before any service runs ---
    if docs:
        peer_docs = docs if not cfg.quick else mids
        run.attempt(5, lambda: figures.figure5(peer_docs, cfg.peer_pages, run.log))

    svc = Service.create()
    run.svc = svc
    try:
        run.log(f"starting redis-server, API and 1 worker (queue {svc.queue}, storage {svc.storage_dir})")
        svc.start_redis()
        svc.start_api()
        svc.start_workers(1)
        run.log(f"service up: API on {svc.base_url}, redis on {svc.redis_port}")

        overhead_ids: list[str] = []
        sequential: list[figures.Cost] = []  # figure 3's, for figures 22 and 23

        def fig3() -> Figure:
            fig, ids, cost = figures.figure3(svc, small_path, cfg.overhead_jobs)
            overhead_ids.extend(ids)
            sequential.append(cost)
            return fig

        run.attempt(3, fig3)

        fig1_ids: dict[str, str] = {}
        if docs:

            def fig1() -> Figure:
                fig, ids = figures.figure1(svc, fig1_docs, cfg.reps_large, run.log)
                fig1_ids.update(ids)
                return fig

            run.attempt(1, fig1)

            def fig6() -> Figure:
                if not fig1_ids:  # figure 6 alone: parse the documents once through the service
                    done = asyncio.run(figures.run_docs_through_service(svc, fig1_docs))
                    fig1_ids.update({d.name: j for d, j, _ in done})
                return figures.figure6(svc, fig1_docs, fig1_ids)

            run.attempt(6, fig6)

        if fullref is not None:
            run.attempt(8, lambda: figures.figure8(svc, fullref, cfg.bigdoc_reps))

        def fig21() -> Figure:
            reupload = [("one-page.pdf", small)] + [(d.name, d.path.read_bytes()) for d in [fullref] if d is not None]
            return figures.figure21(svc, reupload, 10 if cfg.quick else 30)

        run.attempt(21, fig21)

        def fig9() -> Figure:
            ids = overhead_ids or _make_jobs(svc, small, 50)
            load = (lambda: _background_parse(svc, mids)) if (mids and not cfg.quick) else None
            return figures.figure9(svc, ids, cfg.status_rate, cfg.status_seconds, load)

        run.attempt(9, fig9)

        if any(run.wanted(n) for n in OCR):
            _ocr_figures(run, svc, cfg, docs)
        policy = next((d for d in docs if d.name == "policy.pdf"), mids[0] if mids else None)
        if policy is not None:
            run.attempt(14, lambda: ocr.auto_figure(14, NAMES[14], svc, policy, cfg.auto_reps))
        elif run.wanted(14):
            run.skip(14, "needs a born-digital manual of the large corpus")

        if docs:
            batch = [d for _ in range(cfg.batch_copies) for d in mids]
            run.attempt(2, lambda: figures.figure2(svc, batch, cfg.batch_reps, run.log))
        if len(svc.workers) < 2 and (any(run.wanted(n) for n in SMALL) or run.wanted(7)):
            run.log("starting a second worker")
            svc.start_workers(1)
        small_state: dict[str, figures.SmallJobs] = {}

        def small_runs() -> figures.SmallJobs:
            if "runs" not in small_state:
                small_state["runs"] = figures.small_jobs(svc, small, cfg)
            return small_state["runs"]

        def seq() -> figures.Cost | None:
            return sequential[0] if sequential else None

        run.attempt(4, lambda: figures.figure4(small_runs(), cfg))
        run.attempt(22, lambda: figures.figure22(small_runs(), cfg, seq()), measures="runs" not in small_state)
        run.attempt(23, lambda: figures.figure23(small_runs(), cfg, seq()), measures="runs" not in small_state)
        for n in SMALL:
            if n in run.figures and run.figures[n].met is not None:
                run.figures[n].details.append("figures 4, 22 and 23 come from the same runs, made in the first of them")
        run.attempt(7, lambda: figures.figure7(svc, 1 << 30, scratch))

        if any(run.wanted(n) for n in (*CHUNKS, 17, 20)):
            long_doc = fullref
            if long_doc is None:
                run.log("no fullrefman.pdf: generating a 2,415-page text PDF for figures 15-19")
                path = text_pdf(scratch / "generated-2415.pdf", 2415)
                long_doc = LargeDoc(path.name, path, 2415)
                run.notes.append("figures 15-19 ran on a generated 2,415-page text PDF (the corpus is absent)")
            _chunk_figures(run, svc, cfg, long_doc, small_path, small, args.keep)
            policy_doc = next((d for d in docs if d.name == "policy.pdf"), None)
            if cfg.ocr_scaling_reps and policy_doc is not None:
                check = chunking.SpeedCheck(small_path)
                run.attempt(
                    20,
                    lambda: chunking.ocr_scaling_figure(
                        20, NAMES[20], svc, policy_doc, cfg.ocr_scaling_pages, cfg.ocr_scaling_reps, check, run.log
                    ),
                )
            elif run.wanted(20):
                run.skip(20, "skipped by --quick (about 4 min)" if cfg.quick else "needs policy.pdf of the corpus")
    finally:
        run.log("stopping the service")
        svc.stop(keep=args.keep)
        if args.keep:
            print(f"kept {svc.workdir} (logs: api.log, worker*.log, redis.log)", file=sys.stderr)
        for p in scratch.iterdir():
            p.unlink()
        scratch.rmdir()

    figs = [run.figures[n] for n in sorted(run.figures)]
    seconds = time.perf_counter() - run.t0
    print()
    print(report.table(figs, markdown=False))
    print(f"\n{'quick' if args.quick else 'full'} run took {seconds:.0f} s")
    if args.env:
        run.notes.append("service settings given with --env: " + ", ".join(args.env))
    if not args.no_write and not run.only and not args.backend and not args.profile and not args.env:
        report.write(
            args.out,
            report.render(figs, quick=args.quick, seconds=seconds, notes=run.notes, started=started, code=code),
        )
        print(f"wrote {args.out}")
    report.dump_json(REPO / "bench" / ".results" / f"{'quick' if args.quick else 'full'}.json", figs,
                     quick=args.quick, seconds=seconds, started=started.isoformat(), notes=run.notes)  # fmt: skip
    return 0


def _ocr_figures(run: Run, svc: Service, cfg: Config, docs: list[LargeDoc]) -> None:
    """Figures 10-13 share one measurement: the scans read through the service, in process and by OCRmyPDF."""
    manual = next((d for d in docs if d.name == "policy.pdf"), None)
    if manual is None:
        for n in OCR:
            if run.wanted(n):
                run.skip(n, "needs policy.pdf of the large corpus (its prose pages are the English scans)")
        return
    work = ocr.workdir()
    state: dict[str, ocr.OcrRuns] = {}
    try:
        sets = [ocr.english_scans(manual, cfg.ocr_pages, work)]
        korean = ocr.korean_scans(cfg.ocr_pages, work)
        if korean is None:
            run.notes.append("fonts-nanum is not installed (apt-get install fonts-nanum): figure 11 is skipped")
            if run.wanted(11):
                run.skip(11, f"needs Nanum Gothic at {ocr.NANUM} (apt-get install fonts-nanum)")
        else:
            sets.append(korean)

        def runs() -> ocr.OcrRuns:
            if "runs" not in state:
                state["runs"] = ocr.measure(svc, sets, cfg.ocr_reps, work, run.log)
            return state["runs"]

        run.attempt(10, lambda: ocr.english_figure(10, NAMES[10], runs()))
        if korean is not None:
            run.attempt(11, lambda: ocr.korean_figure(11, NAMES[11], runs()))
        run.attempt(12, lambda: ocr.service_figure(12, NAMES[12], runs(), cfg.ocr_reps))
        run.attempt(13, lambda: ocr.ocrmypdf_figure(13, NAMES[13], runs(), cfg.ocr_reps))
        for n in OCR:  # one measurement behind all four: its time is in the first figure's machine line
            if n in run.figures and run.figures[n].met is not None:
                run.figures[n].details.append("figures 10-13 come from the same OCR runs, made in the first of them")
    finally:
        for p in work.iterdir():
            p.unlink()
        work.rmdir()


def _chunk_figures(run: Run, svc: Service, cfg: Config, doc: LargeDoc, small_path: Path, small: bytes,
                   keep: bool) -> None:  # fmt: skip
    """Figures 15, 16, 18 and 19 share one measurement (the long document on a local folder with 1 and 2 workers
    and on S3 with 1 worker); figure 17 runs on the local service with 2 workers."""
    check = chunking.SpeedCheck(small_path)
    state: dict[str, chunking.LongDocRuns] = {}
    if any(run.wanted(n) for n in CHUNKS):
        s3: chunking.S3Service | None = None
        s3_why: str | None = None
        if run.wanted(16) or run.wanted(18) or run.wanted(19):
            try:
                run.log("starting SeaweedFS and a service storing in its S3 bucket")
                s3 = chunking.S3Service.start()
                run.log(f"S3 service up: SeaweedFS in {s3.fs.started_in:.1f} s, API on {s3.svc.base_url}")
            except Exception as exc:  # no weed binary, or it did not come up: the S3 side is reported as skipped
                traceback.print_exc()
                s3_why = f"SeaweedFS did not start: {exc!r}"
                run.notes.append(f"figures 16 and 18 (S3 side): {s3_why}")
        try:

            def runs() -> chunking.LongDocRuns:
                if "runs" not in state:
                    state["runs"] = chunking.measure_long_doc(svc, s3, s3_why, doc, cfg.chunk_reps, check, run.log)
                return state["runs"]

            run.attempt(15, lambda: chunking.scaling_figure(15, NAMES[15], runs()))
            run.attempt(16, lambda: chunking.s3_figure(16, NAMES[16], runs()))
            run.attempt(18, lambda: chunking.page1_figure(18, NAMES[18], runs()))
            run.attempt(19, lambda: chunking.writes_figure(19, NAMES[19], runs()))
            for n in CHUNKS:
                if n in run.figures and run.figures[n].met is not None:
                    run.figures[n].details.append("figures 15, 16, 18 and 19 come from the same runs, made in the "
                                                  "first of them")  # fmt: skip
        finally:
            if s3 is not None:
                s3.stop(keep=keep)
                if keep:
                    print(f"kept {s3.svc.workdir} (the S3 service's logs and SeaweedFS)", file=sys.stderr)
    run.attempt(17, lambda: chunking.latency_figure(17, NAMES[17], svc, doc, small, cfg.latency_jobs,
                                                    cfg.latency_interval, check))  # fmt: skip


def _make_jobs(svc: Service, pdf: bytes, count: int) -> list[str]:
    async def go() -> list[str]:
        conn = await Conn("127.0.0.1", svc.api_port).connect()
        raw = upload_request(pdf, "one-page.pdf")
        ids = [await upload_ok(conn, raw) for _ in range(count)]
        await conn.close()
        return ids

    return asyncio.run(go())


def _background_parse(svc: Service, docs: list[LargeDoc]) -> Callable[[], None]:
    """Keep the worker parsing `docs` (one after another, from a thread of its own) until the returned function is
    called; that function then waits for the document in progress, so the next figure starts on an idle service."""
    stop = threading.Event()
    payloads = [(upload_request(d.path.read_bytes(), d.name)) for d in docs]

    async def go() -> None:
        conn = await Conn("127.0.0.1", svc.api_port).connect()
        i = 0
        while not stop.is_set():
            job_id = await upload_ok(conn, payloads[i % len(payloads)])
            i += 1
            while (await conn.request(get_request(f"/jobs/{job_id}"))).json()["status"] not in (  # noqa: ASYNC110
                "completed", "failed", "cancelled"):  # fmt: skip
                await asyncio.sleep(0.2)
        await conn.close()

    thread = threading.Thread(target=lambda: asyncio.run(go()), daemon=True)
    thread.start()

    def wait() -> None:
        stop.set()
        thread.join(600)

    return wait


if __name__ == "__main__":
    sys.exit(main())
