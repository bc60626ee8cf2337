"""The real stack for the session (a private Redis, the API serving the built UI, worker processes) and Chromium.

Every test starts from a clean state: all jobs are deleted through the API before it, and it gets a fresh browser
context. Server logs go to e2e/artifacts/logs/, screenshots of failures to e2e/artifacts/failures/.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "e2e" / "artifacts"
README_SCREENSHOTS = REPO / "docs" / "screenshots"
QUEUE_NAME = "e2e"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Each phase's report, so fixtures can tell whether their test failed (for the failure screenshot).
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--readme-screenshots",
        action="store_true",
        help=f"also write the README's screenshots to {README_SCREENSHOTS.relative_to(REPO)}/",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The cancel scenario runs last: it kills parse processes mid-page, and should a worker not recover from
    that (the scenario checks that it does), the failure stays in that scenario instead of spreading."""
    items.sort(key=lambda item: item.path.name == "test_cancel.py")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


# --------------------------------------------------------------------------------------------------------------
# The stack


@dataclass
class Stack:
    base_url: str
    redis_url: str
    storage_dir: Path
    queue_name: str
    api: httpx.Client
    webhook_secret: str = ""
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def delete_all_jobs(self) -> None:
        """Deletes every job (a running one is cancelled first, by the API) until the history is empty."""
        for _ in range(20):
            jobs = self.api.get("/jobs", params={"limit": 200}).raise_for_status().json()["jobs"]
            if not jobs:
                return
            for job in jobs:
                response = self.api.delete(f"/jobs/{job['job_id']}", timeout=30)
                assert response.status_code in (204, 404), response.text
        raise AssertionError("jobs are still listed after deleting them all")

    def files(self) -> list[Path]:
        return [p for p in self.storage_dir.rglob("*") if p.is_file()] if self.storage_dir.exists() else []

    def job_dirs(self) -> set[str]:
        jobs = self.storage_dir / "jobs"
        return {p.name for p in jobs.iterdir()} if jobs.exists() else set()

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}; see {log_path(name)}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_path(name: str) -> Path:
    return ARTIFACTS / "logs" / f"{name}.log"


_LIBC = ctypes.CDLL(None)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: a new session (so its whole group can be killed), and SIGKILL when pytest dies."""
    os.setsid()
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def start(name: str, argv: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    log = log_path(name).open("wb")
    try:
        return subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )  # fmt: skip
    finally:
        log.close()


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM to the process group, then SIGKILL to whatever of the group is left (parse processes included)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def backend_python(backend: Path) -> str:
    """The interpreter of the backend's own environment (synced from its lock by `uv run --frozen`)."""
    uv = [shutil.which("uv")] if shutil.which("uv") else ["python3", "-m", "uv"]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    out = subprocess.run(
        [*uv, "run", "--frozen", "python", "-c", "import sys, docparse; print(sys.executable)"],
        cwd=backend, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        pytest.exit(f"cannot run the backend in {backend}:\n{out.stderr}", returncode=3)
    return out.stdout.strip().splitlines()[-1]


def frontend_dist() -> Path:
    dist = Path(os.environ.get("DOCPARSE_E2E_FRONTEND_DIR", REPO / "frontend" / "dist"))
    if not (dist / "index.html").is_file():
        pytest.exit(f"the web UI is not built ({dist}/index.html is missing): run `just frontend-build`", returncode=3)
    sources = [p for p in (REPO / "frontend" / "src").rglob("*") if p.is_file()]
    if sources and max(p.stat().st_mtime for p in sources) > (dist / "index.html").stat().st_mtime:
        pytest.exit("the web UI build is older than its sources: run `just frontend-build` (or `just e2e`)", 3)
    return dist


def wait_ready(stack: Stack, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        stack.check_alive()
        with contextlib.suppress(httpx.HTTPError):
            response = stack.api.get("/ready", timeout=2)
            last = f"{response.status_code} {response.text}"
            if response.status_code == 200 and response.json().get("ready"):
                return
        time.sleep(0.25)
    raise AssertionError(f"the stack did not become ready in {timeout:.0f} s: /ready said {last}")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Redis, the API and DOCPARSE_E2E_WORKERS (default 2) workers, on free ports and a fresh storage dir, with
    webhooks signed by a fresh secret and allowed to reach 127.0.0.1 (where the tests run their receivers)."""
    backend = Path(os.environ.get("DOCPARSE_E2E_BACKEND_DIR", REPO / "backend")).resolve()
    dist = frontend_dist()
    python = backend_python(backend)
    (ARTIFACTS / "logs").mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="docparse-e2e-"))
    redis_port, api_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{api_port}"
    # Nothing of the caller's docparse configuration leaks in: only what is set here.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("DOCPARSE_") and k not in ("REDIS_URL", "VIRTUAL_ENV")
    }
    env.update(
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        DOCPARSE_HOST="127.0.0.1",
        DOCPARSE_PORT=str(api_port),
        DOCPARSE_STORAGE_DIR=str(tmp / "storage"),
        DOCPARSE_QUEUE_NAME=QUEUE_NAME,
        DOCPARSE_FRONTEND_DIR=str(dist),
        DOCPARSE_LOG_JSON="true",
        PYTHONUNBUFFERED="1",
        # webhooks reach the receiver a test runs on this machine; a failed try is tried again after about a second
        DOCPARSE_WEBHOOK_SECRET="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        DOCPARSE_WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
        DOCPARSE_WEBHOOK_FIRST_RETRY="1",
    )
    stack = Stack(
        base_url, env["REDIS_URL"], tmp / "storage", QUEUE_NAME, httpx.Client(base_url=base_url, timeout=15),
        webhook_secret=env["DOCPARSE_WEBHOOK_SECRET"],
    )  # fmt: skip
    previous_sigterm = signal.getsignal(signal.SIGTERM)

    def on_sigterm(*_: object) -> None:  # so a terminated pytest still runs the teardown below
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        (tmp / "redis").mkdir()
        stack.procs["redis"] = start(
            "redis",
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp / "redis"), "--daemonize", "no"],
            env=env, cwd=tmp,
        )  # fmt: skip
        stack.procs["api"] = start("api", [python, "-m", "docparse.cli", "api"], env=env, cwd=backend)
        for i in range(int(os.environ.get("DOCPARSE_E2E_WORKERS", "2"))):
            stack.procs[f"worker-{i + 1}"] = start(
                f"worker-{i + 1}", [python, "-m", "docparse.cli", "worker"], env=env, cwd=backend
            )
        wait_ready(stack)
        yield stack
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # told to stop again: finish cleaning up first
        try:
            for name in reversed(list(stack.procs)):
                stop(stack.procs[name])
            stack.api.close()
            shutil.rmtree(tmp, ignore_errors=True)
        finally:
            signal.signal(signal.SIGTERM, previous_sigterm)


@pytest.fixture(autouse=True)
def clean_state(stack: Stack) -> Iterator[None]:
    """Before each test: no jobs, an empty storage dir, every process alive."""
    stack.check_alive()
    stack.delete_all_jobs()
    leftovers = [str(p.relative_to(stack.storage_dir)) for p in stack.files()]
    assert not leftovers, f"files are left in storage after deleting every job: {leftovers}"
    yield
    stack.check_alive()


# --------------------------------------------------------------------------------------------------------------
# The browser


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = os.environ.get("DOCPARSE_E2E_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.exit("Chromium is needed: apt-get install chromium (or set DOCPARSE_E2E_CHROMIUM)", returncode=3)
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


# Records every value a progress bar shows, as it changes, so a test can tell that progress advanced.
PROGRESS_RECORDER = """
window.__progress = [];
const record = (el) => {
  if (el.tagName !== 'PROGRESS') return;
  window.__progress.push({ label: el.getAttribute('aria-label'), text: el.getAttribute('aria-valuetext') });
};
new MutationObserver((mutations) => {
  for (const m of mutations) {
    if (m.type === 'attributes') record(m.target);
    else for (const node of m.addedNodes) {
      if (node.nodeType !== 1) continue;
      record(node);
      node.querySelectorAll('progress').forEach(record);
    }
  }
}).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuetext'] });
"""


@dataclass
class Watched:
    """What the page did that a test may assert on: uncaught errors, dialogs, console lines, requests."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console: list[ConsoleMessage] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def context(browser: Browser, stack: Stack, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    locale = getattr(request, "param", "en-US")
    context = browser.new_context(
        base_url=stack.base_url, viewport={"width": 1280, "height": 900}, locale=locale, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    context.add_init_script(PROGRESS_RECORDER)
    yield context
    context.close()


@pytest.fixture
def watched() -> Watched:
    return Watched()


@pytest.fixture
def page(context: BrowserContext, watched: Watched, request: pytest.FixtureRequest) -> Iterator[Page]:
    page = context.new_page()
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on("console", lambda message: watched.console.append(message))
    page.on("request", lambda r: watched.requests.append(r.url))

    def on_dialog(dialog) -> None:  # a dialog means document content ran as script: record it, then dismiss it
        watched.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    # Let page pictures still loading finish first: the next test deletes every job, and a picture the server
    # renders while its job is deleted can be written after the delete (a server-side race, left to the server).
    with contextlib.suppress(Exception):
        page.wait_for_function("[...document.images].every((img) => img.complete)", timeout=10_000)
    reports = request.node.stash.get(REPORTS, {})
    if any(r.failed for r in reports.values()):
        (ARTIFACTS / "failures").mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        with contextlib.suppress(Exception):
            page.screenshot(path=ARTIFACTS / "failures" / f"{name}.png", full_page=True)
            (ARTIFACTS / "failures" / f"{name}.html").write_text(page.content())
    assert not watched.errors, f"uncaught errors in the page: {watched.errors}"


@pytest.fixture
def shot(page: Page, request: pytest.FixtureRequest):
    """shot(name): a screenshot of a key state into e2e/artifacts/; readme=True also writes the README's copy
    (docs/screenshots/) when pytest runs with --readme-screenshots."""
    write_readme = request.config.getoption("--readme-screenshots")

    def take(name: str, *, readme: bool = False, full_page: bool = False) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        data = page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=full_page, animations="disabled")
        if readme and write_readme:
            README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (README_SCREENSHOTS / f"{name}.png").write_bytes(data)

    return take


def pytest_sessionstart(session: pytest.Session) -> None:
    expect.set_options(timeout=20_000)
    shutil.rmtree(ARTIFACTS / "failures", ignore_errors=True)
