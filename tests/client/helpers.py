"""A scripted in-process Together API for the facade tests, and small shared helpers.

`MockAPI` is the handler of an `httpx.MockTransport`: it records every request
that reaches the transport and answers each one from a queue of scripted
replies, then with a valid default answer. `Caller` runs one call through the
sync or the async client, so that a test can assert both behave the same.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped,unused-ignore]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from together_rerank import AsyncTogether, EmbeddingsResponse, RerankResponse, Together

API_KEY = "sk-SECRET-123"
MODEL = "Salesforce/Llama-Rank-V1"
BASE = "https://api.together.xyz/v1"
RERANK_URL = f"{BASE}/rerank"

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]
SPEC_URI = "urn:together-rerank:openapi.yaml"
REGISTRY: Registry[Any] = Registry().with_resource(
    SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012)
)


def spec_validator(schema_name: str) -> Any:
    """A JSON Schema Draft 2020-12 validator of one of the spec's component schemas."""
    schema = {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"}
    return Draft202012Validator(schema, registry=REGISTRY)


Reply = httpx.Response | BaseException | Callable[[httpx.Request], httpx.Response]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _doc_text(doc: object) -> str:
    return doc if isinstance(doc, str) else json.dumps(doc, separators=(",", ":"))


def rank_body(request: httpx.Request) -> dict[str, Any]:
    """A valid rerank answer: documents scored by word overlap with the query, best first."""
    body = json.loads(request.content)
    documents: list[Any] = body["documents"]
    query = _words(body["query"])
    scored = []
    for i, doc in enumerate(documents):
        words = _words(_doc_text(doc))
        overlap = len(query & words) / (len(query) or 1)
        # A small tie-breaker keeps the order deterministic and the scores distinct.
        scored.append((round(overlap + 1e-4 * (len(documents) - i), 6), i))
    scored.sort(reverse=True)
    top_n = body.get("top_n")
    results = []
    for score, i in scored[: top_n if top_n is not None else len(scored)]:
        result: dict[str, Any] = {"index": i, "relevance_score": score}
        if body.get("return_documents"):
            result["document"] = {"text": _doc_text(documents[i])}
        results.append(result)
    return {
        "id": "rr-test-1",
        "object": "rerank",
        "model": body["model"],
        "results": results,
        "usage": {"prompt_tokens": 10, "completion_tokens": 0, "total_tokens": 10},
    }


def embed(text: str, dims: int = 32) -> list[float]:
    """A deterministic bag-of-words vector (crc32 buckets, normalized)."""
    vector = [0.0] * dims
    for word in _words(text):
        vector[zlib.crc32(word.encode()) % dims] += 1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def embeddings_body(request: httpx.Request) -> dict[str, Any]:
    """A valid embeddings answer: one vector per input, in order."""
    body = json.loads(request.content)
    texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
    return {
        "object": "list",
        "model": body["model"],
        "data": [
            {"object": "embedding", "embedding": embed(text), "index": i}
            for i, text in enumerate(texts)
        ],
    }


def ok_body(*indices: int, **fields: Any) -> dict[str, Any]:
    """A rerank answer ranking `indices` in that order, with decreasing scores."""
    results = [{"index": i, "relevance_score": 1.0 - 0.1 * rank} for rank, i in enumerate(indices)]
    return {"object": "rerank", "model": MODEL, "results": results, **fields}


def default_reply(request: httpx.Request) -> httpx.Response:
    """What the mock API answers when no reply is scripted."""
    headers = {"x-request-id": "req-ok"}
    if request.url.path.endswith("/embeddings"):
        return httpx.Response(200, json=embeddings_body(request), headers=headers)
    return httpx.Response(200, json=rank_body(request), headers=headers)


def error(
    status: int,
    message: str = "something went wrong",
    *,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """An error answer with the spec's `ErrorResponse` body."""
    body = {"error": {"message": message, "type": "test_error", "param": None, "code": None}}
    return httpx.Response(status, json=body, headers=headers)


class MockAPI:
    """The transport handler: records requests, answers from a script, then validly."""

    def __init__(self, *replies: Reply) -> None:
        self.replies: deque[Reply] = deque(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.replies:
            return default_reply(request)
        reply = self.replies.popleft()
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    @property
    def calls(self) -> int:
        """How many requests reached the transport."""
        return len(self.requests)

    @property
    def last(self) -> httpx.Request:
        """The last request that reached the transport."""
        assert self.requests, "no request reached the transport"
        return self.requests[-1]

    def last_json(self) -> Any:
        """The JSON body of the last request."""
        return json.loads(self.last.content)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def client(self, **kwargs: Any) -> Together:
        """A sync client whose traffic goes to this mock (API key set unless given)."""
        kwargs.setdefault("api_key", API_KEY)
        return Together(http_client=httpx.Client(transport=self.transport()), **kwargs)

    def async_client(self, **kwargs: Any) -> AsyncTogether:
        """An async client whose traffic goes to this mock (API key set unless given)."""
        kwargs.setdefault("api_key", API_KEY)
        return AsyncTogether(http_client=httpx.AsyncClient(transport=self.transport()), **kwargs)


class Caller:
    """Runs calls through the sync or the async client, with the same arguments."""

    def __init__(self, is_async: bool) -> None:
        self.is_async = is_async

    def __repr__(self) -> str:
        return "async" if self.is_async else "sync"

    def _run(
        self,
        api: MockAPI,
        client_kwargs: Mapping[str, Any] | None,
        sync_call: Callable[[Together], Any],
        async_call: Callable[[AsyncTogether], Awaitable[Any]],
    ) -> Any:
        kwargs = dict(client_kwargs or {})
        if not self.is_async:
            with api.client(**kwargs) as client:
                return sync_call(client)

        async def go() -> Any:
            async with api.async_client(**kwargs) as client:
                return await async_call(client)

        return asyncio.run(go())

    def rerank(
        self, api: MockAPI, *, client: Mapping[str, Any] | None = None, **create: Any
    ) -> RerankResponse:
        """`client.rerank.create(**create)` on a fresh client."""
        result = self._run(
            api,
            client,
            lambda c: c.rerank.create(**create),
            lambda c: c.rerank.create(**create),
        )
        assert isinstance(result, RerankResponse)
        return result

    def rerank_raw(
        self, api: MockAPI, *, client: Mapping[str, Any] | None = None, **create: Any
    ) -> Any:
        """`client.rerank.with_raw_response.create(**create)` on a fresh client."""
        return self._run(
            api,
            client,
            lambda c: c.rerank.with_raw_response.create(**create),
            lambda c: c.rerank.with_raw_response.create(**create),
        )

    def embeddings(
        self, api: MockAPI, *, client: Mapping[str, Any] | None = None, **create: Any
    ) -> EmbeddingsResponse:
        """`client.embeddings.create(**create)` on a fresh client."""
        result = self._run(
            api,
            client,
            lambda c: c.embeddings.create(**create),
            lambda c: c.embeddings.create(**create),
        )
        assert isinstance(result, EmbeddingsResponse)
        return result


def json_equal(a: object, b: object) -> bool:
    """Equal as JSON values: numbers by value (1 == 1.0), but a bool is not a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b) if isinstance(a, float) or isinstance(b, float) else a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


class SleepRecorder(list[float]):
    """The waits the SDK asked for, in order; nothing really sleeps in these tests."""


DOCS = [
    "The weather forecast predicts rain tomorrow.",
    "RAG combines retrieval with generation for more accurate LLM responses.",
    "Python is a popular programming language.",
]
