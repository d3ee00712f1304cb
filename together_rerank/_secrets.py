"""Keeping secrets out of what the SDK shows: error messages, logs, reprs and URLs.

A server can only echo what it was sent, so the secrets to redact from a
message built from a response are the ones its request carried: the
credentials of its secret headers (`Bearer <key>` and the key alone) and the
user-info of its URL.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from urllib.parse import quote

import httpx

__all__ = ["REDACTED", "SECRET_HEADERS", "display_url", "redact", "redact_value", "sent_secrets"]

REDACTED = "<redacted>"

# Headers whose values are secrets: never shown, never logged.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"}
)

# A secret this long is redacted wherever it appears; a shorter one only as a
# whole token, so that a 4-letter test key does not blank out ordinary words.
_LONG = 8
_USERINFO = re.compile(r"(?<=://)[^/?#@]*@")


def sent_secrets(request: httpx.Request) -> tuple[str, ...]:
    """Every secret `request` carried, in the forms a server may echo it, longest first."""
    found: set[str] = set()
    for name in SECRET_HEADERS:
        for value in request.headers.get_list(name):
            found.add(value)
            scheme, _, credentials = value.strip().partition(" ")
            credentials = credentials.strip()
            if credentials:
                found.add(credentials)
                if scheme.lower() == "basic":
                    found |= _basic_parts(credentials)
    url = request.url
    found |= {part for part in (url.username, url.password) if part}
    forms = {form for secret in found for form in _echo_forms(secret)}
    return tuple(sorted((form for form in forms if form.strip()), key=len, reverse=True))


def _basic_parts(credentials: str) -> set[str]:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return set()
    user, _, password = decoded.partition(":")
    return {decoded, user, password}


def _echo_forms(secret: str) -> set[str]:
    # As sent, as an HTML page would show it, as JSON would escape it, URL-encoded.
    return {secret, html.escape(secret), json.dumps(secret)[1:-1], quote(secret, safe="")}


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each of `secrets` replaced by `<redacted>`."""
    for secret in secrets:
        if secret not in text:
            continue
        if len(secret) >= _LONG:
            text = text.replace(secret, REDACTED)
        else:
            text = re.sub(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", REDACTED, text)
    return text


def redact_value(value: object, secrets: tuple[str, ...]) -> object:
    """A decoded JSON value (or text) with every string in it redacted."""
    if not secrets:
        return value
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [redact_value(item, secrets) for item in value]
    if isinstance(value, dict):
        return {
            redact(key, secrets) if isinstance(key, str) else key: redact_value(item, secrets)
            for key, item in value.items()
        }
    return value


def display_url(url: httpx.URL | str) -> str:
    """The URL to show a human: any user-info (`user:password@`) masked as `***@`."""
    if isinstance(url, httpx.URL):
        if not url.userinfo:
            return str(url)
        return str(url.copy_with(userinfo=b"")).replace("://", "://***@", 1)
    return _USERINFO.sub("***@", url, count=1)
