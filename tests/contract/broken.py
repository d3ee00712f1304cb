"""Broken servers: the real local server, wrapped so that it breaks one promise each.

`BrokenServer` is an ASGI wrapper around `create_app()` that may rewrite a
rerank request before the real server sees it and rewrite the real server's
200 answer before the client does. Only valid requests (those the real server
answers with 200) are touched, except by `Breakage.rejection` (which sees the
real server's refusals), so that each server breaks the property it is named
after and nothing else.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from together_rerank.server import create_app

JSON = dict[str, Any]
RequestRewrite = Callable[[JSON], JSON]
# (request, answer) -> (status, answer)
AnswerRewrite = Callable[[JSON, JSON], tuple[int, JSON]]
# (endpoint, request, error answer) -> (status, answer)
RejectionRewrite = Callable[[str, JSON, JSON], tuple[int, JSON]]


@dataclass(frozen=True)
class Breakage:
    """How a server is broken: what it does to rerank requests and to their answers."""

    name: str
    request: RequestRewrite | None = None
    answer: AnswerRewrite | None = None
    content_type: str | None = None
    """The Content-Type of 200 answers."""
    rejection: RejectionRewrite | None = None
    """What becomes of the real server's 4xx answers to POST /rerank and /embeddings."""


class BrokenServer:
    """ASGI app: the real server, with `breakage` applied to its POST endpoints."""

    def __init__(self, breakage: Breakage, inner: ASGIApp | None = None) -> None:
        self.breakage = breakage
        self.inner = inner if inner is not None else create_app()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = scope["path"].rstrip("/").rsplit("/", 1)[-1] if scope["type"] == "http" else ""
        if scope.get("method") != "POST" or endpoint not in ("rerank", "embeddings"):
            await self.inner(scope, receive, send)
            return
        is_rerank = endpoint == "rerank"
        body = await _read_body(receive)
        request = _json_object(body)
        if is_rerank and request is not None and self.breakage.request is not None:
            body = json.dumps(self.breakage.request(dict(request))).encode()
        messages: list[Message] = []

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.inner(scope, replay, capture)
        start = messages[0]
        status: int = start["status"]
        answer_body = b"".join(m.get("body", b"") for m in messages[1:])
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        answer = _json_object(answer_body)
        rejected = status in range(400, 500) and status not in (401, 403)
        if is_rerank and status == 200 and request is not None and answer is not None:
            if self.breakage.answer is not None:
                status, answer = self.breakage.answer(request, answer)
                answer_body = json.dumps(answer).encode()
        elif rejected and answer is not None and self.breakage.rejection is not None:
            # Whatever was sent, JSON or not.
            status, answer = self.breakage.rejection(endpoint, request or {}, answer)
            answer_body = json.dumps(answer).encode()
        if is_rerank and status == 200 and self.breakage.content_type is not None:
            headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
            headers.append((b"content-type", self.breakage.content_type.encode()))
        headers.append((b"content-length", str(len(answer_body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer_body})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _json_object(body: bytes) -> JSON | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# --- the breakages -------------------------------------------------------------


def _reverse_results(request: JSON, answer: JSON) -> tuple[int, JSON]:
    answer["results"].reverse()
    return 200, answer


def _drop_usage(request: JSON, answer: JSON) -> tuple[int, JSON]:
    del answer["usage"]
    return 200, answer


def _miscount_usage(request: JSON, answer: JSON) -> tuple[int, JSON]:
    answer["usage"]["total_tokens"] += 1
    return 200, answer


# Request rewrites leave invalid values alone, for the real server to reject:
# a server that ignores top_n may still refuse `"top_n": 0`.


def _ignore_top_n(request: JSON) -> JSON:
    top_n = request.get("top_n")
    if isinstance(top_n, int) and not isinstance(top_n, bool) and top_n >= 1:
        del request["top_n"]
    return request


def _accept_top_n_zero(request: JSON) -> JSON:
    # One unenforced limit: top_n 0 is served as if top_n were absent.
    if request.get("top_n") == 0 and not isinstance(request.get("top_n"), bool):
        del request["top_n"]
    return request


def _ignore_rank_fields(request: JSON) -> JSON:
    # Only the semantic level sends rank_fields, and only valid ones.
    request.pop("rank_fields", None)
    return request


def _always_return_documents(request: JSON) -> JSON:
    if isinstance(request.get("return_documents", False), bool):
        request["return_documents"] = True
    return request


def _drop_documents(request: JSON, answer: JSON) -> tuple[int, JSON]:
    for result in answer["results"]:
        result.pop("document", None)
    return 200, answer


def _fail_when_top_n_exceeds_documents(request: JSON, answer: JSON) -> tuple[int, JSON]:
    top_n, documents = request.get("top_n"), request["documents"]
    if isinstance(top_n, int) and top_n > len(documents):
        error = {"message": "list index out of range", "type": "server_error"}
        return 500, {"error": {**error, "param": None, "code": None}}
    return 200, answer


def _index_out_of_range(request: JSON, answer: JSON) -> tuple[int, JSON]:
    answer["results"][-1]["index"] = len(request["documents"])
    return 200, answer


def _duplicate_index(request: JSON, answer: JSON) -> tuple[int, JSON]:
    results = answer["results"]
    if len(results) >= 2:
        # The last result becomes a second copy of the first (its own score keeps the order).
        results[-1] = {**results[0], "relevance_score": results[-1]["relevance_score"]}
    return 200, answer


def _scale_by_position_of_best(request: JSON, answer: JSON) -> tuple[int, JSON]:
    # Scores shrink the further down the list the best document was given:
    # same order, same answer to the same request, but reordering changes them.
    results = answer["results"]
    if results:
        factor = 1.0 / (1 + results[0]["index"])
        for result in results:
            result["relevance_score"] *= factor
    return 200, answer


_noise = random.Random(0)


def _jitter(request: JSON, answer: JSON) -> tuple[int, JSON]:
    # A different factor every time, so two answers never agree, whichever
    # requests the checker sends (or reuses) between them.
    factor = 1.0 - 1e-3 * (1 + _noise.random())
    for result in answer["results"]:
        result["relevance_score"] *= factor
    return 200, answer


def _accept_invalid(endpoint: str, request: JSON, error: JSON) -> tuple[int, JSON]:
    model = str(request.get("model"))
    if endpoint == "rerank":
        return 200, {"object": "rerank", "model": model, "results": []}
    return 200, {"object": "list", "model": model, "data": []}


def _undeclared_status(request: JSON, answer: JSON) -> tuple[int, JSON]:
    return 203, answer


BREAKAGES = {
    breakage.name: breakage
    for breakage in [
        Breakage("unsorted_results", answer=_reverse_results),
        Breakage("missing_usage", answer=_drop_usage),
        Breakage("inconsistent_usage", answer=_miscount_usage),
        Breakage("top_n_ignored", request=_ignore_top_n),
        Breakage("documents_when_not_asked", request=_always_return_documents),
        Breakage("no_documents_when_asked", answer=_drop_documents),
        Breakage("500_when_top_n_exceeds_documents", answer=_fail_when_top_n_exceeds_documents),
        Breakage("index_out_of_range", answer=_index_out_of_range),
        Breakage("duplicate_index", answer=_duplicate_index),
        Breakage("scores_depend_on_order", answer=_scale_by_position_of_best),
        Breakage("rank_fields_ignored", request=_ignore_rank_fields),
        Breakage("nondeterministic_scores", answer=_jitter),
        Breakage("accepts_invalid_requests", rejection=_accept_invalid),
        Breakage("top_n_zero_accepted", request=_accept_top_n_zero),
        Breakage("undeclared_status_code", answer=_undeclared_status),
        Breakage("text_plain_content_type", content_type="text/plain"),
    ]
}
