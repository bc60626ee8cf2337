"""The `docparse` command: run the API, a worker, or both together for development."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from docparse.settings import get_settings


def run_api() -> None:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "docparse.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,  # our logging setup (docparse.logs) formats uvicorn's lines too
        timeout_graceful_shutdown=5,
    )


def run_worker() -> None:
    from docparse.jobs.worker import main

    main(get_settings())


def run_dev() -> int:
    """The API and DOCPARSE_WORKERS workers as child processes, in the foreground, until Ctrl-C stops them all."""
    settings = get_settings()
    me = [sys.executable, "-m", "docparse.cli"]
    procs = [subprocess.Popen([*me, "api"])]
    procs += [subprocess.Popen([*me, "worker"]) for _ in range(settings.workers)]
    print(
        f"docparse: API on http://{settings.host}:{settings.port}/ with {settings.workers} worker(s); Ctrl-C stops.",
        file=sys.stderr,
        flush=True,
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for p in procs:
            if p.poll() is not None:  # one died: stop everything rather than run half a service
                print(f"docparse: process {p.args[-1]} exited with {p.returncode}; stopping.", file=sys.stderr)
                code, stopping = p.returncode or 1, True
        time.sleep(0.2)
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
    return code


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="docparse", description=__doc__)
    parser.add_argument("command", choices=["api", "worker", "dev"])
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if args.command == "api":
        run_api()
    elif args.command == "worker":
        run_worker()
    else:
        sys.exit(run_dev())


if __name__ == "__main__":
    main()
