"""`run_check` against the real local server: every promise holds, over real loopback HTTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from together_rerank import (
    APIConnectionError,
    AuthenticationError,
    InvalidArgumentError,
    NotFoundError,
)
from together_rerank.contract import ALL_PROPERTIES, Level, Status, run_check, spec_path
from together_rerank.server import LocalServer, ServerConfig


def test_the_local_server_keeps_every_promise(local_server: LocalServer) -> None:
    report = run_check(local_server.root_url, max_examples=10, seed=0)
    assert report.ok, report.format()
    assert [r.name for r in report.results] == list(ALL_PROPERTIES)
    assert all(r.status is Status.PASS and r.checked > 0 for r in report.results)
    assert {r.level for r in report.results} == {Level.SCHEMA, Level.SEMANTIC}
    assert report.seed == 0
    assert report.max_examples == 10
    assert f"Every property holds ({len(ALL_PROPERTIES)} checked" in report.format()


def test_the_url_may_be_given_with_or_without_v1(local_server: LocalServer) -> None:
    only = ["answers_valid_requests"]
    bare = run_check(local_server.root_url, only=only, max_examples=3, seed=0)
    with_v1 = run_check(local_server.base_url + "/", only=only, max_examples=3, seed=0)
    assert bare.ok
    assert with_v1.ok
    assert bare.base_url == with_v1.base_url == local_server.base_url


def test_a_random_seed_is_picked_and_reported(local_server: LocalServer) -> None:
    report = run_check(local_server.root_url, max_examples=2, only=["result_count"])
    assert isinstance(report.seed, int)
    assert f"seed {report.seed}" in report.format()


@pytest.fixture(scope="module")
def keyed_server() -> Iterator[LocalServer]:
    """A local server that serves only its own model names, behind an API key."""
    config = ServerConfig(
        models={"acme/ranker": "bm25", "acme/embedder": "hashed-ngrams"}, api_key="sk-contract"
    )
    with LocalServer(config) as server:
        yield server


def test_the_key_and_the_model_reach_both_levels(keyed_server: LocalServer) -> None:
    report = run_check(
        keyed_server.root_url,
        api_key="sk-contract",
        model="acme/ranker",
        only=["positive_data_acceptance", "negative_data_rejection", "answers_valid_requests"],
        max_examples=10,
        seed=0,
    )
    assert report.ok, report.format()
    # Found through GET /models, since the default embedding model is not served here.
    assert report.embedding_model == "acme/embedder"


def test_a_refused_key_stops_the_check_before_it_starts(keyed_server: LocalServer) -> None:
    with pytest.raises(AuthenticationError):
        run_check(
            keyed_server.root_url, api_key="sk-wrong", model="acme/ranker", max_examples=3, seed=0
        )
    with pytest.raises(AuthenticationError):
        run_check(keyed_server.root_url, model="acme/ranker", max_examples=3, seed=0)


def test_a_model_the_server_does_not_serve_stops_the_check(local_server: LocalServer) -> None:
    with pytest.raises(NotFoundError):
        run_check(local_server.root_url, model="no/such-model", max_examples=3, seed=0)


def test_an_unreachable_server_is_a_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port any more.
    with pytest.raises(APIConnectionError):
        run_check(f"http://127.0.0.1:{port}", timeout=2.0, max_examples=3, seed=0)


def test_bad_arguments_are_refused_before_any_request() -> None:
    # Nothing listens on port 9: these must fail before any request is made.
    url = "http://127.0.0.1:9"
    with pytest.raises(InvalidArgumentError, match="max_examples"):
        run_check(url, max_examples=0)
    with pytest.raises(InvalidArgumentError, match="max_examples"):
        run_check(url, max_examples=True)
    with pytest.raises(InvalidArgumentError, match="unknown property no_such_property"):
        run_check(url, only=["sorted_by_score", "no_such_property"])


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="base_url"):
        run_check("ftp://127.0.0.1/v1")


def test_the_spec_comes_with_the_package() -> None:
    path = spec_path()
    assert path.name == "openapi.yaml"
    assert "RerankRequest" in path.read_text(encoding="utf-8")
