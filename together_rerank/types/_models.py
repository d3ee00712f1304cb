"""The public request and response models.

Generated from openapi.yaml by generator/facade.py (`make generate`): do not edit.
Each model mirrors a schema of openapi.yaml; the base classes are hand-written
(together_rerank/types/_base.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictFloat, StrictInt

from ._base import RequestModel, ResponseModel

__all__ = [
    "EmbeddingData",
    "EmbeddingsRequest",
    "EmbeddingsResponse",
    "RerankChoicesData",
    "RerankRequest",
    "RerankResponse",
    "UsageData",
]


class RerankRequest(RequestModel):
    """A rerank request."""

    model: str
    """The name of the reranking model."""
    query: str
    """The search query the documents are ranked against."""
    documents: list[str] | list[dict[str, Any]]
    """The candidate documents, in the order whose indices the results refer to: either all
    strings or all objects, never a mix.
    """
    top_n: int | None = None
    """Return only the `top_n` most relevant results."""
    return_documents: bool = False
    """Whether each result carries its document."""
    rank_fields: list[str] | None = None
    """For object documents only: the fields whose values are ranked."""


class RerankChoicesData(ResponseModel):
    """One ranked document."""

    index: StrictInt
    """The document's position in the request's `documents`."""
    relevance_score: StrictFloat
    """How relevant the document is to the query; higher is more relevant."""
    document: dict[str, Any] | None = None
    """The document, present when `return_documents` was true."""


class UsageData(ResponseModel):
    """Token counts of one request."""

    prompt_tokens: int
    """Tokens in the query and documents."""
    completion_tokens: int
    """Tokens generated; zero for reranking."""
    total_tokens: int
    """The sum of `prompt_tokens` and `completion_tokens`."""


class RerankResponse(ResponseModel):
    """The ranked results of a rerank request."""

    id: str | None = None
    """An identifier of this response."""
    object: Literal["rerank"] | None = None
    """The kind of object; always `rerank`."""
    model: str | None = None
    """The model that ranked the documents."""
    results: list[RerankChoicesData] = Field(default_factory=list)
    """The results, sorted by `relevance_score`, highest first."""
    usage: UsageData | None = None
    """Token counts of the request, when the server reports them."""


class EmbeddingsRequest(RequestModel):
    """An embeddings request."""

    model: str
    """The name of the embedding model."""
    input: str | list[str]
    """One text, or a list of texts, to embed."""


class EmbeddingData(ResponseModel):
    """The embedding of one input."""

    object: Literal["embedding"] | None = None
    """The kind of object; always `embedding`."""
    embedding: list[float]
    """The vector."""
    index: int
    """The position of the input this embedding belongs to."""


class EmbeddingsResponse(ResponseModel):
    """The embeddings of a request's inputs."""

    object: Literal["list"] | None = None
    """The kind of object; always `list`."""
    model: str | None = None
    """The model that embedded the inputs."""
    data: list[EmbeddingData]
    """One embedding for each input, in input order."""
    usage: UsageData | None = None
    """Token counts of the request, when the server reports them."""
