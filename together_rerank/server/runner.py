"""Running the app: `LocalServer` in a background thread, `serve` in the foreground."""

from __future__ import annotations

import copy
import ipaddress
import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn
from starlette.types import ASGIApp

from together_rerank.server.app import create_app
from together_rerank.server.config import ServerConfig
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


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only then, and without it
    # Nagle's algorithm adds ~40 ms to each request on a kept-alive connection.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
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
) -> None:
    """Run the server in the foreground until interrupted (``together-rerank serve``)."""
    cfg = config or ServerConfig()
    try:
        sock = _bind(host, port)
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
    try:
        with sock:
            uvicorn.Server(uv_config).run(sockets=[sock])
    except SystemExit as exc:
        # uvicorn exits with its own code 3 when it cannot start; ours is documented.
        raise ServerStartError(f"uvicorn could not start (exit {exc.code}); see its log") from None
