"""`create_app`: the Starlette application serving the spec's routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from together_rerank.server import pages, service
from together_rerank.server.auth import check_bearer
from together_rerank.server.config import ServerConfig
from together_rerank.server.engines import get_engine
from together_rerank.server.errors import (
    ENGINE_HEADER,
    SERVER_ENGINE,
    SERVER_ERROR,
    APIError,
    json_response,
    raw_json_response,
)
from together_rerank.server.models import ModelRegistry
from together_rerank.server.scheduler import Overloaded, Scheduler
from together_rerank.server.validation import check_content_type

logger = logging.getLogger("together_rerank.server")

_ENGINE_HEADER_BYTES = ENGINE_HEADER.encode()
_HTTP_CODES = {404: "unknown_url", 405: "method_not_allowed"}
_API_PREFIXES = ("/v1", "")

Endpoint = Callable[[Request], Awaitable[Response]]


class _Guard:
    """Outermost layer: engine header on every answer, and a spec-shaped 500 for any bug."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_header(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                if not any(name.lower() == _ENGINE_HEADER_BYTES for name, _ in headers):
                    headers.append((_ENGINE_HEADER_BYTES, SERVER_ENGINE.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        except asyncio.CancelledError:
            # uvicorn cancels requests still running when shutdown's grace time is
            # over; it would answer them with a text/plain 500 and log a traceback.
            if started:
                raise
            error = APIError(
                503,
                "the server is shutting down",
                code="shutting_down",
                error_type=SERVER_ERROR,
                headers={"Connection": "close"},
            )
            await error.response()(scope, receive, send_with_header)
        except Exception:
            # Log the traceback here, never in the response.
            logger.exception("internal error serving %s %s", scope.get("method"), scope.get("path"))
            if started:
                return
            error = APIError(500, "internal server error", code="internal_error")
            await error.response()(scope, receive, send_with_header)


def _api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIError)
    return exc.response()


def _http_error_handler(request: Request, exc: Exception) -> Response:
    # The router's own 404/405, reshaped into the spec's ErrorResponse.
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"no route for {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = exc.detail
    return APIError(
        exc.status_code, message, code=_HTTP_CODES.get(exc.status_code), headers=exc.headers
    ).response()


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isascii() or not declared.strip().isdigit():
            raise APIError(
                400, "Content-Length header is not a number", code="invalid_content_length"
            )
        if int(declared) > limit:
            raise _too_large(limit)
    # Count what actually arrives too: a chunked body declares no length.
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise _too_large(limit)
    except ClientDisconnect:
        raise APIError(400, "client disconnected before sending the whole body") from None
    return bytes(body)


async def _read_body_in_time(request: Request, limit: int, seconds: float) -> bytes:
    # A client that stops halfway would otherwise hold its connection and socket forever.
    try:
        with anyio.fail_after(seconds):
            return await _read_body(request, limit)
    except TimeoutError:
        raise APIError(
            408,
            f"the request body did not arrive within {seconds:g} seconds",
            code="request_timeout",
            headers={"Connection": "close"},
        ) from None


FINISH_INLINE_ITEMS = 64
"""Plans of up to this many items are finished on the event loop (cheaper than a thread hop)."""


async def _unless_disconnected(
    request: Request, work: Callable[[], Awaitable[Response]]
) -> Response:
    """Run `work`; cancel it when the client disconnects (its queued model items are dropped)."""
    response: Response | None = None
    error: Exception | None = None
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            # The body has been read: the next message is the client going away. An
            # ASGI caller that answers anything else at once (an in-process one) gets
            # no watch: looping on it would never yield the event loop to `work`.
            if (await request.receive())["type"] == "http.disconnect":
                group.cancel_scope.cancel()

        group.start_soon(watch)
        try:
            response = await work()
        except Exception as exc:  # raised after the task group, not wrapped in a group
            error = exc
        group.cancel_scope.cancel()
    if error is not None:
        raise error
    if response is None:
        # Cancelled because the client left: nobody will read this.
        return Response(status_code=499)
    return response


async def _scheduled(scheduler: Scheduler, pending: service.Pending) -> service.Reply:
    """Run a model engine's plan on the scheduler and encode its reply off the event loop."""
    try:
        results = await scheduler.results(pending.plan)
    except Overloaded as exc:
        raise APIError(
            429,
            f"the server is busy ({exc.queued_tokens:,} model tokens queued); "
            f"retry after {exc.retry_after} s",
            code="server_overloaded",
            error_type="rate_limit_error",
            engine=pending.engine,
            headers={"Retry-After": str(exc.retry_after)},
        ) from None

    def finish() -> service.Reply:
        return pending.reply(pending.plan.finish(results))

    if len(results) <= FINISH_INLINE_ITEMS:
        return finish()
    return await run_in_threadpool(finish)


def _too_large(limit: int) -> APIError:
    return APIError(
        413, f"request body is larger than the {limit}-byte limit", code="request_too_large"
    )


def create_app(config: ServerConfig | None = None) -> Starlette:
    """Build the local Together-compatible rerank/embeddings server as an ASGI app."""
    cfg = config or ServerConfig()
    registry = ModelRegistry(cfg.models)
    # Load every engine now, so that weights are read and warm before the
    # socket accepts anything: when /health answers, the first request is fast.
    for engine in registry.engines:
        get_engine(engine)
    heavy = anyio.CapacityLimiter(cfg.heavy_concurrency)
    scheduler = Scheduler(cfg.batch_limits)

    def authorize(request: Request) -> None:
        if cfg.api_key is not None:
            check_bearer(request.headers.get("authorization"), cfg.api_key)

    Work = Callable[[ServerConfig, ModelRegistry, bytes], service.Reply | service.Pending]

    def json_post(work: Work) -> Endpoint:
        async def compute(body: bytes) -> Response:
            with scheduler.incoming():
                if len(body) > cfg.heavy_body_bytes:
                    # Large requests take turns to parse, tokenize or (lexical engines)
                    # score, so that small ones keep the rest of the CPU.
                    outcome = await anyio.to_thread.run_sync(
                        work, cfg, registry, body, limiter=heavy
                    )
                else:
                    outcome = await run_in_threadpool(work, cfg, registry, body)
            if isinstance(outcome, service.Pending):
                outcome = await _scheduled(scheduler, outcome)
            return raw_json_response(outcome.body, engine=outcome.engine)

        async def endpoint(request: Request) -> Response:
            authorize(request)
            check_content_type(request.headers.get("content-type"))
            body = await _read_body_in_time(request, cfg.max_body_bytes, cfg.body_timeout)
            return await _unless_disconnected(request, lambda: compute(body))

        return endpoint

    async def models(request: Request) -> Response:
        authorize(request)
        return json_response(service.list_models(registry))

    async def health(request: Request) -> Response:
        return json_response({"status": "ok"})

    routes = [Route("/health", health, methods=["GET"]), *pages.routes()]
    for prefix in _API_PREFIXES:
        routes += [
            Route(f"{prefix}/rerank", json_post(service.rerank), methods=["POST"]),
            Route(f"{prefix}/embeddings", json_post(service.embeddings), methods=["POST"]),
            Route(f"{prefix}/models", models, methods=["GET"]),
        ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_Guard)],
        exception_handlers={APIError: _api_error_handler, HTTPException: _http_error_handler},
    )
    # A redirect to the slash-less path would be a non-error answer without an
    # ErrorResponse body, and httpx does not follow redirects by default.
    app.router.redirect_slashes = False
    app.state.scheduler = scheduler
    return app
