"""Running the app: `LocalServer` in a background thread, `serve` in the foreground."""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from types import FrameType, TracebackType
from typing import Any, Self

import uvicorn
from starlette.types import ASGIApp

from together_rerank.server.app import create_app
from together_rerank.server.config import ServerConfig
from together_rerank.server.engines import engine_type
from together_rerank.server.protocol import timed_protocol

logger = logging.getLogger("together_rerank.server")

_SHUTDOWN_GRACE_SECONDS = 5


class ServerStartError(Exception):
    """`serve` could not start: the address is taken, unknown or not ours to bind."""


def _uvicorn_options(config: ServerConfig) -> dict[str, Any]:
    """The uvicorn settings `LocalServer` and `serve` share: timeouts and shutdown."""
    return {
        "lifespan": "off",
        "http": timed_protocol(config.header_timeout),
        "timeout_keep_alive": config.keep_alive_timeout,
        "timeout_graceful_shutdown": _SHUTDOWN_GRACE_SECONDS,
    }


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


_REUSE_PORT = hasattr(socket, "SO_REUSEPORT")


def _bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only then, and without it
    # Nagle's algorithm adds ~40 ms to each request on a kept-alive connection.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen()
    except BaseException:
        sock.close()
        raise
    return sock


class LocalServer:
    """Serve `create_app(config)` on loopback in a background thread (tests, demos, benchmarks).

    Use as a context manager; the port is picked by the OS when the socket is
    bound, before uvicorn starts, so there is no window for another process to
    take it. `app=` serves another ASGI app instead (a wrapped or broken
    server, in contract tests).
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 10.0,
        app: ASGIApp | None = None,
    ) -> None:
        self.config = config or ServerConfig()
        self.app = app
        self.host = host
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        """The bound TCP port (only known once started)."""
        if self._socket is None:
            raise RuntimeError("LocalServer is not running")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def root_url(self) -> str:
        """The server's origin, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL with the ``/v1`` prefix, e.g. ``http://127.0.0.1:54321/v1``."""
        return f"{self.root_url}/v1"

    def start(self) -> None:
        """Bind, start uvicorn in a daemon thread and return once it accepts requests."""
        if self._thread is not None:
            raise RuntimeError("LocalServer is already running")
        sock = _bind(self.host, self._requested_port)
        uv_config = uvicorn.Config(
            self.app or create_app(self.config),
            log_config=None,  # leave the host application's logging alone
            log_level="warning",
            access_log=False,
            **_uvicorn_options(self.config),
        )
        server = uvicorn.Server(uv_config)
        thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name="together-rerank-server",
            daemon=True,
        )
        self._socket, self._server, self._thread = sock, server, thread
        thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    "the local server did not start; see the log for uvicorn's reason"
                )
            time.sleep(0.005)

    def stop(self) -> None:
        """Ask uvicorn to finish in-flight requests and exit, then release the socket."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = None
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(_SHUTDOWN_GRACE_SECONDS * 2)
            if thread.is_alive():
                server.force_exit = True
                thread.join(_SHUTDOWN_GRACE_SECONDS)
        if sock is not None:
            sock.close()
            self._socket = None

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


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _log_config() -> dict[str, Any]:
    # uvicorn's own format, extended so this package's warnings and tracebacks show too.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"]["together_rerank"] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    return dict(log_config)


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    config: ServerConfig | None = None,
    *,
    log_level: str = "info",
    workers: int = 1,
) -> None:
    """Run the server in the foreground until interrupted (``together-rerank serve``).

    ``workers > 1`` runs that many processes accepting on the one socket
    (lexical engines only: see `engines_without_workers`).
    """
    cfg = config or ServerConfig()
    several = workers > 1
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    refused = engines_without_workers(cfg.models) if workers > 1 else []
    if refused:
        raise ValueError(
            f"several workers serve only the lexical engines; {', '.join(refused)} "
            "would load its model once per worker"
        )
    try:
        sock = _bind(host, port, reuse_port=several and _REUSE_PORT)
    except OSError as exc:  # socket.gaierror too: an unresolvable host
        reason = exc.strerror or str(exc)
        raise ServerStartError(f"cannot listen on {_url_host(host)}:{port}: {reason}") from None
    # Building the uvicorn config installs its logging, so the notes below show.
    uv_config = uvicorn.Config(
        create_app(cfg),
        host=host,
        port=port,
        log_level=log_level,
        log_config=_log_config(),
        **_uvicorn_options(cfg),
    )
    engines = ", ".join(sorted(set(cfg.models.values())))
    logger.info("local engines (%s) loaded and warm; models: %d", engines, len(cfg.models))
    if cfg.api_key is None and not _is_loopback(host):
        logger.warning("serving on %s without an API key: anyone who can reach it can use it", host)
    bound = sock.getsockname()[1]
    logger.info("serving on http://%s:%d/v1 (press CTRL+C to stop)", _url_host(host), bound)
    if several:
        with sock:
            _Workers(uv_config, sock, workers, host).run()
        return
    try:
        with sock:
            uvicorn.Server(uv_config).run(sockets=[sock])
    except SystemExit as exc:
        # uvicorn exits with its own code 3 when it cannot start; ours is documented.
        raise ServerStartError(f"uvicorn could not start (exit {exc.code}); see its log") from None


def engines_without_workers(models: Mapping[str, str]) -> list[str]:
    """The engines of `models` that `serve(workers=N > 1)` refuses: every model engine.

    A lexical engine loads nothing and keeps no state, so N processes give N
    times the CPU. A model engine would hold one copy of its weights per
    process and each copy would spread its forward passes over every core, so
    the workers would fight for the same cores; one process batching
    concurrent requests is the way to scale it.
    """
    return sorted({e for e in models.values() if engine_type(e)[0].extra != "server"})


_RESTART_WINDOW_SECONDS = 60.0
_MAX_RESTARTS = 5
_POLL_SECONDS = 0.05


class _Workers:
    """N forked uvicorn processes accepting on one port, and their supervision.

    The parent binds the port (so port errors and ``--port 0`` behave as with
    one process) and, where the platform has SO_REUSEPORT (Linux, BSD), one
    more listening socket on it per further worker; then it forks, worker i
    accepting on socket i. The kernel spreads new connections over the
    sockets, so every worker gets its share: on one shared socket the first
    worker to wake accepts every pending connection and the others idle. (A
    socket a worker leaves behind stays open in the parent, so connections
    queued on it wait for the worker that replaces it.) Without SO_REUSEPORT
    all workers accept on the one socket. SIGINT or SIGTERM to the
    parent stops every worker (SIGTERM, then SIGKILL after the grace period);
    a worker whose parent dies is sent SIGTERM by the kernel (Linux), so none
    is orphaned. A worker that exits on its own is replaced, at most
    `_MAX_RESTARTS` times a minute.
    """

    def __init__(
        self, uv_config: uvicorn.Config, sock: socket.socket, count: int, host: str
    ) -> None:
        self.uv_config = uv_config
        self.sockets = [sock] * count
        self.count = count
        self.children: dict[int, int] = {}  # pid -> worker number
        self.stopping = False
        if _REUSE_PORT:
            port = sock.getsockname()[1]
            try:
                for number in range(1, count):
                    self.sockets[number] = _bind(host, port, reuse_port=True)
            except OSError as exc:
                self._close_own()
                reason = exc.strerror or str(exc)
                raise ServerStartError(
                    f"cannot listen on {_url_host(host)}:{port}: {reason}"
                ) from None

    def _close_own(self) -> None:
        # Socket 0 is the caller's.
        for extra in self.sockets[1:]:
            if extra is not self.sockets[0]:
                extra.close()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _spawn(self, number: int) -> None:
        parent = os.getpid()
        for handler in logging.getLogger().handlers + logger.handlers:
            handler.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            self.children[pid] = number
            return
        code = 1
        try:
            # uvicorn installs its own handlers for a graceful exit.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _die_with_parent(parent)
            mine = self.sockets[number]
            for other in self.sockets:
                if other is not mine:
                    other.close()  # this process's copy only: the parent keeps its own
            uvicorn.Server(self.uv_config).run(sockets=[mine])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            logger.exception("worker %d failed", number)
        finally:
            os._exit(code)

    def _reap(self) -> list[tuple[int, int, int]]:
        """(pid, worker number, exit status) of every child that has exited since the last call."""
        gone = []
        while self.children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            number = self.children.pop(pid, None)
            if number is not None:
                gone.append((pid, number, os.waitstatus_to_exitcode(status)))
        return gone

    def run(self) -> None:
        """Start the workers and supervise them until a signal asks to stop."""
        if not hasattr(os, "fork"):
            raise ServerStartError("several workers need os.fork, which this platform lacks")
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        restarts: deque[float] = deque()
        try:
            for number in range(self.count):
                self._spawn(number)
            while not self.stopping:
                for pid, number, code in self._reap():
                    if self.stopping:
                        break
                    now = time.monotonic()
                    while restarts and now - restarts[0] > _RESTART_WINDOW_SECONDS:
                        restarts.popleft()
                    if len(restarts) >= _MAX_RESTARTS:
                        raise ServerStartError(
                            f"workers keep exiting ({_MAX_RESTARTS + 1} in a minute, "
                            f"the last with code {code}); see the log"
                        )
                    restarts.append(now)
                    logger.warning(
                        "worker %d (pid %d) exited with %d; starting another", number, pid, code
                    )
                    self._spawn(number)
                time.sleep(_POLL_SECONDS)
        finally:
            self._stop_all()
            self._close_own()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _stop_all(self) -> None:
        for pid in self.children:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + _SHUTDOWN_GRACE_SECONDS * 2
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(_POLL_SECONDS)
        for pid in self.children:
            _signal(pid, signal.SIGKILL)
        for pid in list(self.children):
            os.waitpid(pid, 0)
            del self.children[pid]


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.kill(pid, signum)


def _die_with_parent(parent: int) -> None:
    # Linux: the kernel sends SIGTERM when the parent dies, even by SIGKILL.
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)
