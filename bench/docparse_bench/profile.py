"""`--profile`: py-spy on the service's processes while a figure runs; collapsed stacks plus a short summary."""

from __future__ import annotations

import collections
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from docparse_bench.services import Service

IDLE = ("select (selectors.py", "EpollSelector.select", "_worker (concurrent/futures/thread.py", "main (child.py")


def _frame(f: str) -> str:
    name, _, where = f.partition(" (")
    file = where.split(":")[0].split("site-packages/")[-1].split("/lib/python3.11/")[-1].split("/src/")[-1]
    return f"{name} ({file})"


def summarize(path: Path, top: int = 6) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """(samples, top self frames, top docparse frames inclusive) of a py-spy raw (collapsed) file."""
    selfc: collections.Counter = collections.Counter()
    ours: collections.Counter = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";") if " (" in f]
        if not frames or any(frames[-1].startswith(i) or i in frames[-1] for i in IDLE):
            continue
        total += int(n)
        selfc[frames[-1]] += int(n)
        for f in dict.fromkeys(x for x in frames if "docparse/" in x and "cli.py" not in x):
            ours[f] += int(n)
    pct = lambda c: [(k, 100 * v / max(1, total)) for k, v in c.most_common(top)]  # noqa: E731
    return total, pct(selfc), pct(ours)


class Profiler:
    """py-spy record on the API and every worker (with its parse children) for the duration of a `with`."""

    def __init__(self, svc: Service, outdir: Path, tag: str) -> None:
        self.svc, self.outdir, self.tag = svc, outdir, tag
        self.spy = shutil.which("py-spy") or str(Path(sys.prefix) / "bin" / "py-spy")
        self.procs: list[tuple[Path, subprocess.Popen]] = []

    def __enter__(self) -> Profiler:
        self.outdir.mkdir(parents=True, exist_ok=True)
        targets = [("api", self.svc.api)] if self.svc.api else []
        targets += [(w.name, w) for w in self.svc.workers]
        for role, proc in targets:
            out = self.outdir / f"{self.tag}-{role}.txt"
            cmd = [self.spy, "record", "--pid", str(proc.pid), "--subprocesses", "--rate", "250", "--nonblocking",
                   "--format", "raw", "-o", str(out)]  # fmt: skip
            self.procs.append((out, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        return self

    def __exit__(self, *exc: object) -> None:
        for _, p in self.procs:
            p.send_signal(signal.SIGINT)
        for _, p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()

    def lines(self) -> list[str]:
        out = []
        for path, _ in self.procs:
            if not path.exists():
                out.append(f"profile {path.name}: py-spy wrote nothing (needs ptrace rights)")
                continue
            total, selfs, ours = summarize(path)
            out.append(f"profile {path} ({total} busy samples): self time "
                       + ", ".join(f"{k} {v:.0f}%" for k, v in selfs)
                       + "; docparse frames (inclusive) " + ", ".join(f"{k} {v:.0f}%" for k, v in ours))  # fmt: skip
        return out
