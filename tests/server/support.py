"""Shared data and checks for the server tests: seed examples and spec validation."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml
from jsonschema import Draft202012Validator
from starlette.applications import Starlette

from together_rerank.server import ENGINE_HEADER

BASE_URL = "http://testserver"
SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"

RERANK_MODEL = "Salesforce/Llama-Rank-V1"
EMBEDDING_MODEL = "togethercomputer/m2-bert-80M-8k-retrieval"

# The usage examples of /work/shared/seed/rerank-create.txt.
RAG_QUERY = "What is retrieval-augmented generation?"
RAG_DOCUMENTS = [
    "The weather forecast predicts rain tomorrow.",
    "RAG combines retrieval with generation for more accurate LLM responses.",
    "Python is a popular programming language.",
    "Retrieval-augmented generation uses external knowledge to improve LLM outputs.",
    "The stock market closed higher today.",
]
FRAMEWORK_QUERY = "deep learning frameworks"
FRAMEWORK_DOCUMENTS: list[dict[str, Any]] = [
    {"title": "PyTorch Guide", "body": "PyTorch is an open-source deep learning framework."},
    {"title": "Cooking Recipes", "body": "Learn to make delicious pasta at home."},
    {
        "title": "TensorFlow Tutorial",
        "body": "TensorFlow provides tools for building neural networks.",
    },
]
OPTIMIZATION_QUERY = "machine learning optimization"
OPTIMIZATION_DOCUMENTS = [
    "Gradient descent is used to minimize loss functions.",
    "Tropical fish need warm water to survive.",
    "Adam optimizer adapts learning rates for each parameter.",
]
ATTENTION_QUERY = "How does attention work in transformers?"
ATTENTION_CORPUS = [
    "Attention mechanisms allow models to focus on relevant parts of the input.",
    "Transformers use self-attention to process sequences in parallel.",
    "Convolutional neural networks use filters for feature extraction.",
    "The attention mechanism computes weighted sums of value vectors.",
    "Recurrent neural networks process sequences one step at a time.",
]


@cache
def spec() -> dict[str, Any]:
    """The parsed openapi.yaml."""
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    # Embed the spec's components so that "#/components/schemas/..." refs resolve.
    return Draft202012Validator({**schema, "components": spec()["components"]})


@cache
def _response_validator(path: str, method: str, status: str) -> Draft202012Validator:
    response = spec()["paths"][path][method]["responses"][status]
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[-1]
        response = spec()["components"]["responses"][name]
    return _validator(response["content"]["application/json"]["schema"])


@cache
def schema_validator(name: str) -> Draft202012Validator:
    """A validator for the spec's ``components/schemas/<name>``."""
    return _validator({"$ref": f"#/components/schemas/{name}"})


def assert_conforms(response: httpx.Response, path: str, method: str = "post") -> Any:
    """Check a response's body against the spec's schema for its status; return the body."""
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get(ENGINE_HEADER), "every answer names its engine"
    body = response.json()
    status = "200" if response.status_code == 200 else f"{str(response.status_code)[0]}XX"
    errors = sorted(
        _response_validator(path, method, status).iter_errors(body), key=lambda e: e.path
    )
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    return body


def assert_error(
    response: httpx.Response,
    status: int,
    *,
    param: str | None = None,
    code: str | None = None,
    error_type: str = "invalid_request_error",
) -> dict[str, Any]:
    """Check an error answer: its status, spec shape, and the param and code it names."""
    assert response.status_code == status, response.text
    body = response.json()
    schema_validator("ErrorResponse").validate(body)
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == error_type
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    assert error["message"]
    assert "Traceback" not in response.text
    assert response.headers.get(ENGINE_HEADER)
    result: dict[str, Any] = error
    return result


def rerank_body(**fields: Any) -> dict[str, Any]:
    """A valid rerank request body, with `fields` overriding or adding keys."""
    body: dict[str, Any] = {"model": RERANK_MODEL, "query": RAG_QUERY, "documents": RAG_DOCUMENTS}
    body.update(fields)
    return body


def dumps(value: Any) -> bytes:
    """Encode a request body the way clients do."""
    return json.dumps(value).encode()


def asgi_client(app: Starlette) -> httpx.AsyncClient:
    """An httpx client that calls the app in-process, through ASGI."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
