"""The local server under hostile input, over loopback: never a 5xx, always still serving.

* schemathesis generates requests from openapi.yaml: negative data (every way
  schemathesis knows to break the request schemas) must be refused with a 4xx
  in the spec's shape; positive data must never be a server error.
* A Hypothesis fuzzer of raw bodies: random JSON (NaN, huge numbers, odd
  unicode), huge strings, deep nesting, invalid UTF-8, wrong content types.
* Broken HTTP framing from the client side (a body cut short, a bad length).

After each run, `GET /health` and a valid rerank still work.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, openapi
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from together_rerank.server import LocalServer, ServerConfig

from .support import API_KEY, DOCUMENTS, EMBEDDING_MODEL, MODEL, QUERY

SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
# Small limits, so that "too large" and "too many" are reachable by generated data.
CONFIG = ServerConfig(api_key=API_KEY, max_body_bytes=1024 * 1024, max_documents=500)

SCHEMATHESIS_EXAMPLES = {GenerationMode.NEGATIVE: 60, GenerationMode.POSITIVE: 20}
FUZZ_EXAMPLES = 200

EXAMPLES_RUN: dict[str, int] = {}
"""How many examples each run executed (printed, for docs/reliability.md)."""


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(CONFIG) as local:
        yield local


def assert_healthy(server: LocalServer) -> None:
    """The server still answers /health and a valid rerank."""
    with httpx.Client(timeout=30) as http:
        assert http.get(f"{server.root_url}/health").json() == {"status": "ok"}
        response = http.post(
            f"{server.base_url}/rerank",
            json={"model": MODEL, "query": QUERY, "documents": DOCUMENTS, "top_n": 2},
            headers=AUTH,
        )
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == 2


def assert_error_body(response: httpx.Response) -> None:
    """A 4xx whose body is the spec's ErrorResponse."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert isinstance(body["error"]["message"], str)


# --- schemathesis -----------------------------------------------------------------------


def _schema() -> Any:
    schema = openapi.from_path(SPEC)
    # Authorization is sent by the test (the server requires it); generating it would
    # only test the 401 path, which `test_auth_...` below covers.
    schema.config.generation.update(with_security_parameters=False)
    return schema


OPERATIONS = ["POST /rerank", "POST /embeddings", "GET /models"]
SERVED_MODELS = {"POST /rerank": MODEL, "POST /embeddings": EMBEDDING_MODEL}


@pytest.mark.parametrize("label", OPERATIONS)
@pytest.mark.parametrize("generation", list(SCHEMATHESIS_EXAMPLES), ids=lambda m: m.value)
def test_schemathesis(server: LocalServer, label: str, generation: GenerationMode) -> None:
    if generation is GenerationMode.NEGATIVE and label == "GET /models":
        pytest.skip("GET /models takes no input: there is no negative data to generate")
    operation = _schema().find_operation_by_label(label)
    assert operation is not None, label
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    if generation is GenerationMode.NEGATIVE:
        checks += [negative_data_rejection, status_code_conformance]
    statuses: dict[int, int] = {}

    @settings(
        max_examples=SCHEMATHESIS_EXAMPLES[generation],
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=generation))
    def run(case: Any) -> None:
        if generation is GenerationMode.POSITIVE and isinstance(case.body, dict):
            # Random model names all end in 404; a served model reaches the engines.
            case.body["model"] = SERVED_MODELS[label]
        response = case.call(base_url=server.base_url, headers=AUTH, timeout=30)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=checks)

    run()
    EXAMPLES_RUN[f"schemathesis {generation.value} {label}"] = sum(statuses.values())
    print(f"schemathesis {generation.value} {label}: statuses {sorted(statuses.items())}")
    assert all(status < 500 for status in statuses)
    if generation is GenerationMode.NEGATIVE:
        assert set(statuses) <= set(range(400, 500)), statuses
    assert_healthy(server)


def test_auth_is_refused_without_leaking(server: LocalServer) -> None:
    with httpx.Client(timeout=30) as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}):
            response = http.post(
                f"{server.base_url}/rerank",
                json={"model": MODEL, "query": QUERY, "documents": DOCUMENTS},
                headers=headers,
            )
            assert response.status_code == 401
            assert_error_body(response)
            assert API_KEY not in response.text


# --- a Hypothesis fuzzer of raw bodies --------------------------------------------------

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_leaves,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)
FIELDS = ["model", "query", "documents", "top_n", "return_documents", "rank_fields", "input"]


@st.composite
def request_like(draw: st.DrawFn) -> bytes:
    """A JSON object with the API's field names and arbitrary values (NaN as a literal)."""
    body: dict[str, Any] = {}
    if draw(st.booleans()):
        body["model"] = MODEL
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=7, unique=True)):
        body[name] = draw(json_values)
    return json.dumps(body).encode()


@st.composite
def huge_string(draw: st.DrawFn) -> bytes:
    """A valid-looking request with one enormous string, up to past the body limit."""
    size = draw(st.sampled_from([10_000, 500_000, CONFIG.max_body_bytes + 1, 3_000_000]))
    where = draw(st.sampled_from(["query", "document", "model", "input"]))
    big = "x" * size
    body: dict[str, Any] = {"model": MODEL, "query": QUERY, "documents": DOCUMENTS, "input": "a"}
    if where == "document":
        body["documents"] = [big]
    else:
        body[where] = big
    return json.dumps(body).encode()


@st.composite
def deep_nesting(draw: st.DrawFn) -> bytes:
    """Arrays or objects nested up to 100,000 deep, alone or as a document."""
    depth = draw(st.integers(min_value=1, max_value=100_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    nest = opener * depth + "1" + closer * depth
    if draw(st.booleans()):
        return nest.encode()
    return f'{{"model": "{MODEL}", "query": "q", "documents": [{{"d": {nest}}}]}}'.encode()


@st.composite
def invalid_utf8(draw: st.DrawFn) -> bytes:
    """A request with a byte sequence that is not UTF-8 spliced in, or random bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=200))
    bad = draw(
        st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"])
    )
    body = json.dumps({"model": MODEL, "query": "QQ", "documents": ["DD"], "input": "II"}).encode()
    target = draw(st.sampled_from([b"QQ", b"DD", b"II"]))
    return body.replace(target, bad)


@st.composite
def surrogate_escapes(draw: st.DrawFn) -> bytes:
    """Lone or reversed UTF-16 surrogate escapes in any string field."""
    escape = draw(st.sampled_from(["\\ud800", "\\udfff", "\\udc00\\ud800", "\\ud83d", "a\\ud83dz"]))
    field = draw(st.sampled_from(["query", "documents", "model", "input", "rank_fields"]))
    value = f'"{escape}"' if field in ("query", "model", "input") else f'["{escape}"]'
    docs = '[{"t": "x"}]' if field == "rank_fields" else '["d"]'
    fields = {"model": f'"{MODEL}"', "query": '"q"', "documents": docs, "input": '"i"'}
    fields[field] = value
    return ("{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}").encode()


bodies = st.one_of(
    request_like(),
    json_values.map(lambda value: json.dumps(value).encode()),
    huge_string(),
    deep_nesting(),
    invalid_utf8(),
    surrogate_escapes(),
)
content_types = st.one_of(
    st.just("application/json"),
    st.sampled_from(
        [
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "application/json; charset=latin-1",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "application/jsonx",
            "",
        ]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(str.strip),
)
paths = st.sampled_from(["/v1/rerank", "/v1/embeddings", "/rerank", "/embeddings", "/v1/models"])


def test_fuzz_raw_bodies(server: LocalServer) -> None:
    count = 0
    with httpx.Client(timeout=30) as http:

        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(body=bodies, content_type=content_types, path=paths)
        def run(body: bytes, content_type: str, path: str) -> None:
            nonlocal count
            count += 1
            # A fresh connection each time: no example can lean on another's state.
            headers = {**AUTH, "Connection": "close"}
            if content_type:
                headers["Content-Type"] = content_type
            response = http.post(f"{server.root_url}{path}", content=body, headers=headers)
            if response.status_code >= 400:
                assert_error_body(response)
            else:
                assert response.status_code == 200
                response.json()

        run()
    EXAMPLES_RUN["fuzz raw bodies"] = count
    print(f"fuzz raw bodies: {count} examples")
    assert count >= FUZZ_EXAMPLES // 2
    assert_healthy(server)


# --- broken framing, from the client side -----------------------------------------------


def _raw_exchange(server: LocalServer, data: bytes, *, shut: bool) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (ConnectionResetError, TimeoutError):
            pass
    return b"".join(chunks)


def _head(length: str) -> bytes:
    return (
        f"POST /v1/rerank HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


FRAMING = {
    "body shorter than Content-Length": (_head("1000") + b'{"model": "', True),
    "Content-Length not a number": (_head("abc") + b"{}", False),
    "negative Content-Length": (_head("-5") + b"{}", False),
    "Content-Length past the body limit": (_head(str(10**12)), True),
    "garbage request line": (b"\x00\x01\x02 / HTTP/1.1\r\n\r\n", False),
    "no body at all": (_head("0"), False),
}


@pytest.mark.parametrize("case", list(FRAMING))
def test_broken_framing(server: LocalServer, case: str) -> None:
    data, shut = FRAMING[case]
    answer = _raw_exchange(server, data, shut=shut)
    # Either no answer (the peer is gone) or a 4xx; never a 5xx.
    if answer:
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, answer[:300]
    assert_healthy(server)


def test_server_limits_benchmark_quick_run(tmp_path: Path) -> None:
    """`python -m benchmarks.server_limits --quick` runs end to end (a smoke test, no timings)."""
    out = tmp_path / "limits.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.server_limits", "--quick", "--json", str(out)],
        cwd=SPEC.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    assert figures["big_statuses"] == [200]  # the costliest allowed request is served
    assert figures["issue_request"]["status"] == 400
    assert figures["issue_request"]["code"] == "query_too_long"
    for phase in ("small_idle", "small_loaded", "big"):
        assert figures[phase]["n"] > 0
    assert "small loaded/idle" in done.stdout
