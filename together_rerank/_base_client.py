"""Configuration and the request path shared by `Together` and `AsyncTogether`.

Everything that is not I/O lives here once: resolving settings, building the
`httpx.Request`, raising typed errors and parsing. The sync and async clients
differ only in the line that drives the plugin chain, and in one shortcut of
`AsyncTogether`'s default pool: a call that no plugin but the built-in retry
one would see is sent first and given to the chain only if its answer needs it.
"""

from __future__ import annotations

import base64
import inspect
import logging
import math
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypedDict, TypeVar

import httpx
import pydantic_core

from ._batching import (
    DEFAULT_MAX_CONCURRENCY,
    check_max_concurrency,
    check_max_documents_per_request,
)
from ._exceptions import (
    InvalidArgumentError,
    InvalidArgumentTypeError,
    MissingAPIKeyError,
    make_status_error,
    plugin_name,
)
from ._plugins import Flow, Plugin, RequestOptions, chain, run_async, run_sync
from ._response import RawResponse
from ._secrets import display_url
from ._tolerance import ResponsePolicy
from ._transport import MAX_RESPONSE_BYTES, AiohttpClient, longest, replay, response_of
from ._validation import find_invalid_json
from ._version import __version__
from .plugins.log import LoggingPlugin, logger, setup_logging
from .plugins.retry import RetryPlugin

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "APICall", "BaseClient"]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.together.xyz/v1"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
# Hosts of the hosted API: there, a missing key is an error before any call.
HOSTED_API_HOSTS = frozenset({"api.together.xyz", "api.together.ai"})

USER_AGENT = (
    f"together-rerank/{__version__} "
    f"(python {'.'.join(map(str, sys.version_info[:3]))}; httpx {httpx.__version__})"
)

Timeout = float | httpx.Timeout


# Not frozen, though never changed after it is built: see `RerankArgs`.
@dataclass(slots=True)
class APICall(Generic[T]):
    """One API operation ready to send: method, path, JSON body, parser, per-request options."""

    method: str
    path: str
    body: dict[str, Any]
    # Given the client's `ResponsePolicy` (strict or tolerant; see `_tolerance`).
    parse: Callable[[httpx.Response, ResponsePolicy], T]
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, Any] | None = None
    extra_body: Mapping[str, Any] | None = None
    timeout: Timeout | None = None
    max_retries: int | None = None
    # Bytes a valid answer may need beyond echoing the request (results x their
    # size); with the request's size it bounds the 2xx body. None: no bound.
    response_allowance: int | None = None
    # `parse` from the 2xx body alone, for a response no plugin needs to see:
    # the result, or None when `parse` would raise (it then runs, for the error).
    parse_content: Callable[[bytes, ResponsePolicy], T | None] | None = None


# Headroom above the largest valid answer before a 2xx body is cut off (issue 10).
RESPONSE_MARGIN = 1 << 20


# The endpoints a base URL may be given as: the URL of one of them means "the
# server is mounted where this endpoint is", the only way to name the root.
ENDPOINT_NAMES = ("rerank", "embeddings")


def normalize_base_url(url: str | httpx.URL) -> httpx.URL:
    """The base URL that paths are joined to, ending in a slash.

    A bare host gets `/v1`; the URL of an endpoint (`.../rerank`,
    `.../embeddings`) means its server is mounted at what precedes it, the root
    included; any other path is kept as given.
    """
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidArgumentError(
            "base_url", f"must be an http(s) URL, got {display_url(str(url))!r}"
        )
    path = parsed.path.rstrip("/")
    head, _, last = path.rpartition("/")
    if last in ENDPOINT_NAMES:
        # An endpoint's own URL: its server is mounted at what precedes it,
        # the root included (infinity-emb serves /rerank, vLLM /rerank too).
        path = head
    elif not path:
        # The two official SDK generations disagree (one wants `/v1` in the base,
        # the other adds it itself); both forms of TOGETHER_BASE_URL must work.
        path = "/v1"
    return parsed.copy_with(path=path + "/", query=None, fragment=None)


def _basic_auth(url: httpx.URL) -> str | None:
    if not url.userinfo:
        return None
    credentials = f"{url.username}:{url.password}".encode()
    return f"Basic {base64.b64encode(credentials).decode('ascii')}"


def _check_api_key(key: object) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str):
        raise InvalidArgumentTypeError("api_key", f"must be a string, not {type(key).__name__}")
    key = key.strip()  # a key read from a file often ends in a newline
    if not (key.isascii() and key.isprintable()):
        # Say what is wrong with the key, never what it is.
        raise InvalidArgumentError(
            "api_key", "contains characters an HTTP header cannot carry (non-ASCII or control)"
        )
    return key or None


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _check_max_retries(max_retries: object) -> int:
    if not isinstance(max_retries, int) or isinstance(max_retries, bool):
        raise InvalidArgumentTypeError("max_retries", "must be an integer")
    if max_retries < 0:
        raise InvalidArgumentError("max_retries", f"must be >= 0, got {max_retries}")
    return max_retries


def _check_seconds(param: str, value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidArgumentTypeError(
            param, f"must be a number of seconds or an httpx.Timeout, not {type(value).__name__}"
        )
    # 0 would fail every connect at once, inf overflows the socket layer and nan
    # compares false to everything: none of them is a limit.
    if not (math.isfinite(value) and value > 0):
        raise InvalidArgumentError(param, f"must be a finite number of seconds > 0, got {value!r}")
    return float(value)


def _to_timeout(timeout: object, param: str = "timeout") -> httpx.Timeout:
    """`timeout` as an `httpx.Timeout`, or `InvalidArgumentError` naming `param`."""
    if isinstance(timeout, httpx.Timeout):
        parts = timeout.as_dict()
        for name, part in parts.items():
            if part is not None:
                _check_seconds(f"{param}.{name}", part)
        if all(part is None for part in parts.values()):
            raise InvalidArgumentError(
                param, "sets no limit at all (every part is None); a call could wait forever"
            )
        return timeout
    seconds = _check_seconds(param, timeout)
    # The connect timeout is 5 s, but never longer than the whole timeout asked for.
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def _check_plugins(plugins: object) -> tuple[Plugin, ...]:
    """The plugins as a tuple, or `InvalidArgumentTypeError` naming the one that cannot work."""
    if plugins is None:
        return ()
    if isinstance(plugins, str | bytes) or not isinstance(plugins, Sequence):
        raise InvalidArgumentTypeError(
            "plugins", f"must be a list of plugins, not {type(plugins).__name__}"
        )
    for i, plugin in enumerate(plugins):
        name = plugin_name(plugin)
        if isinstance(plugin, type):
            raise InvalidArgumentTypeError(
                f"plugins[{i}]", f"is the class {name}; pass an instance, {name}()"
            )
        handle = getattr(plugin, "handle", None)
        if not callable(handle):
            raise InvalidArgumentTypeError(
                f"plugins[{i}]", f"{name} has no handle(request, options) method"
            )
        try:
            signature = inspect.signature(handle)
        except (TypeError, ValueError):  # some callables have none to read
            continue
        try:
            signature.bind(None, None)
        except TypeError:
            params = ", ".join(signature.parameters)
            raise InvalidArgumentTypeError(
                f"plugins[{i}]", f"{name}.handle({params}) cannot take (request, options)"
            ) from None
    return tuple(plugins)


# RFC 9110 token characters: what a header name may consist of.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_headers(param: str, headers: object) -> dict[str, str]:
    """Headers as a dict, or an error naming the bad one (never showing its value)."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise InvalidArgumentTypeError(
            param, f"must be a mapping of header names to values, not {type(headers).__name__}"
        )
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str):
            raise InvalidArgumentTypeError(
                param, f"has a header name of type {type(name).__name__}; names are strings"
            )
        if not _HEADER_NAME.fullmatch(name):
            raise InvalidArgumentError(param, f"{name!r} is not a valid header name")
        where = f"{param}[{name!r}]"
        if not isinstance(value, str):
            hint = "; leave the header out instead" if value is None else ""
            raise InvalidArgumentTypeError(
                where, f"must be a string, not {type(value).__name__}{hint}"
            )
        # The value may be a secret: say what is wrong with it, never what it is.
        if not (value.isascii() and value.replace("\t", " ").isprintable()):
            raise InvalidArgumentError(
                where,
                "contains characters an HTTP header cannot carry (non-ASCII or control); "
                "percent-encode or base64-encode it",
            )
        checked[name] = value
    return checked


def _override(headers: dict[str, str], replacements: Mapping[str, str]) -> None:
    """Set `replacements` in `headers`, each replacing any header of its name in another case."""
    # Header names are case-insensitive: `{"accept": ...}` replaces our
    # "Accept" rather than going out beside it as a second Accept header.
    names = {name.lower(): name for name in headers}
    for name, value in replacements.items():
        old = names.get(name.lower())
        if old is not None and old != name:
            del headers[old]
        headers[name] = value
        names[name.lower()] = name


def check_http_client(http_client: object, kind: type[httpx.Client | httpx.AsyncClient]) -> None:
    """Refuse a supplied client that is closed or of the wrong kind (sync for async)."""
    if http_client is None:
        return
    if not isinstance(http_client, kind):
        hint = ""
        if isinstance(http_client, httpx.Client | httpx.AsyncClient):
            hint = f" ({'AsyncTogether' if kind is httpx.Client else 'Together'} takes that one)"
        raise InvalidArgumentTypeError(
            "http_client",
            f"must be an httpx.{kind.__name__}, not {type(http_client).__name__}{hint}",
        )
    if http_client.is_closed:
        raise InvalidArgumentError("http_client", "is closed; pass an open client")


# What `httpx.Client()` gets when its caller sets no timeout: that is not a choice
# of the caller's, so a supplied client with it still gets this SDK's default.
_HTTPX_DEFAULT_TIMEOUT = httpx.Timeout(5.0)


def _json_fallback(value: object) -> object:
    # The arguments were validated as JSON, where any Mapping counts as an
    # object; pydantic-core encodes only real dicts by itself.
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


def _encode(body: dict[str, Any]) -> bytes:
    # pydantic-core encodes several times faster than the json module. The
    # arguments were checked to be JSON before; only a lone surrogate in a
    # string can still fail here, and then the error names where it is.
    try:
        return pydantic_core.to_json(body, fallback=_json_fallback)
    except pydantic_core.PydanticSerializationError:
        find_invalid_json(body)
        raise


Settled = tuple[str, httpx.URL, dict[str, str], bytes, dict[str, int] | None, RequestOptions]
"""A call made ready to send: method, URL, headers, body, request extensions, options."""


class ClientSettings(TypedDict):
    """The settings `with_options` copies, as keyword arguments of the client classes."""

    api_key: str | None
    base_url: str | httpx.URL | None
    timeout: Timeout | None
    max_retries: int | None
    default_headers: Mapping[str, str] | None
    plugins: Sequence[Plugin] | None
    max_documents_per_request: int | None
    max_concurrency: int | None
    strict: bool


def _check_strict(strict: object) -> bool:
    if not isinstance(strict, bool):
        raise InvalidArgumentTypeError(
            "strict", f"must be True or False, not {type(strict).__name__}"
        )
    return strict


class BaseClient:
    """Settings and request building common to the sync and async clients."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        timeout: Timeout | None,
        max_retries: int | None,
        default_headers: Mapping[str, str] | None,
        plugins: Sequence[Plugin] | None,
        http_client_timeout: httpx.Timeout | None,
        max_documents_per_request: int | None = None,
        max_concurrency: int | None = None,
        strict: bool = False,
    ) -> None:
        setup_logging()
        # What a 2xx body may differ in (see `_tolerance`); one per client, so
        # that each kind of deviation is logged once per client.
        self._policy = ResponsePolicy(_check_strict(strict))
        # Auto-batching of rerank calls (see `_batching`): off unless a limit is set.
        self.max_documents_per_request = check_max_documents_per_request(max_documents_per_request)
        self.max_concurrency = check_max_concurrency(
            DEFAULT_MAX_CONCURRENCY if max_concurrency is None else max_concurrency
        )
        # As given: `with_options` must resolve it again the same way (an
        # endpoint URL's server at the root must not become a bare host).
        self._given_base_url = base_url or _env("TOGETHER_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = normalize_base_url(self._given_base_url)
        # User-info in the URL means HTTP Basic credentials (httpx's rule, kept).
        # They go into a header, so that no request URL, nor anything showing
        # one (errors, logs, reprs), carries the password.
        self._basic_auth = _basic_auth(self.base_url)
        self._request_base = self.base_url.copy_with(userinfo=b"")
        self._api_key = _check_api_key(api_key if api_key is not None else _env("TOGETHER_API_KEY"))
        if not self._api_key and self.base_url.host in HOSTED_API_HOSTS:
            raise MissingAPIKeyError(
                "No API key: pass api_key=... or set TOGETHER_API_KEY "
                f"(required by {self.base_url.host})."
            )
        if timeout is not None:
            self.timeout = _to_timeout(timeout)
        elif http_client_timeout is not None and http_client_timeout != _HTTPX_DEFAULT_TIMEOUT:
            self.timeout = _to_timeout(http_client_timeout, "http_client.timeout")
        else:
            self.timeout = DEFAULT_TIMEOUT
        self.max_retries = _check_max_retries(
            DEFAULT_MAX_RETRIES if max_retries is None else max_retries
        )
        self.default_headers = check_headers("default_headers", default_headers)
        self.plugins: tuple[Plugin, ...] = _check_plugins(plugins)
        # User plugins wrap the whole call (retries included); logging sees each
        # attempt. A user's own RetryPlugin or LoggingPlugin replaces the built-in one.
        builtins = [
            plugin
            for plugin in (RetryPlugin(), LoggingPlugin())
            if not any(isinstance(mine, type(plugin)) for mine in self.plugins)
        ]
        # A plugin with `per_attempt = True` (RateLimitPlugin) goes inside the
        # retries, so that it sees every attempt.
        outer = [p for p in self.plugins if not getattr(p, "per_attempt", False)]
        inner = [p for p in self.plugins if getattr(p, "per_attempt", False)]
        retry = [p for p in builtins if isinstance(p, RetryPlugin)]
        rest = [p for p in builtins if not isinstance(p, RetryPlugin)]
        self._chain: tuple[Plugin, ...] = (*outer, *retry, *inner, *rest)
        # The built-in LoggingPlugin only passes requests on while logging is
        # off: leave it out of the chain then, rather than pay a step per call.
        self._quiet_chain = tuple(p for p in self._chain if type(p) is not LoggingPlugin)
        self._lone_retry = len(self._quiet_chain) == 1 and type(self._quiet_chain[0]) is RetryPlugin
        self._urls: dict[str, httpx.URL] = {}

    def _settings_with(
        self,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        timeout: Timeout | None,
        max_retries: int | None,
        default_headers: Mapping[str, str] | None,
        plugins: Sequence[Plugin] | None,
        max_documents_per_request: int | None = None,
        max_concurrency: int | None = None,
        strict: bool | None = None,
    ) -> ClientSettings:
        """This client's settings with the given ones in their place (for `with_options`)."""
        return {
            "api_key": api_key if api_key is not None else self.api_key,
            "base_url": base_url if base_url is not None else self._given_base_url,
            "timeout": timeout if timeout is not None else self.timeout,
            "max_retries": max_retries if max_retries is not None else self.max_retries,
            "default_headers": {**self.default_headers, **(default_headers or {})},
            "plugins": plugins if plugins is not None else self.plugins,
            "max_documents_per_request": (
                max_documents_per_request
                if max_documents_per_request is not None
                else self.max_documents_per_request
            ),
            "max_concurrency": max_concurrency
            if max_concurrency is not None
            else self.max_concurrency,
            "strict": strict if strict is not None else self.strict,
        }

    @property
    def strict(self) -> bool:
        """Whether a response differing from the spec in form raises instead of being tolerated."""
        return self._policy.strict

    @property
    def api_key(self) -> str | None:
        """The API key in use (never shown in reprs, logs or errors)."""
        return self._api_key

    def _url(self, path: str) -> httpx.URL:
        # Joining URLs costs more than the rest of a small call's overhead; the
        # few paths there are get joined once.
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = self._request_base.join(path.lstrip("/"))
        return url

    def _headers(self) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        if self._basic_auth:
            headers["Authorization"] = self._basic_auth
        if self.default_headers:
            _override(headers, self.default_headers)
        return headers

    def _settle(self, call: APICall[Any]) -> Settled:
        """The call's method, URL, headers, body, timeout, extensions and options, checked."""
        body = call.body
        if call.extra_body:
            body = {**body, **call.extra_body}
        headers = self._headers()
        if call.extra_headers:
            _override(headers, check_headers("extra_headers", call.extra_headers))
        timeout = self.timeout if call.timeout is None else _to_timeout(call.timeout)
        max_retries = (
            self.max_retries if call.max_retries is None else _check_max_retries(call.max_retries)
        )
        content = _encode(body)
        options = self._options
        if options is None or options.max_retries != max_retries or options.timeout is not timeout:
            # Immutable, so one serves every call with the same settings.
            options = self._options = RequestOptions(max_retries=max_retries, timeout=timeout)
        return (
            call.method.upper(),
            self._url(call.path),
            headers,
            content,
            self._response_bound(call, len(content)),
            options,
        )

    def _prepare(
        self, build_request: Callable[..., httpx.Request], call: APICall[Any]
    ) -> tuple[httpx.Request, RequestOptions]:
        settled = self._settle(call)
        return self._build(build_request, call, settled), settled[-1]

    def _build(
        self, build_request: Callable[..., httpx.Request], call: APICall[Any], settled: Settled
    ) -> httpx.Request:
        """The `httpx.Request` of a settled call."""
        method, url, headers, content, extensions, options = settled
        return build_request(
            method,
            url,
            params=call.extra_query,
            headers=headers,
            content=content,
            timeout=options.timeout,
            extensions=extensions,
        )

    _options: RequestOptions | None = None

    max_response_bytes: int | None = None

    def _response_bound(self, call: APICall[Any], request_bytes: int) -> dict[str, int] | None:
        # A valid answer echoes at most the request's documents (escaped again in
        # JSON, hence 8x) and adds a bounded size per result.
        if self.max_response_bytes is not None:
            return {MAX_RESPONSE_BYTES: self.max_response_bytes}
        if call.response_allowance is None:
            return None
        bound = RESPONSE_MARGIN + 8 * request_bytes + call.response_allowance
        return {MAX_RESPONSE_BYTES: bound}

    def _flow(self, request: httpx.Request, options: RequestOptions) -> Flow:
        """The plugin chain a call goes through now (logging can be switched on at any time)."""
        quiet = not logger.isEnabledFor(logging.INFO)
        if quiet and self._lone_retry:
            # The built-in retry plugin alone, the usual case: it keeps the
            # plugin interface, so its flow needs none of the checks `chain`
            # wraps around plugins (about 3 % of a small async call's CPU).
            return self._quiet_chain[0].handle(request, options)
        return chain(self._quiet_chain if quiet else self._chain, request, options)

    def _direct(self, call: APICall[Any]) -> bool:
        """Whether no plugin but the built-in retry one would see this call's request."""
        return self._lone_retry and not call.extra_query and not logger.isEnabledFor(logging.INFO)

    def _checked(self, response: httpx.Response) -> httpx.Response:
        """The response, or its typed status error."""
        if not response.is_success:
            raise make_status_error(response)
        return response

    def _finish(self, call: APICall[T], response: httpx.Response) -> RawResponse[T]:
        return RawResponse(self._checked(response), partial(_parse_with, call.parse, self._policy))

    def __repr__(self) -> str:
        key = "set" if self._api_key else "none"
        return f"{type(self).__name__}(base_url={display_url(self.base_url)!r}, api_key=<{key}>)"


def _parse_with(
    parse: Callable[[httpx.Response, ResponsePolicy], T],
    policy: ResponsePolicy,
    response: httpx.Response,
) -> T:
    return parse(response, policy)


class SyncAPIClient(BaseClient):
    """The sync request path."""

    _http: httpx.Client

    def request(self, call: APICall[T]) -> T:
        """Send a call through the plugin chain and return its parsed result."""
        request, options = self._prepare(self._http.build_request, call)
        response = run_sync(self._http, self._flow(request, options))
        return call.parse(self._checked(response), self._policy)

    def request_raw(self, call: APICall[T]) -> RawResponse[T]:
        """Send a call through the plugin chain and return the raw response."""
        request, options = self._prepare(self._http.build_request, call)
        response = run_sync(self._http, self._flow(request, options))
        return self._finish(call, response)


class AsyncAPIClient(BaseClient):
    """The async request path: `SyncAPIClient`, awaited."""

    _http: httpx.AsyncClient

    async def request(self, call: APICall[T]) -> T:
        """Send a call through the plugin chain and return its parsed result."""
        # `request_raw`, inlined: on a small call each coroutine layer is a
        # measurable share of the CPU (every resume passes through all of them).
        http = self._http
        if type(http) is AiohttpClient and self._direct(call):
            # Nothing but the built-in retry plugin would see this call, and it
            # returns a 2xx as it is: send it, parse the body, and build the
            # httpx request and response (a tenth of the CPU) only if the answer
            # needs the chain after all (a retry, an error, a body to decode).
            settled = self._settle(call)
            method, url, headers, content, extensions, options = settled
            transport = http._aiohttp
            try:
                aio, body = await transport.exchange(
                    method,
                    url,
                    http.wire_headers(method, url, headers, content),
                    content,
                    timeout=transport.timeout(longest(options.timeout), options.timeout.connect),
                    bound=None if extensions is None else extensions[MAX_RESPONSE_BYTES],
                )
            except Exception as exc:
                received: Callable[[httpx.Request], httpx.Response] = partial(replay, exc)
            else:
                if (
                    call.parse_content is not None
                    and 200 <= aio.status < 300
                    and "Content-Encoding" not in aio.headers
                ):
                    parsed = call.parse_content(body, self._policy)
                    if parsed is not None:
                        return parsed
                received = partial(response_of, aio, body)
            request = self._build(http.build_request, call, settled)
            response = await run_async(http, self._flow(request, options), received)
        else:
            request, options = self._prepare(http.build_request, call)
            response = await run_async(http, self._flow(request, options))
        return call.parse(self._checked(response), self._policy)

    async def request_raw(self, call: APICall[T]) -> RawResponse[T]:
        """Send a call through the plugin chain and return the raw response."""
        request, options = self._prepare(self._http.build_request, call)
        response = await run_async(self._http, self._flow(request, options))
        return self._finish(call, response)
