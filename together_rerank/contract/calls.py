"""A rerank request of the semantic level, and sending it through the SDK."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import httpx

from .._client import Together
from .._exceptions import APIConnectionError, APIStatusError
from .answers import Answer

__all__ = ["Exchange", "RerankCall"]

Documents = list[str] | list[dict[str, Any]]


@dataclass(frozen=True)
class Exchange:
    """A request as it went out on the wire, and the answer it got."""

    request: Any
    """The JSON body sent (decoded from the bytes actually sent)."""
    answer: Answer

    def describe(self) -> dict[str, Any]:
        """The exchange as evidence for a report."""
        return {"request": self.request, "response": self.answer.describe()}


@dataclass(frozen=True)
class RerankCall:
    """The arguments of one `client.rerank.create` call.

    `return_documents` None leaves the field out of the request (the SDK's
    default); False sends an explicit ``"return_documents": false``.
    """

    query: str
    documents: Documents
    top_n: int | None = None
    return_documents: bool | None = None
    rank_fields: list[str] | None = None

    def with_documents(self, documents: Documents) -> RerankCall:
        """The same call with other documents."""
        return replace(self, documents=documents)

    def send(self, client: Together, model: str) -> Exchange:
        """Send through the SDK, raw: a wrong answer comes back to be judged, not raised."""
        extra_body = {"return_documents": False} if self.return_documents is False else None
        try:
            raw = client.rerank.with_raw_response.create(
                model=model,
                query=self.query,
                documents=self.documents,
                top_n=self.top_n,
                return_documents=bool(self.return_documents),
                rank_fields=self.rank_fields,
                extra_body=extra_body,
            )
        except APIStatusError as exc:
            return Exchange(_sent(exc.response.request), Answer.from_response(exc.response))
        except APIConnectionError as exc:
            return Exchange(_sent(exc.request), Answer.no_answer(str(exc)))
        return Exchange(_sent(raw.http_response.request), Answer.from_response(raw.http_response))


def _sent(request: httpx.Request) -> Any:
    try:
        return json.loads(request.content)
    except ValueError:
        return request.content.decode("utf-8", errors="replace")
