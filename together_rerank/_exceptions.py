"""The errors this SDK raises: one hierarchy, named as in the official Together SDK."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ._secrets import redact, redact_value, sent_secrets

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseDecodingError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "MissingAPIKeyError",
    "NotFoundError",
    "PermissionDeniedError",
    "PluginError",
    "RateLimitError",
    "ResponseTooLargeError",
    "TogetherError",
    "UnprocessableEntityError",
    "make_status_error",
]


class TogetherError(Exception):
    """Base class of every error this SDK raises."""


class InvalidArgumentError(TogetherError, ValueError):
    """An argument is invalid; raised before anything is sent."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


class InvalidArgumentTypeError(InvalidArgumentError, TypeError):
    """An argument has the wrong type; raised before anything is sent."""


class MissingAPIKeyError(TogetherError):
    """No API key was given for a server that needs one."""


class PluginError(TogetherError, TypeError):
    """A plugin broke the plugin interface (see `Plugin`); `plugin` is the culprit."""

    def __init__(self, plugin: object, message: str) -> None:
        super().__init__(f"plugin {plugin_name(plugin)}: {message}")
        self.plugin = plugin


def plugin_name(plugin: object) -> str:
    """How errors name a plugin: by its class."""
    return (plugin if isinstance(plugin, type) else type(plugin)).__qualname__


class APIError(TogetherError):
    """A request was made and did not produce a valid result."""

    def __init__(self, message: str, request: httpx.Request, *, body: object = None) -> None:
        # Messages and bodies come from servers, which may echo the key back.
        secrets = sent_secrets(request)
        message = redact(message, secrets)
        body = redact_value(body, secrets)
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke."""

    def __init__(self, request: httpx.Request, message: str = "Connection error.") -> None:
        super().__init__(message, request)


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(self, request: httpx.Request, message: str = "Request timed out.") -> None:
        super().__init__(request, message)


class APIResponseDecodingError(APIConnectionError):
    """The body could not be decoded (its Content-Encoding does not match it); retried."""

    def __init__(
        self, request: httpx.Request, message: str = "Response body could not be decoded."
    ) -> None:
        super().__init__(request, message)


class APIResponseValidationError(APIError):
    """The server answered 2xx with a body that breaks the API contract."""

    def __init__(self, response: httpx.Response, message: str, *, body: object = None) -> None:
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code


class ResponseTooLargeError(APIResponseValidationError):
    """A 2xx body grew past any valid answer's size (`max_response_bytes`); not retried."""


class APIStatusError(APIError):
    """The server answered with a 4xx or 5xx status."""

    def __init__(self, message: str, *, response: httpx.Response, body: object) -> None:
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code
        self.request_id = response.headers.get("x-request-id")


class BadRequestError(APIStatusError):
    """400: the server rejected the request."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or wrong."""


class PermissionDeniedError(APIStatusError):
    """403: the API key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such model or endpoint."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the server's state."""


class UnprocessableEntityError(APIStatusError):
    """422: the server understood the request but cannot process it."""


class RateLimitError(APIStatusError):
    """429: too many requests."""


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

# Enough of an HTML error page to recognise it; the whole page stays on `.body`.
_MAX_TEXT_IN_MESSAGE = 200


def make_status_error(response: httpx.Response) -> APIStatusError:
    """The typed error for a non-2xx response, whatever its body looks like."""
    # Redacted before anything is cut short, or a cut could leave half a key.
    body = redact_value(_decode_body(response), sent_secrets(response.request))
    detail = _error_message(body)
    message = f"Error code: {response.status_code}"
    if detail:
        message += f" - {detail}"
    status = response.status_code
    if status == 404 and not _is_together_error(body):
        # Not the API saying "no such model": most likely no such route, so
        # the base URL does not match how the server is mounted.
        message += _NOT_FOUND_HINT.format(
            method=response.request.method, url=_shown_url(response.request.url)
        )
    cls = InternalServerError if status >= 500 else _STATUS_CLASSES.get(status, APIStatusError)
    return cls(message, response=response, body=body)


_NOT_FOUND_HINT = (
    " ({method} {url} was not found, and the answer is not an API error: is the server "
    "mounted elsewhere? A base URL that is a bare host gets /v1 appended; any other path "
    "is kept as given; for a server mounted at the root or under another prefix, pass the "
    "URL of its rerank endpoint as base_url or TOGETHER_BASE_URL, e.g. "
    "http://127.0.0.1:7997/rerank)"
)


def _is_together_error(body: object) -> bool:
    """Whether `body` is the spec's `ErrorData`: `{"error": {"message": ...}}`."""
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and isinstance(error.get("message"), str)


def _shown_url(url: httpx.URL) -> str:
    # Scheme, host and path only: user-info and the query may carry secrets.
    return str(url.copy_with(userinfo=b"", query=None, fragment=None))


def _fastapi_detail(detail: object) -> str:
    """FastAPI's error body (infinity-emb, vLLM's 422s): `detail` text, or `loc: msg` items."""
    if isinstance(detail, str):
        return detail[:_MAX_TEXT_IN_MESSAGE]
    if not isinstance(detail, list):
        return ""
    parts = []
    for item in detail:
        if isinstance(item, dict) and isinstance(item.get("msg"), str):
            loc = item.get("loc")
            # The first part says where in the request ("body", "query"): left out.
            where = (
                ".".join(str(p) for p in loc[1:]) if isinstance(loc, list) and len(loc) > 1 else ""
            )
            parts.append(f"{where}: {item['msg']}" if where else item["msg"])
    text = "; ".join(parts)
    return text[:_MAX_TEXT_IN_MESSAGE] + ("..." if len(text) > _MAX_TEXT_IN_MESSAGE else "")


def _decode_body(response: httpx.Response) -> object:
    # Error bodies come from proxies and load balancers too: HTML, plain text
    # or nothing at all. None of that may stop the right error from being raised.
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return response.content.decode("utf-8", errors="replace")


def _error_message(body: object) -> str:
    if isinstance(body, dict):
        error: Any = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if isinstance(body.get("message"), str):
            return str(body["message"])
        detail = _fastapi_detail(body.get("detail"))
        if detail:
            return detail
        return json.dumps(body)[:_MAX_TEXT_IN_MESSAGE]
    if isinstance(body, str):
        text = " ".join(body.split())
        return text[:_MAX_TEXT_IN_MESSAGE] + ("..." if len(text) > _MAX_TEXT_IN_MESSAGE else "")
    if body is None:
        return ""
    return json.dumps(body)[:_MAX_TEXT_IN_MESSAGE]
