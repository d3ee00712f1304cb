"""Any server layout: the root, any prefix, and a 404 that says which URL was called and why.

The rule: a bare host gets `/v1` (the default, both official SDKs' convention);
any other path is kept; the URL of an endpoint (`.../rerank`,
`.../embeddings`) means its server is mounted at what precedes it, the root
included (infinity-emb serves `http://127.0.0.1:7997/rerank`).
"""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from tests.contract.thirdparty import EMBEDDING_MODEL, RERANK_MODEL, third_party_server
from together_rerank import AsyncTogether, NotFoundError, Together, UnprocessableEntityError

from .helpers import DOCS, MODEL, Caller, MockAPI


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOGETHER_API_KEY", "TOGETHER_BASE_URL", "TOGETHER_LOG"):
        monkeypatch.delenv(name, raising=False)


ENDPOINT_FORMS = [
    # (base URL given, where rerank goes, where embeddings go)
    (
        "http://127.0.0.1:7997/rerank",
        "http://127.0.0.1:7997/rerank",
        "http://127.0.0.1:7997/embeddings",
    ),
    (
        "http://127.0.0.1:7997/rerank/",
        "http://127.0.0.1:7997/rerank",
        "http://127.0.0.1:7997/embeddings",
    ),
    (
        "http://127.0.0.1:7997/embeddings",
        "http://127.0.0.1:7997/rerank",
        "http://127.0.0.1:7997/embeddings",
    ),
    ("http://h/api/v2/rerank", "http://h/api/v2/rerank", "http://h/api/v2/embeddings"),
    ("http://h/v1/rerank", "http://h/v1/rerank", "http://h/v1/embeddings"),
    # The default convention, unchanged.
    ("http://h", "http://h/v1/rerank", "http://h/v1/embeddings"),
    ("http://h/", "http://h/v1/rerank", "http://h/v1/embeddings"),
    ("http://h/gateway", "http://h/gateway/rerank", "http://h/gateway/embeddings"),
]


@pytest.mark.parametrize(("base_url", "rerank", "embeddings"), ENDPOINT_FORMS)
def test_an_endpoint_url_names_where_the_server_is_mounted(
    mode: Caller, base_url: str, rerank: str, embeddings: str
) -> None:
    api = MockAPI()
    mode.rerank(api, client={"base_url": base_url}, model=MODEL, query="q", documents=DOCS)
    assert str(api.last.url) == rerank
    mode.embeddings(api, client={"base_url": base_url}, model="m", input="x")
    assert str(api.last.url) == embeddings


@pytest.mark.parametrize(("base_url", "rerank", "embeddings"), ENDPOINT_FORMS)
def test_the_same_rule_applies_to_together_base_url(
    monkeypatch: pytest.MonkeyPatch, base_url: str, rerank: str, embeddings: str
) -> None:
    monkeypatch.setenv("TOGETHER_BASE_URL", base_url)
    api = MockAPI()
    Caller(False).rerank(api, model=MODEL, query="q", documents=DOCS)
    assert str(api.last.url) == rerank


def test_with_options_keeps_a_root_mounted_server_at_the_root() -> None:
    api = MockAPI()
    with api.client(base_url="http://127.0.0.1:7997/rerank") as client:
        copy = client.with_options(max_retries=1)
        copy.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert str(api.last.url) == "http://127.0.0.1:7997/rerank"
    async_copy = AsyncTogether(base_url="http://127.0.0.1:7997/rerank").with_options(timeout=3)
    assert str(async_copy.base_url) == "http://127.0.0.1:7997/"


def test_a_root_mounted_server_is_reachable_over_http() -> None:
    with third_party_server("infinity") as server:
        with Together(base_url=f"{server.root_url}/rerank", max_retries=0) as client:
            ranked = client.rerank.create(model=RERANK_MODEL, query="a", documents=["a", "b"])
            embedded = client.embeddings.create(model=EMBEDDING_MODEL, input="a")
        assert ranked.results[0].index == 0
        assert len(embedded.data) == 1
        # The default convention adds /v1, where infinity serves nothing: a 404 that says so.
        root = server.root_url
        with (
            Together(base_url=root, max_retries=0) as client,
            pytest.raises(NotFoundError) as info,
        ):
            client.rerank.create(model=RERANK_MODEL, query="a", documents=["a", "b"])
    message = str(info.value)
    assert f"POST {root}/v1/rerank was not found" in message
    assert "bare host gets /v1" in message
    assert "http://127.0.0.1:7997/rerank" in message  # how to name the root


def test_a_404_in_the_apis_error_shape_is_left_as_the_api_said() -> None:
    body = {"error": {"message": "model 'x' not found", "type": "invalid_request_error"}}
    api = MockAPI(httpx.Response(404, json=body))
    with pytest.raises(NotFoundError) as info:
        Caller(False).rerank(api, client={"max_retries": 0}, model=MODEL, query="q", documents=DOCS)
    assert str(info.value) == "Error code: 404 - model 'x' not found"


@pytest.mark.parametrize(
    "content", [b'{"detail":"Not Found"}', b"<html>404 Not Found</html>", b""], ids=str
)
def test_a_404_hint_never_shows_credentials_or_the_query(content: bytes) -> None:
    api = MockAPI(httpx.Response(404, content=content))
    with (
        api.client(base_url="http://user:hunter2-secret@h:81/prefix", max_retries=0) as client,
        pytest.raises(NotFoundError) as info,
    ):
        client.rerank.create(
            model=MODEL, query="q", documents=DOCS, extra_query={"token": "qs-secret-1"}
        )
    message = str(info.value)
    assert "POST http://h:81/prefix/rerank was not found" in message
    assert "hunter2" not in message
    assert "qs-secret" not in message
    assert "user" not in message


def test_the_cli_reaches_a_root_mounted_server() -> None:
    with third_party_server("infinity") as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_")}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "together_rerank.cli",
                "rerank",
                "--base-url",
                f"{server.root_url}/rerank",
                "--model",
                RERANK_MODEL,
                "--query",
                "apples",
                "--json",
                "-",
            ],
            input="pears\napples\n",
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert '"index": 1' in done.stdout or '"index":1' in done.stdout


def test_a_fastapi_error_body_gives_a_readable_message() -> None:
    # infinity-emb refuses object documents with FastAPI's 422 body.
    with (
        third_party_server("infinity") as server,
        Together(base_url=f"{server.root_url}/rerank", max_retries=0) as client,
        pytest.raises(UnprocessableEntityError) as info,
    ):
        client.rerank.create(model=RERANK_MODEL, query="q", documents=[{"title": "a"}])
    assert str(info.value) == "Error code: 422 - documents.0: Input should be a valid string"
    assert info.value.body == {
        "detail": [
            {
                "type": "string_type",
                "loc": ["body", "documents", 0],
                "msg": "Input should be a valid string",
                "input": {"title": "a"},
            }
        ]
    }
