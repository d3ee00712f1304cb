"""Stand-ins for real third-party rerank servers: the local server, reshaped to answer as each does.

Each `Flavour` reproduces, over real loopback HTTP, the wire shapes measured
against the real server (facts.md, "Real third-party rerank servers on this
machine"); the rankings themselves come from the local server's pointwise
`term-overlap` engine, so they are right and the only differences are of form:

- **vLLM 0.32** (`--runner pooling`): `/rerank` and `/v1/rerank`; answers
  `{id, model, usage: {prompt_tokens, total_tokens}, results: [{index,
  document: {text, multi_modal}, relevance_score}]}`, no `object`, the
  document always present (it has no `return_documents`); object documents 400;
  no embeddings endpoint on a rerank deployment (404).
- **infinity-emb 0.0.78** (default layout): mounted at the root (`/rerank`,
  `/embeddings`, `/models`; `/v1/...` is FastAPI's 404 `{"detail": "Not
  Found"}`); `usage` without `completion_tokens`; with `return_documents` the
  document is a bare string; object documents 422 with FastAPI's `{"detail":
  [...]}`; `GET /models` an OpenAI list whose entries carry `capabilities`.
- **LiteLLM proxy 1.108**: `/v1/rerank`; answers in Cohere's shape `{id,
  results, meta: {billed_units: {total_tokens}, tokens: {}}}`: no `object`,
  `model` or `usage`; embeddings in OpenAI's (usage with null `*_details`);
  `GET /v1/models` an OpenAI list with `mode`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from together_rerank.server import LocalServer, ServerConfig, create_app

from .broken import _json_object, _read_body

JSON = dict[str, Any]

RERANK_MODEL = "acme/rerank-small"
EMBEDDING_MODEL = "acme/embed-small"
MODELS = {RERANK_MODEL: "term-overlap", EMBEDDING_MODEL: "hashed-ngrams"}


@dataclass(frozen=True)
class Flavour:
    """How one real server lays out its routes and shapes its answers."""

    name: str
    prefixes: tuple[str, ...]
    """Where its endpoints are mounted ("" is the root)."""
    embeddings: bool = True
    """Whether it serves /embeddings at all."""


VLLM = Flavour("vllm", ("", "/v1"), embeddings=False)
INFINITY = Flavour("infinity", ("",))
LITELLM = Flavour("litellm", ("/v1", ""))
FLAVOURS = {flavour.name: flavour for flavour in (VLLM, INFINITY, LITELLM)}


def _text(document: object) -> str:
    return document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))


def _tokens(request: JSON) -> int:
    return len(str(request.get("query", ""))) + sum(
        len(_text(d)) for d in request.get("documents", [])
    )


def reshape_rerank(flavour: str, request: JSON, answer: JSON) -> JSON:
    """The local server's 200 rerank answer as `flavour` sends it."""
    documents = request["documents"]
    results = answer["results"]
    tokens = _tokens(request)
    if flavour == "vllm":
        return {
            "id": "rerank-0a1b2c",
            "model": answer["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            "results": [
                {
                    "index": r["index"],
                    "document": {"text": _text(documents[r["index"]]), "multi_modal": None},
                    "relevance_score": r["relevance_score"],
                }
                for r in results
            ],
        }
    if flavour == "infinity":
        return {
            "object": "rerank",
            "results": [
                {
                    "relevance_score": r["relevance_score"],
                    "index": r["index"],
                    "document": _text(documents[r["index"]])
                    if request.get("return_documents")
                    else None,
                }
                for r in results
            ],
            "model": answer["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            "id": "infinity-5e6f",
            "created": 1796400000,
        }
    if flavour == "litellm":
        shaped: list[JSON] = []
        for r in results:
            result: JSON = {"index": r["index"], "relevance_score": r["relevance_score"]}
            if request.get("return_documents"):
                result["document"] = {"text": _text(documents[r["index"]])}
            shaped.append(result)
        return {
            "id": "9d3c-litellm",
            "results": shaped,
            "meta": {"billed_units": {"total_tokens": tokens}, "tokens": {}},
        }
    raise ValueError(flavour)


def reshape_embeddings(flavour: str, answer: JSON) -> JSON:
    """The local server's 200 embeddings answer as `flavour` sends it."""
    tokens = 3 * len(answer["data"])
    if flavour == "infinity":
        return {
            "object": "list",
            "data": answer["data"],
            "model": answer["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            "id": "infinity-7a8b",
            "created": 1796400000,
        }
    if flavour == "litellm":
        return {
            "model": answer["model"],
            "data": answer["data"],
            "object": "list",
            "usage": {
                "completion_tokens": 0,
                "prompt_tokens": tokens,
                "total_tokens": tokens,
                "completion_tokens_details": None,
                "prompt_tokens_details": None,
            },
        }
    raise ValueError(flavour)


def model_list(flavour: str) -> object:
    """`GET /models` as `flavour` answers it."""
    if flavour == "infinity":
        return {
            "object": "list",
            "data": [
                {
                    "id": RERANK_MODEL,
                    "object": "model",
                    "owned_by": "infinity",
                    "created": 1796400000,
                    "backend": "torch",
                    "capabilities": ["rerank"],
                },
                {
                    "id": EMBEDDING_MODEL,
                    "object": "model",
                    "owned_by": "infinity",
                    "created": 1796400000,
                    "backend": "torch",
                    "capabilities": ["embed"],
                },
            ],
        }
    if flavour == "litellm":
        return {
            "object": "list",
            "data": [
                {
                    "id": RERANK_MODEL,
                    "object": "model",
                    "created": 1,
                    "owned_by": "openai",
                    "mode": "rerank",
                },
                {
                    "id": EMBEDDING_MODEL,
                    "object": "model",
                    "created": 1,
                    "owned_by": "openai",
                    "mode": "embedding",
                },
            ],
        }
    # vLLM: the served model only, without saying what it does.
    return {
        "object": "list",
        "data": [{"id": RERANK_MODEL, "object": "model", "owned_by": "vllm", "root": "/m"}],
    }


def _reject_objects(flavour: str, request: JSON) -> tuple[int, JSON] | None:
    documents = request.get("documents")
    if not isinstance(documents, list) or all(isinstance(d, str) for d in documents):
        return None
    if flavour == "infinity":
        i = next(i for i, d in enumerate(documents) if not isinstance(d, str))
        return 422, {
            "detail": [
                {
                    "type": "string_type",
                    "loc": ["body", "documents", i],
                    "msg": "Input should be a valid string",
                    "input": documents[i],
                }
            ]
        }
    if flavour == "vllm":
        return 400, {
            "object": "error",
            "message": "documents must be strings",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        }
    return None


class ThirdPartyServer:
    """ASGI app: the local server (lexical models) laid out and shaped as `flavour`."""

    def __init__(self, flavour: Flavour) -> None:
        self.flavour = flavour
        self.inner = create_app(ServerConfig(models=MODELS))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        path: str = scope["path"].rstrip("/")
        prefix, _, endpoint = path.rpartition("/")
        if prefix not in self.flavour.prefixes or endpoint not in (
            "rerank",
            "embeddings",
            "models",
        ):
            await _reply(send, 404, {"detail": "Not Found"})
            return
        if endpoint == "models":
            await _reply(send, 200, model_list(self.flavour.name))
            return
        if endpoint == "embeddings" and not self.flavour.embeddings:
            await _reply(send, 404, {"detail": "Not Found"})
            return
        body = await _read_body(receive)
        request = _json_object(body) or {}
        if endpoint == "rerank":
            refused = _reject_objects(self.flavour.name, request)
            if refused is not None:
                await _reply(send, *refused)
                return
            if self.flavour.name == "vllm" and request.get("top_n") == 0:
                request.pop("top_n")  # vLLM: 0 means all
                body = json.dumps(request).encode()
        status, answer = await _call(self.inner, scope, f"/v1/{endpoint}", body)
        if status == 200:
            if endpoint == "rerank":
                answer = reshape_rerank(self.flavour.name, request, answer)
            else:
                answer = reshape_embeddings(self.flavour.name, answer)
        await _reply(send, status, answer)


async def _call(app: Any, scope: Scope, path: str, body: bytes) -> tuple[int, JSON]:
    messages: list[Message] = []

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def capture(message: Message) -> None:
        messages.append(message)

    await app({**scope, "path": path, "raw_path": path.encode()}, replay, capture)
    content = b"".join(m.get("body", b"") for m in messages[1:])
    return messages[0]["status"], json.loads(content)


async def _reply(send: Send, status: int, answer: object) -> None:
    content = json.dumps(answer).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def third_party_server(name: str) -> LocalServer:
    """A stand-in for the real server `name` (vllm, infinity, litellm); a context manager."""
    return LocalServer(app=ThirdPartyServer(FLAVOURS[name]))
