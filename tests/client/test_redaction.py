"""The redaction rules: what counts as a secret of a request, and how it is cut out of text."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote

import httpx
import pytest

from together_rerank._secrets import display_url, redact, redact_value, sent_secrets

KEY = "sk-abc123XYZ789"


def _request(**headers: str) -> httpx.Request:
    return httpx.Request("POST", "http://127.0.0.1:9/v1/rerank", headers=headers)


@pytest.mark.parametrize(
    "form", [KEY, f"Bearer {KEY}", html.escape(f"<{KEY}>"), json.dumps(KEY), quote(f"k={KEY}")]
)
def test_the_key_is_redacted_in_every_form_a_server_may_echo(form: str) -> None:
    secrets = sent_secrets(_request(Authorization=f"Bearer {KEY}"))
    text = redact(f"before {form} after", secrets)
    assert KEY not in text
    assert "<redacted>" in text
    assert text.startswith("before ")
    assert text.endswith(" after")


def test_basic_credentials_are_secrets_decoded_too() -> None:
    token = base64.b64encode(b"alice:s3cret-password").decode()
    secrets = sent_secrets(_request(Authorization=f"Basic {token}"))
    assert "s3cret-password" in secrets
    assert redact("user alice:s3cret-password", secrets) == "user <redacted>"


def test_a_short_secret_is_redacted_only_as_a_whole_token() -> None:
    secrets = sent_secrets(_request(**{"X-Api-Key": "test"}))
    assert (
        redact("test-suite: key test was wrong", secrets) == "test-suite: key <redacted> was wrong"
    )


def test_a_request_without_secrets_changes_nothing() -> None:
    assert sent_secrets(_request()) == ()
    body = {"error": {"message": "no key here"}}
    assert redact_value(body, ()) is body


def test_redact_value_walks_json() -> None:
    secrets = (KEY,)
    value = {"error": [f"got {KEY}", {KEY: 1, "n": 2}], "ok": True}
    assert redact_value(value, secrets) == {
        "error": ["got <redacted>", {"<redacted>": 1, "n": 2}],
        "ok": True,
    }


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://alice:pw@host:8000/v1", "http://***@host:8000/v1"),
        ("https://token@host/v1", "https://***@host/v1"),
        ("http://host/v1/a@b", "http://host/v1/a@b"),
        ("not a url at all", "not a url at all"),
    ],
)
def test_display_url_masks_user_info(url: str, shown: str) -> None:
    assert display_url(url) == shown
    if "://" in url and " " not in url:
        assert display_url(httpx.URL(url)) == shown
