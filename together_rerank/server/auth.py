"""Bearer-token check for the API routes."""

from __future__ import annotations

import hmac

from together_rerank.server.errors import APIError

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def check_bearer(authorization: str | None, api_key: str) -> None:
    """Raise a 401 `APIError` unless `authorization` is ``Bearer <api_key>``."""
    if authorization is None:
        raise APIError(
            401,
            "missing API key: send 'Authorization: Bearer <key>'",
            code="missing_api_key",
            headers=_CHALLENGE,
        )
    scheme, _, token = authorization.strip().partition(" ")
    # Starlette decodes header values as latin-1; re-encoding recovers the raw
    # bytes, and comparing bytes keeps compare_digest from rejecting non-ASCII.
    presented = token.strip().encode("latin-1", "replace")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented, api_key.encode()):
        raise APIError(401, "invalid API key", code="invalid_api_key", headers=_CHALLENGE)
