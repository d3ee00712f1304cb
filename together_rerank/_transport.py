"""The connection pools the clients own: fresh after a fork, one per event loop.

`PooledClient` (sync) is an `httpx.Client` whose socket operations all end
at the attempt's deadline and whose pool is replaced, unclosed, in a forked
child. `AiohttpClient` (async, `AsyncTogether`'s default) is an
`httpx.AsyncClient` that sends through aiohttp: plugins still see
`httpx.Request` and `httpx.Response`, and the SDK pays a fraction of httpx's
async pool's CPU per request. aiohttp is imported when a first request needs
it, so `import together_rerank` stays light.

Pools supplied by the user (`http_client=`) are the user's: this module never
touches them.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import os
import ssl
import time
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, NoReturn

import httpcore
import httpx

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "MAX_RESPONSE_BYTES",
    "AiohttpClient",
    "PooledClient",
    "ResponseTooLarge",
    "attempt_limit",
]

MAX_RESPONSE_BYTES = "together_rerank.max_response_bytes"
"""Request extension: the most bytes a 2xx body may have (set per call by the SDK)."""

# Pools a forked child inherited: never used, never closed (closing would send
# TLS close_notify on sockets the parent still uses), kept so that nothing
# warns about them when they are collected.
_INHERITED: list[object] = []


class ResponseTooLarge(Exception):
    """A 2xx body passed `MAX_RESPONSE_BYTES`; the driver turns it into a typed error."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        super().__init__(limit)
        self.response = response
        self.limit = limit


def attempt_limit(request: httpx.Request) -> float | None:
    """The whole-attempt deadline, in seconds: the largest of the request's timeouts."""
    return _largest(request.extensions.get("timeout", {}).values())


def longest(timeout: httpx.Timeout) -> float | None:
    """`attempt_limit` of a request with this timeout."""
    return _largest((timeout.connect, timeout.read, timeout.write, timeout.pool))


def _largest(values: Iterable[float | None]) -> float | None:
    limits = [value for value in values if value is not None]
    return max(limits) if limits else None


# --- sync -------------------------------------------------------------------------------

# When the current attempt ends (`time.monotonic()`), set by the sync driver
# around a `PooledClient.send`.
_ATTEMPT_END: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "together_rerank_attempt_end", default=None
)


def _left(timeout: float | None, timeout_error: type[Exception]) -> float | None:
    at = _ATTEMPT_END.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise timeout_error("the attempt outlasted its timeout")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose reads, writes and TLS handshake end at the attempt's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sockets, under the attempt deadline of `attempt_deadline`."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class PooledClient(httpx.Client):
    """The sync client's own pool: deadline-bound sockets, replaced in a forked child."""

    def __init__(self, *, timeout: httpx.Timeout, limits: httpx.Limits) -> None:
        super().__init__(timeout=timeout, limits=limits)
        self._limits = limits
        self._pid = os.getpid()
        self._bind_deadline()

    def _bind_deadline(self) -> None:
        # httpx builds one transport per proxy route from the environment; each
        # has its own httpcore pool, and each pool's sockets get the deadline.
        for transport in (self._transport, *self._mounts.values()):
            pool = getattr(transport, "_pool", None)
            backend = getattr(pool, "_network_backend", None)
            if backend is not None and not isinstance(backend, _DeadlineBackend):
                pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]

    def _renew_after_fork(self) -> None:
        fresh = httpx.Client(timeout=self.timeout, limits=self._limits)
        _INHERITED.append((self._transport, self._mounts))
        self._transport, self._mounts = fresh._transport, fresh._mounts
        self._pid = os.getpid()
        self._bind_deadline()

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if self._pid != os.getpid():
            self._renew_after_fork()
        return super().send(request, **kwargs)


# --- async ------------------------------------------------------------------------------


def _proxy_routes() -> list[tuple[Any, str | None]]:
    # httpx's own reading of HTTP(S)_PROXY / ALL_PROXY / NO_PROXY, so both
    # clients route alike (httpx ignores the environment once given a transport).
    from httpx._utils import URLPattern, get_environment_proxies

    patterns = sorted(
        (URLPattern(pattern), proxy) for pattern, proxy in get_environment_proxies().items()
    )
    return [(pattern, proxy) for pattern, proxy in patterns]


# The headers aiohttp sends by itself unless told to skip them (lower case, as bytes).
_AUTO_HEADERS = frozenset({b"accept", b"accept-encoding", b"user-agent"})


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx requests over aiohttp: one session per event loop, a fresh one after a fork."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._pid = os.getpid()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        # Other loops' sessions (a client used from several `asyncio.run`s).
        self._sessions: dict[asyncio.AbstractEventLoop, tuple[Any, Any]] = {}
        self._ssl: ssl.SSLContext | None = None
        self._routes: list[tuple[Any, str | None]] | None = None
        self._proxies: dict[tuple[bytes, bytes, int | None], str | None] = {}
        self._targets: dict[str, tuple[Any, str | None]] = {}
        self._header_sets: dict[
            tuple[tuple[bytes, bytes], ...], tuple[list[tuple[str, str]], list[str] | None]
        ] = {}
        self._timeouts: dict[tuple[float | None, float | None], Any] = {}
        self._closed = False

    async def _session_for(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        if self._pid != os.getpid():
            _INHERITED.append(self._sessions)
            self._sessions, self._pid = {}, os.getpid()
        entry = self._sessions.get(loop)
        if entry is None or entry[0].closed:
            import aiohttp

            if self._closed:
                raise httpx.ConnectError("the client was closed")
            if self._ssl is None:
                # TLS verification exactly as httpx does it (certifi, SSL_CERT_FILE/DIR).
                self._ssl = httpx.create_ssl_context()
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections or 0,
                limit_per_host=0,
                keepalive_timeout=self._limits.keepalive_expiry or 5.0,
                ssl=self._ssl,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # httpx.Response decodes, as on the httpx path
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None),
            )
            keeper = _close_with_loop(session)
            # The loop closes the session when it shuts down (the end of
            # `asyncio.run`), on that loop, without a warning.
            await keeper.__anext__()
            entry = self._sessions[loop] = (session, keeper)
        self._loop, self._session = loop, entry[0]
        return entry[0]

    def _target(self, url: httpx.URL) -> tuple[Any, str | None]:
        """The URL as aiohttp's `yarl.URL`, and the proxy it goes through (None: direct)."""
        text = str(url)
        target = self._targets.get(text)
        if target is None:
            import yarl

            if len(self._targets) > 1024:
                self._targets.clear()
            target = self._targets[text] = (yarl.URL(text, encoded=True), self._proxy(url))
        return target

    def _proxy(self, url: httpx.URL) -> str | None:
        key = (url.raw_scheme, url.raw_host, url.port)
        if key not in self._proxies:
            if self._routes is None:
                self._routes = _proxy_routes()
            self._proxies[key] = next(
                (proxy for pattern, proxy in self._routes if pattern.matches(url)), None
            )
        return self._proxies[key]

    def _headers(
        self, raw: list[tuple[bytes, bytes]]
    ) -> tuple[list[tuple[str, str]], list[str] | None]:
        """The headers as aiohttp takes them, and the automatic ones it must skip."""
        # Calls repeat their headers but for Content-Length (last, as httpx
        # builds them): convert each set once.
        length = raw.pop() if raw and raw[-1][0] == b"Content-Length" else None
        key = tuple(raw)
        converted = self._header_sets.get(key)
        if converted is None:
            # From the raw bytes: httpx's str views re-check the encoding on every access.
            names = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
            # aiohttp adds these when they are absent; the request a plugin saw
            # is what is sent, so it must not. Named only when needed: aiohttp's
            # skip list costs a sort and two header copies per request.
            missing = _AUTO_HEADERS.difference(name.lower() for name, _ in raw)
            skip = sorted(name.decode("latin-1") for name in missing) if missing else None
            if len(self._header_sets) > 64:
                self._header_sets.clear()
            converted = self._header_sets[key] = (names, skip)
        names, skip = converted
        if length is None:
            return list(names), skip
        return [*names, ("Content-Length", length[1].decode("latin-1"))], skip

    def timeout(self, total: float | None, connect: float | None) -> Any:
        """aiohttp's timeout for an attempt of `total` seconds, connecting within `connect`."""
        # aiohttp's `total` covers connecting, sending, the headers and the
        # body: the whole attempt. Its timer costs a tenth of what an
        # `asyncio.timeout` around the exchange did (callgrind, per call).
        # No rounding up to whole seconds (aiohttp's ceil_threshold): a
        # deadline is a deadline.
        key = (total, connect)
        timeout = self._timeouts.get(key)
        if timeout is None:
            import aiohttp

            if len(self._timeouts) > 64:
                self._timeouts.clear()
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=total, connect=connect, ceil_threshold=math.inf
            )
        return timeout

    async def exchange(
        self,
        method: str,
        url: httpx.URL,
        headers: tuple[list[tuple[str, str]], list[str] | None],
        content: bytes,
        *,
        timeout: Any,
        bound: int | None,
    ) -> tuple[aiohttp.ClientResponse, bytes]:
        """One exchange: aiohttp's response (released) and its whole body, still encoded.

        `headers` (with the automatic ones to skip) come from `_headers`,
        `timeout` from `timeout`. Raises aiohttp's errors, `httpx.ConnectError`
        once closed, and `BodyTooLarge` past `bound` on a 2xx: `replay` raises
        them as httpx's.
        """
        loop = asyncio.get_running_loop()
        session = self._session
        if loop is not self._loop or session is None or session.closed or self._pid != os.getpid():
            session = await self._session_for(loop)
        target, proxy = self._target(url)
        fields, skip = headers
        # One coroutine for the whole exchange: on a small call each layer is
        # a measurable share of the CPU.
        async with session.request(
            method,
            target,
            headers=fields,
            data=content,
            proxy=proxy,
            allow_redirects=False,
            skip_auto_headers=skip,
            timeout=timeout,
        ) as aio:
            length = aio.content_length
            if (
                bound is None
                or not 200 <= aio.status < 300
                or (length is not None and length <= bound)
            ):
                return aio, await aio.read()
            return aio, await _read_at_most(aio, bound)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        try:
            aio, body = await self.exchange(
                request.method,
                request.url,
                self._headers(request.headers.raw),
                request.content,
                timeout=self.timeout(attempt_limit(request), timeouts.get("connect")),
                bound=request.extensions.get(MAX_RESPONSE_BYTES),
            )
        except Exception as exc:
            replay(exc, request)
        return response_of(aio, body, request)

    async def aclose(self) -> None:
        self._closed = True
        sessions, self._sessions = self._sessions, {}
        self._session = self._loop = None
        running = asyncio.get_running_loop()
        for loop, (session, keeper) in sessions.items():
            if loop is running:
                await keeper.aclose()
            elif not loop.is_closed() and not session.closed:
                asyncio.run_coroutine_threadsafe(keeper.aclose(), loop)


async def _close_with_loop(session: aiohttp.ClientSession) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await session.close()


class BodyTooLarge(Exception):
    """A 2xx body passed its bound on the aiohttp path (`replay` attaches the request)."""

    def __init__(self, aio: aiohttp.ClientResponse, limit: int) -> None:
        super().__init__(limit)
        self.aio = aio
        self.limit = limit


def response_of(aio: aiohttp.ClientResponse, body: bytes, request: httpx.Request) -> httpx.Response:
    """aiohttp's response and body as the read `httpx.Response` httpx would return.

    Raises `httpx.DecodingError` for a body its Content-Encoding cannot decode.
    """
    response = _response(aio, request, httpx.ByteStream(body))
    if "Content-Encoding" in aio.headers:
        # Decodes it: a bad gzip body is httpx.DecodingError here too.
        response.read()
    else:
        # Nothing to decode: the body is the content. httpx's read would pass
        # it through its decoder and chunker (a tenth of a call's CPU).
        response._content = body
        # Read and closed, as `read()` leaves it (close() would only enter a
        # context manager to close a stream of bytes in memory).
        response.is_stream_consumed = response.is_closed = True
    return response


def _response(
    aio: aiohttp.ClientResponse, request: httpx.Request, stream: httpx.ByteStream | None = None
) -> httpx.Response:
    return httpx.Response(
        aio.status,
        headers=list(aio.raw_headers),
        stream=stream,
        request=request,
        extensions={"http_version": b"HTTP/1.1", "reason_phrase": (aio.reason or "").encode()},
    )


async def _read_at_most(aio: aiohttp.ClientResponse, limit: int) -> bytes:
    length = aio.content_length
    if length is not None and length > limit:
        raise BodyTooLarge(aio, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in aio.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(aio, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def replay(exc: Exception, request: httpx.Request) -> NoReturn:
    """Raise an exchange's failure as sending `request` raises it: an httpx error, or
    `ResponseTooLarge`."""
    if isinstance(exc, BodyTooLarge):
        raise ResponseTooLarge(_response(exc.aio, request), exc.limit) from exc
    if isinstance(exc, httpx.HTTPError | ResponseTooLarge):
        raise exc
    raise _httpx_error(exc, request) from exc


def _httpx_error(exc: Exception, request: httpx.Request) -> httpx.HTTPError:
    """aiohttp's failure as the httpx error the httpx path raises for the same fault."""
    import aiohttp

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(text, request=request)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(text, request=request)
    if isinstance(exc, aiohttp.ClientProxyConnectionError | aiohttp.ClientHttpProxyError):
        return httpx.ProxyError(text, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(text, request=request)
    if isinstance(exc, TimeoutError):
        # The attempt's deadline (aiohttp's `total`), whichever step it ended.
        return httpx.ReadTimeout("the attempt outlasted its timeout", request=request)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(text, request=request)
    if isinstance(exc, aiohttp.ClientResponseError):
        # aiohttp reports a malformed status line or header as a response error.
        return httpx.RemoteProtocolError(text, request=request)
    if isinstance(exc, aiohttp.ClientError | OSError):
        return httpx.ReadError(text, request=request)
    if isinstance(exc, ValueError):
        # aiohttp refuses a header value with a newline before sending.
        return httpx.LocalProtocolError(text, request=request)
    return httpx.TransportError(text, request=request)


class _Template:
    """A call's headers built once: as httpx builds them, and as aiohttp takes them."""

    __slots__ = ("headers", "skip", "source", "url", "wire")

    def __init__(
        self,
        url: httpx.URL,
        source: dict[str, str],
        headers: httpx.Headers,
        wire: tuple[list[tuple[str, str]], list[str] | None],
    ) -> None:
        self.url = url
        self.source = source
        self.headers = headers  # without Content-Length
        self.wire, self.skip = wire


class AiohttpClient(httpx.AsyncClient):
    """`AsyncTogether`'s default pool: an `httpx.AsyncClient` that sends through aiohttp."""

    def __init__(self, *, timeout: httpx.Timeout, limits: httpx.Limits) -> None:
        self._aiohttp = AiohttpTransport(limits)
        super().__init__(timeout=timeout, transport=self._aiohttp)
        self._accept_encoding = self.headers["Accept-Encoding"]
        self._templates: dict[tuple[str, int], _Template] = {}

    def _with_defaults(self, headers: dict[str, str]) -> dict[str, str]:
        # The one default of httpx's client the SDK does not set itself.
        if any(name.lower() == "accept-encoding" for name in headers):
            return headers
        return {**headers, "Accept-Encoding": self._accept_encoding}

    def _template(self, method: str, url: httpx.URL, headers: dict[str, str]) -> _Template:
        # A call's headers are the same every time but for Content-Length, and
        # httpx normalises every header of a new request (the largest part of
        # building one): build them once per set, copy them after.
        key = (method, id(url))
        template = self._templates.get(key)
        if template is None or template.url is not url or template.source != headers:
            source = dict(headers)
            built = httpx.Request(
                method, url, headers=self._with_defaults(headers), content=b"-"
            ).headers
            raw = [(name, value) for name, value in built.raw if name.lower() != b"content-length"]
            if len(self._templates) > 64:
                self._templates.clear()
            template = self._templates[key] = _Template(
                url, source, httpx.Headers(raw), self._aiohttp._headers(raw)
            )
        return template

    def build_request(  # type: ignore[override]
        self,
        method: str,
        url: httpx.URL | str,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        timeout: httpx.Timeout | None = None,
        extensions: dict[str, Any] | None = None,
        **other: Any,
    ) -> httpx.Request:
        # The SDK's calls carry absolute URLs, all their headers and a timeout:
        # merging in the client's defaults, cookies and base URL (a third of a
        # small call's CPU in the profile) is work with nothing to merge.
        if other.get("params") or headers is None or timeout is None:
            return super().build_request(
                method,
                url,
                headers=headers,
                content=content,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
                extensions=extensions,
                **other,
            )
        extensions = {**(extensions or {}), "timeout": timeout.as_dict()}
        if not content or not isinstance(url, httpx.URL):
            return httpx.Request(
                method,
                url,
                headers=self._with_defaults(headers),
                content=content,
                extensions=extensions,
            )
        template = self._template(method, url, headers)
        # Same headers, same order as httpx's own build: Host first, Content-Length last.
        request = httpx.Request(
            method,
            url,
            headers=template.headers,
            stream=httpx.ByteStream(content),
            extensions=extensions,
        )
        request.headers["Content-Length"] = str(len(content))
        # What `request.read()` stores; its check of the stream (an ABC) costs
        # more than the rest of this method.
        request._content = content
        return request

    def wire_headers(
        self, method: str, url: httpx.URL, headers: dict[str, str], content: bytes
    ) -> tuple[list[tuple[str, str]], list[str] | None]:
        """What `build_request` would send, as `AiohttpTransport.exchange` takes it.

        For a request no plugin sees: `_headers(build_request(...).headers.raw)`
        without building the request.
        """
        template = self._template(method, url, headers)
        return [*template.wire, ("Content-Length", str(len(content)))], template.skip

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        # Straight to the transport: the SDK uses none of what `AsyncClient.send`
        # adds (auth, redirects, cookies, event hooks), and that costs as much
        # CPU as aiohttp itself.
        return await self._aiohttp.handle_async_request(request)
