"""The work behind each API route, as plain synchronous functions of the request body.

They parse, validate, resolve the model, check the limits and, for a lexical
engine, compute and encode the answer, all of it CPU-bound, so the app runs
each one in a worker thread and the event loop stays free for other requests.
A model engine's work comes back as a `Pending` plan instead: the app hands it
to the batching scheduler (`together_rerank.server.scheduler`), which runs it
in forward passes shared with other requests, then calls `Pending.reply`.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from together_rerank.server.calibration import calibrated
from together_rerank.server.config import ServerConfig
from together_rerank.server.documents import ranked_text, returned_text
from together_rerank.server.engines import get_engine
from together_rerank.server.errors import APIError, json_bytes
from together_rerank.server.models import ModelRegistry
from together_rerank.server.scheduler import Plan
from together_rerank.server.validation import (
    check_request_tokens,
    check_rerank_work,
    parse_body,
    require_model,
    validate_embeddings,
    validate_rerank,
)


@dataclass(frozen=True)
class Reply:
    """An encoded JSON answer and the engine that produced it."""

    body: bytes
    engine: str


@dataclass(frozen=True)
class Pending:
    """A model engine's work, to be run by the batching scheduler, and how it becomes a `Reply`."""

    plan: Plan[Any]
    engine: str
    reply: Callable[[Any], Reply]
    """Turns the plan's answer (scores or vectors) into the reply."""


def _usage(prompt_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": 0, "total_tokens": prompt_tokens}


def _response_id(body: bytes) -> str:
    # Deterministic: byte-identical requests get identical responses, id included.
    return "rerank-" + hashlib.blake2b(body, digest_size=12).hexdigest()


def _ranking(scores: list[float], top_n: int | None) -> list[int]:
    """Indices by score descending, ties by index ascending, cut to `top_n`."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return order if top_n is None else order[:top_n]


def _check_work(config: ServerConfig, query: str, documents: int) -> None:
    # Before any engine runs: the limits hold whichever engine serves the model.
    check_rerank_work(
        query,
        documents,
        max_query_chars=config.max_query_chars,
        max_query_words=config.max_query_words,
        max_work=config.max_work,
    )


@contextlib.contextmanager
def _errors_of(engine: str) -> Iterator[None]:
    """Label errors with `engine`; a document too deeply nested to serialise is a 400."""
    try:
        yield
    except APIError as exc:
        exc.engine = engine
        raise
    except RecursionError:
        # Serialising a deeply nested object document can exceed the recursion
        # limit even though parsing it did not.
        raise APIError(
            400,
            "documents: an object document is nested too deeply",
            param="documents",
            code="invalid_value",
            engine=engine,
        ) from None


def _labelled(engine: str, answer: Callable[[Any], Reply]) -> Callable[[Any], Reply]:
    def labelled(result: Any) -> Reply:
        with _errors_of(engine):
            return answer(result)

    return labelled


def rerank(config: ServerConfig, registry: ModelRegistry, body: bytes) -> Reply | Pending:
    """Answer a ``POST /rerank`` body with a ``RerankResponse``, or plan a model engine's work."""
    obj = parse_body(body)
    model = registry.resolve(require_model(obj), "rerank")

    def prepare() -> Reply | Pending:
        params = validate_rerank(obj, max_documents=config.max_documents)
        _check_work(config, params.query, len(params.documents))
        texts = [ranked_text(doc, params.rank_fields) for doc in params.documents]
        engine = get_engine(model.engine)

        def answer(raw: list[float], tokens: int) -> Reply:
            scores = calibrated(model.engine, raw)
            results: list[dict[str, Any]] = []
            for index in _ranking(scores, params.top_n):
                result: dict[str, Any] = {"index": index, "relevance_score": scores[index]}
                if params.return_documents:
                    result["document"] = {"text": returned_text(params.documents[index])}
                results.append(result)
            payload = {
                "id": _response_id(body),
                "object": "rerank",
                "model": model.name,
                "results": results,
                "usage": _usage(tokens),
            }
            return Reply(json_bytes(payload), model.engine)

        if engine.batched:
            plan = engine.plan_score(params.query, texts)
            check_request_tokens(plan.work_tokens, config.max_request_tokens, "documents")
            tokens = plan.usage_tokens
            return Pending(plan, model.engine, _labelled(model.engine, lambda s: answer(s, tokens)))
        tokens = engine.count_tokens(params.query) + sum(engine.count_tokens(t) for t in texts)
        check_request_tokens(tokens, config.max_request_tokens, "documents")
        return answer(engine.score(params.query, texts), tokens)

    with _errors_of(model.engine):
        return prepare()


def embeddings(config: ServerConfig, registry: ModelRegistry, body: bytes) -> Reply | Pending:
    """Answer a ``POST /embeddings`` body with an ``EmbeddingsResponse``, or plan a model's work."""
    obj = parse_body(body)
    model = registry.resolve(require_model(obj), "embedding")
    try:
        params = validate_embeddings(obj, max_inputs=config.max_inputs)
    except APIError as exc:
        exc.engine = model.engine
        raise
    engine = get_engine(model.engine)

    def answer(vectors: list[list[float]], tokens: int) -> Reply:
        data = [
            {"object": "embedding", "embedding": vector, "index": i}
            for i, vector in enumerate(vectors)
        ]
        payload = {"object": "list", "model": model.name, "data": data, "usage": _usage(tokens)}
        return Reply(json_bytes(payload), model.engine)

    with _errors_of(model.engine):
        if engine.batched:
            plan = engine.plan_embed(params.inputs)
            check_request_tokens(plan.work_tokens, config.max_request_tokens, "input")
            tokens = plan.usage_tokens
            return Pending(plan, model.engine, _labelled(model.engine, lambda v: answer(v, tokens)))
        tokens = sum(engine.count_tokens(text) for text in params.inputs)
        check_request_tokens(tokens, config.max_request_tokens, "input")
    return answer(engine.embed(params.inputs), tokens)


# Together's model objects carry these prices; a local engine costs nothing.
_FREE = {"input": 0.0, "output": 0.0, "hourly": 0.0, "base": 0.0, "finetune": 0.0}
_STARTED = int(time.time())


def list_models(registry: ModelRegistry) -> list[dict[str, Any]]:
    """Describe every served model, as ``GET /models`` lists them.

    Each entry has the fields of Together's own model objects (its v1 SDK's
    ``ModelObject`` requires ``pricing``), plus ``engine``, so that a local
    alias is never mistaken for the hosted model it is named after.
    """
    return [
        {
            "id": m.name,
            "object": "model",
            "created": _STARTED,
            "type": m.kind,
            "display_name": f"{m.name} (local {m.engine})",
            "organization": "together-rerank (local server)",
            "link": None,
            "license": None,
            "context_length": None,
            "pricing": dict(_FREE),
            "engine": m.engine,
        }
        for m in registry.models
    ]
