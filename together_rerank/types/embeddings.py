"""Public types of the embeddings endpoint."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from .rerank import UsageData, _TopLevelResponse

__all__ = ["EmbeddingData", "EmbeddingsRequest", "EmbeddingsResponse"]


class EmbeddingsRequest(BaseModel):
    """An embeddings request."""

    model_config = ConfigDict(extra="allow")

    model: str
    input: str | list[str]


class EmbeddingData(BaseModel):
    """The embedding of one input."""

    model_config = ConfigDict(extra="allow")

    object: Literal["embedding"] | None = None
    embedding: list[float]
    index: int


class EmbeddingsResponse(_TopLevelResponse):
    """One embedding for each input, in input order."""

    object: Literal["list"] | None = None
    model: str | None = None
    data: list[EmbeddingData]
    usage: UsageData | None = None
