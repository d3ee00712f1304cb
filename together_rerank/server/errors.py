"""The server's one error type and its wire shape, the spec's `ErrorResponse`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

ENGINE_HEADER = "x-together-rerank-engine"
"""Response header naming the engine behind an answer, so BM25 is never mistaken for a model."""

SERVER_ENGINE = "local"
"""The `ENGINE_HEADER` value of answers that no model produced (errors, /health, /models)."""

INVALID_REQUEST = "invalid_request_error"
AUTHENTICATION = "authentication_error"
SERVER_ERROR = "server_error"

_STATUS_TYPES = {401: AUTHENTICATION, 500: SERVER_ERROR}
_MAX_ECHO = 80


class APIError(Exception):
    """A failed request, carrying everything its `ErrorResponse` body needs."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        error_type: str | None = None,
        engine: str = SERVER_ENGINE,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = error_type or _STATUS_TYPES.get(status, INVALID_REQUEST)
        self.engine = engine
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """Return the `ErrorResponse` body of this error."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> Response:
        """Render this error as a JSON response with the engine header set."""
        return json_response(
            self.body(), status=self.status, engine=self.engine, headers=self.headers
        )


def json_bytes(payload: Any) -> bytes:
    """Encode a response payload as compact UTF-8 JSON, refusing NaN and infinities."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def json_response(
    payload: Any,
    *,
    status: int = 200,
    engine: str = SERVER_ENGINE,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Build a JSON response carrying the engine header."""
    return raw_json_response(json_bytes(payload), status=status, engine=engine, headers=headers)


def raw_json_response(
    body: bytes,
    *,
    status: int = 200,
    engine: str = SERVER_ENGINE,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Wrap already-encoded JSON in a response carrying the engine header."""
    all_headers = {**(headers or {}), ENGINE_HEADER: engine}
    return Response(body, status_code=status, headers=all_headers, media_type="application/json")


def echo(value: str) -> str:
    """Quote a client-supplied string for an error message, cut short so bodies stay small."""
    if len(value) > _MAX_ECHO:
        value = value[:_MAX_ECHO] + "..."
    return json.dumps(value, ensure_ascii=True)
