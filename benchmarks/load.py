"""`make load`: concurrent async SDK callers against the local server, in its own process.

N tasks share one `AsyncTogether` and call `rerank.create` back to back for T
seconds against `together-rerank serve` on loopback (a child process, so the
client and the server do not share a GIL). Retries are off: every failure
counts as an error. Reported: requests, errors, throughput, latency
percentiles, the RSS of both processes before and after, and the most TCP
connections the client held open to the server at once against its pool limit.

    python -m benchmarks.load                      # 64 callers for 30 s
    python -m benchmarks.load --concurrency 8 --duration 3 --json

`--server local` runs `together_rerank.server.LocalServer` in the child
instead of the CLI. Exit status 1 when there were errors or the client went
over its connection limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import httpx

from together_rerank import AsyncTogether, RerankResponse
from together_rerank._client import DEFAULT_LIMITS

MODEL = "Salesforce/Llama-Rank-V1"
QUERY = "What is retrieval-augmented generation?"
SEED_DOCUMENTS = [
    "The weather forecast predicts rain tomorrow.",
    "RAG combines retrieval with generation for more accurate LLM responses.",
    "Python is a popular programming language.",
    "Retrieval-augmented generation uses external knowledge to improve LLM outputs.",
    "The stock market closed higher today.",
]
TOP_N = 3
SAMPLE_INTERVAL = 0.25  # reading /proc/net/tcp costs ~5-10 ms: keep the probe light

_LOCAL_SERVER_CODE = """
import sys
from together_rerank.server import LocalServer
with LocalServer(port=int(sys.argv[1])):
    sys.stdin.read()
"""


# --- /proc readers -------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """The resident set size of a process, in KiB (`VmRSS` of /proc/<pid>/status)."""
    return _status_field(pid, "VmRSS")


def peak_rss_kib(pid: int) -> int:
    """The peak resident set size of a process, in KiB (`VmHWM`)."""
    return _status_field(pid, "VmHWM")


def _status_field(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {name}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used (/proc/<pid>/stat), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        with contextlib.suppress(OSError):
            target = os.readlink(f"{fd_dir}/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def established_connections(pid: int, remote_port: int) -> int:
    """TCP connections in ESTABLISHED state that process `pid` holds to `remote_port`."""
    inodes = _socket_inodes(pid)
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                state, remote, inode = fields[3], fields[2], fields[9]
                if state == "01" and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                    count += inode in inodes
    return count


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "httpx": httpx.__version__,
        "load_average": os.getloadavg(),
    }


# --- the server, in a child process ----------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class ServerProcess:
    """The local server in a child process on loopback: `together-rerank serve` or `LocalServer`."""

    def __init__(self, kind: str = "cli", startup_timeout: float = 60.0) -> None:
        if kind not in ("cli", "local"):
            raise ValueError(f"unknown server kind {kind!r}")
        self.kind = kind
        self.port = free_port()
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self._process is not None, "not started"
        return self._process.pid

    @property
    def base_url(self) -> str:
        """The API base URL, with `/v1`."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        """Start the child and return once `GET /health` answers."""
        if self.kind == "cli":
            command = [
                sys.executable,
                "-m",
                "together_rerank.cli",
                "serve",
                "--port",
                str(self.port),
            ]
        else:
            command = [sys.executable, "-c", _LOCAL_SERVER_CODE, str(self.port)]
        # Closed in stop(): the child writes to it for as long as it runs.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        # A load test of the SDK and server, not of a model: the lexical engines, also
        # where the semantic extra is installed.
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOGETHER_RERANK_SERVER_ENGINES": "lexical"}
        env.pop("TOGETHER_RERANK_SERVER_API_KEY", None)
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,  # the CLI's access log: one line per request
            stderr=self._log,
            env=env,
        )
        deadline = time.monotonic() + self._startup_timeout
        with httpx.Client(timeout=2.0) as http:
            while True:
                if self._process.poll() is not None:
                    raise RuntimeError(f"the server exited at startup:\n{self.log()}")
                with contextlib.suppress(httpx.TransportError):
                    if http.get(f"http://127.0.0.1:{self.port}/health").status_code == 200:
                        return
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the server did not answer /health:\n{self.log()}")
                time.sleep(0.05)

    def log(self) -> str:
        """What the child wrote to stderr."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        """Stop the child (EOF, then SIGTERM, then SIGKILL) and release everything."""
        process, self._process = self._process, None
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()
            if self.kind == "cli":
                process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(15)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --- the load ----------------------------------------------------------------------------


@dataclass
class LoadReport:
    """The figures of one run."""

    concurrency: int
    duration_s: float
    documents: int
    requests: int = 0
    errors: int = 0
    errors_by_type: dict[str, int] = field(default_factory=dict)
    throughput_rps: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    client_rss_kib: dict[str, int] = field(default_factory=dict)
    server_rss_kib: dict[str, int] = field(default_factory=dict)
    connections: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    """CPU seconds each process used during the measured run (of `duration_s` wall seconds)."""
    server: str = ""
    machine: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No errors, and never more connections than the pool allows."""
        return (
            self.errors == 0
            and self.connections["max_established"] <= self.connections["pool_max_connections"]
        )


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def run_load(
    base_url: str,
    *,
    server_pid: int,
    server_port: int,
    concurrency: int,
    duration: float,
    documents: int = len(SEED_DOCUMENTS),
    max_connections: int | None = None,
) -> LoadReport:
    """`concurrency` callers sharing one client, calling back to back for `duration` seconds.

    The client's connection pool is the SDK's default, or `max_connections` wide.
    """
    docs = [SEED_DOCUMENTS[i % len(SEED_DOCUMENTS)] for i in range(documents)]
    top_n = min(TOP_N, documents)
    report = LoadReport(concurrency=concurrency, duration_s=duration, documents=documents)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    me = os.getpid()
    max_established = 0

    client, http, limits = _client(base_url, max_connections)
    async with client, http or contextlib.nullcontext():

        async def call() -> None:
            response = await client.rerank.create(
                model=MODEL, query=QUERY, documents=docs, top_n=top_n
            )
            if not isinstance(response, RerankResponse) or len(response.results) != top_n:
                raise AssertionError(f"wrong ranking: {response!r}")

        # Warm up: open the connections and load everything, then measure.
        await asyncio.gather(*(call() for _ in range(concurrency)))
        report.client_rss_kib["before"] = rss_kib(me)
        report.server_rss_kib["before"] = rss_kib(server_pid)

        stop = time.perf_counter() + duration

        async def worker() -> None:
            while time.perf_counter() < stop:
                start = time.perf_counter()
                try:
                    await call()
                except Exception as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                else:
                    latencies.append(time.perf_counter() - start)

        async def sample() -> None:
            nonlocal max_established
            while True:
                max_established = max(max_established, established_connections(me, server_port))
                await asyncio.sleep(SAMPLE_INTERVAL)

        sampler = asyncio.create_task(sample())
        cpu_before = cpu_seconds(me), cpu_seconds(server_pid)
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        report.cpu_s = {
            "client": round(cpu_seconds(me) - cpu_before[0], 2),
            "server": round(cpu_seconds(server_pid) - cpu_before[1], 2),
        }
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        max_established = max(max_established, established_connections(me, server_port))

        report.client_rss_kib["after"] = rss_kib(me)
        report.server_rss_kib["after"] = rss_kib(server_pid)
        report.client_rss_kib["peak"] = peak_rss_kib(me)
        report.server_rss_kib["peak"] = peak_rss_kib(server_pid)

    _summarize(report, latencies, errors, elapsed)
    report.connections = {
        "max_established": max_established,
        "pool_max_connections": limits.max_connections or 0,
        "pool_max_keepalive": limits.max_keepalive_connections or 0,
    }
    return report


def _client(
    base_url: str, max_connections: int | None
) -> tuple[AsyncTogether, httpx.AsyncClient | None, httpx.Limits]:
    """The SDK client the callers share (retries off), its own httpx client if any, its limits."""
    if max_connections is None:
        return AsyncTogether(base_url=base_url, max_retries=0, timeout=60.0), None, DEFAULT_LIMITS
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=None)
    http = httpx.AsyncClient(limits=limits)
    client = AsyncTogether(base_url=base_url, max_retries=0, timeout=60.0, http_client=http)
    return client, http, limits


def _summarize(
    report: LoadReport, latencies: list[float], errors: dict[str, int], elapsed: float
) -> None:
    latencies.sort()
    report.duration_s = round(elapsed, 3)
    report.requests = len(latencies) + sum(errors.values())
    report.errors = sum(errors.values())
    report.errors_by_type = errors
    report.throughput_rps = round(report.requests / elapsed, 1)
    report.latency_ms = {
        name: round(percentile(latencies, fraction) * 1000, 2)
        for name, fraction in (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("max", 1.0))
    }
    report.machine = machine()


def load(
    concurrency: int, duration: float, *, server: str = "cli", documents: int = 5
) -> LoadReport:
    """Start the server in a child process, run the load against it, stop it."""
    with ServerProcess(server) as child:
        report = asyncio.run(
            run_load(
                child.base_url,
                server_pid=child.pid,
                server_port=child.port,
                concurrency=concurrency,
                duration=duration,
                documents=documents,
            )
        )
    report.server = "together-rerank serve" if server == "cli" else "LocalServer"
    return report


def _text(report: LoadReport) -> str:
    lat, conn = report.latency_ms, report.connections
    client, srv = report.client_rss_kib, report.server_rss_kib
    return "\n".join(
        [
            f"load: {report.concurrency} callers for {report.duration_s:.1f} s against "
            f"{report.server}, {report.documents} documents per call",
            f"requests {report.requests}, errors {report.errors} {report.errors_by_type or ''}",
            f"throughput {report.throughput_rps} req/s",
            f"latency p50 {lat['p50']} ms, p90 {lat['p90']} ms, p99 {lat['p99']} ms, "
            f"max {lat['max']} ms",
            f"client RSS {client['before'] / 1024:.1f} -> {client['after'] / 1024:.1f} MiB "
            f"(peak {client['peak'] / 1024:.1f})",
            f"server RSS {srv['before'] / 1024:.1f} -> {srv['after'] / 1024:.1f} MiB "
            f"(peak {srv['peak'] / 1024:.1f})",
            f"CPU: client {report.cpu_s['client']} s, server {report.cpu_s['server']} s "
            f"in {report.duration_s:.1f} s",
            f"connections: at most {conn['max_established']} open "
            f"(pool limit {conn['pool_max_connections']}, keep-alive {conn['pool_max_keepalive']})",
            f"machine: {report.machine['nproc']} x {report.machine['cpu']}, "
            f"Python {report.machine['python']}, load average {report.machine['load_average']}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--concurrency", type=int, default=64, help="callers (default 64)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds (default 30)")
    parser.add_argument("--documents", type=int, default=5, help="documents per call (default 5)")
    parser.add_argument(
        "--server", choices=["cli", "local"], default="cli", help="server to run (default cli)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.duration <= 0 or args.documents < 1:
        parser.error("--concurrency, --duration and --documents must be positive")
    report = load(args.concurrency, args.duration, server=args.server, documents=args.documents)
    print(json.dumps(asdict(report), indent=2) if args.json else _text(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
