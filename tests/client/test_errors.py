"""Non-2xx answers become typed errors, whatever their status and body look like."""

from __future__ import annotations

import httpx
import pytest

from together_rerank import (
    APIError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TogetherError,
    UnprocessableEntityError,
)

from .helpers import DOCS, MODEL, RERANK_URL, Caller, MockAPI, error

STATUS_CLASSES: list[tuple[int, type[APIStatusError]]] = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, InternalServerError),
    (502, InternalServerError),
    (503, InternalServerError),
    (504, InternalServerError),
    # Non-standard codes: proxies and CDNs send them; the generated client alone crashes.
    (418, APIStatusError),
    (499, APIStatusError),
    (520, InternalServerError),
    (599, InternalServerError),
]


def _raise(mode: Caller, response: httpx.Response) -> APIStatusError:
    api = MockAPI(response)
    with pytest.raises(APIStatusError) as info:
        mode.rerank(api, client={"max_retries": 0}, model=MODEL, query="q", documents=DOCS)
    assert api.calls == 1
    return info.value


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
def test_each_status_maps_to_its_class(
    mode: Caller, status: int, cls: type[APIStatusError]
) -> None:
    exc = _raise(
        mode,
        error(status, f"the server says {status}", headers={"x-request-id": f"req-{status}"}),
    )
    assert type(exc) is cls
    assert isinstance(exc, APIStatusError)
    assert isinstance(exc, APIError)
    assert isinstance(exc, TogetherError)
    assert exc.status_code == status
    assert exc.response.status_code == status
    assert exc.request_id == f"req-{status}"
    assert f"the server says {status}" in str(exc)
    assert str(status) in str(exc)
    assert exc.message == str(exc)
    assert exc.body == {
        "error": {
            "message": f"the server says {status}",
            "type": "test_error",
            "param": None,
            "code": None,
        }
    }
    assert str(exc.request.url) == RERANK_URL
    assert exc.response.request is exc.request


def test_no_request_id_is_none(mode: Caller) -> None:
    exc = _raise(mode, error(400))
    assert exc.request_id is None


def test_html_error_body(mode: Caller) -> None:
    html = (
        "<html>\n<head><title>502 Bad Gateway</title></head>\n"
        "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body>\n"
        "</html>\n"
    )
    exc = _raise(mode, httpx.Response(502, text=html, headers={"content-type": "text/html"}))
    assert type(exc) is InternalServerError
    assert exc.body == html
    assert "502 Bad Gateway" in exc.message
    assert "\n" not in exc.message


def test_long_html_is_cut_in_the_message_but_kept_in_the_body(mode: Caller) -> None:
    html = "<html><body>" + "x" * 10_000 + "</body></html>"
    exc = _raise(mode, httpx.Response(503, text=html))
    assert exc.body == html
    assert len(exc.message) < 300


def test_empty_error_body(mode: Caller) -> None:
    exc = _raise(mode, httpx.Response(503))
    assert type(exc) is InternalServerError
    assert exc.body is None
    assert exc.message == "Error code: 503"


def test_plain_text_error_body(mode: Caller) -> None:
    exc = _raise(mode, httpx.Response(429, text="Too Many Requests"))
    assert type(exc) is RateLimitError
    assert exc.body == "Too Many Requests"
    assert exc.message == "Error code: 429 - Too Many Requests"


def test_undecodable_error_body(mode: Caller) -> None:
    exc = _raise(mode, httpx.Response(500, content=b"\xff\xfe broken \x80"))
    assert type(exc) is InternalServerError
    assert isinstance(exc.body, str)
    assert "broken" in exc.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"message": "top_n: must be >= 1", "type": "x"}}, "top_n: must be >= 1"),
        ({"error": "model not found"}, "model not found"),
        ({"message": "flat message"}, "flat message"),
        ({"detail": "something else"}, "400 - something else"),  # FastAPI's form
        (["a", "list"], '["a", "list"]'),
    ],
)
def test_json_error_bodies(mode: Caller, body: object, expected: str) -> None:
    exc = _raise(mode, httpx.Response(400, json=body))
    assert type(exc) is BadRequestError
    assert exc.body == body
    assert expected in exc.message


def test_error_after_retries_is_the_last_answer(mode: Caller) -> None:
    api = MockAPI(error(503, "first"), error(503, "second"), error(502, "third"))
    with pytest.raises(InternalServerError, match="third") as info:
        mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert api.calls == 3
    assert info.value.status_code == 502


def test_redirects_are_not_followed_and_raise(mode: Caller) -> None:
    exc = _raise(mode, httpx.Response(302, headers={"location": "https://elsewhere.example/"}))
    assert type(exc) is APIStatusError
    assert exc.status_code == 302


def test_embeddings_errors_are_typed_too(mode: Caller) -> None:
    api = MockAPI(error(401, "invalid api key"))
    with pytest.raises(AuthenticationError, match="invalid api key"):
        mode.embeddings(api, model="m", input="x")
