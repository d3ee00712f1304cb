"""The built-in logging plugin, switched on with TOGETHER_LOG=info|debug."""

from __future__ import annotations

import logging
import os
import time

import httpx

from .._exceptions import APIConnectionError
from .._plugins import Flow, RequestOptions
from .._secrets import REDACTED, SECRET_HEADERS, display_url

__all__ = ["LoggingPlugin", "logger", "setup_logging"]

logger = logging.getLogger("together_rerank")


def setup_logging() -> None:
    """Honour TOGETHER_LOG (`info` or `debug`) by sending this SDK's logs to stderr."""
    level = {"debug": logging.DEBUG, "info": logging.INFO}.get(
        os.environ.get("TOGETHER_LOG", "").strip().lower()
    )
    if level is None or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


def redacted_headers(headers: httpx.Headers) -> dict[str, str]:
    """The headers with every secret replaced by `<redacted>`."""
    return {
        name: REDACTED if name.lower() in SECRET_HEADERS else value
        for name, value in headers.items()
    }


class LoggingPlugin:
    """Built-in plugin: one line per attempt at INFO, headers and sizes at DEBUG."""

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        """Log the attempt, its outcome and how long it took."""
        if not logger.isEnabledFor(logging.INFO):
            quiet = yield request
            assert quiet is not None
            return quiet
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "request %s %s headers=%s body=%d bytes",
                request.method,
                display_url(request.url),
                redacted_headers(request.headers),
                len(request.content),
            )
        start = time.perf_counter()
        try:
            response = yield request
        except APIConnectionError as exc:
            logger.info(
                "%s %s failed after %.1f ms: %s",
                request.method,
                display_url(request.url),
                (time.perf_counter() - start) * 1000,
                exc.message,
            )
            raise
        assert response is not None
        logger.info(
            "%s %s -> %d in %.1f ms",
            request.method,
            display_url(request.url),
            response.status_code,
            (time.perf_counter() - start) * 1000,
        )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "response headers=%s body=%d bytes",
                redacted_headers(response.headers),
                len(response.content),
            )
        return response
