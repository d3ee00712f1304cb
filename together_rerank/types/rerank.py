"""Public types of the rerank endpoint (the fields and defaults of the v1 SDK)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictFloat, StrictInt

from .._tolerance import Deviation

__all__ = ["RerankChoicesData", "RerankRequest", "RerankResponse", "UsageData"]


class _ResponseModel(BaseModel):
    # A newer server may send fields this SDK does not know yet: keep them.
    model_config = ConfigDict(extra="allow")


class _TopLevelResponse(_ResponseModel):
    # What the SDK tolerated in the body (see `_tolerance`); private, so never dumped.
    _deviations: tuple[Deviation, ...] = PrivateAttr(default=())

    @property
    def deviations(self) -> tuple[Deviation, ...]:
        """How the server's body differed from the spec in form, and what the SDK made of it."""
        return self._deviations


class RerankRequest(BaseModel):
    """A rerank request; `client.rerank.create(**req.model_dump(exclude_unset=True))` sends it."""

    model_config = ConfigDict(extra="allow")

    model: str
    query: str
    documents: list[str] | list[dict[str, Any]]
    top_n: int | None = None
    return_documents: bool = False
    rank_fields: list[str] | None = None


class UsageData(_ResponseModel):
    """Token counts of one request."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class RerankChoicesData(_ResponseModel):
    """One ranked document: its index in the request and its score."""

    # Strict: a server sending `"1"`, `1.0` or `true` for an index (or `"0.5"`
    # for a score) is broken, and coercing would hide it.
    index: StrictInt
    relevance_score: StrictFloat
    document: dict[str, Any] | None = None


class RerankResponse(_TopLevelResponse):
    """The ranked results of a rerank request, most relevant first."""

    id: str | None = None
    object: Literal["rerank"] | None = None
    model: str | None = None
    # Not Optional (unlike the v1 SDK): the API always sends results and a
    # response without them raises, so callers need no None check.
    results: list[RerankChoicesData] = Field(default_factory=list)
    usage: UsageData | None = None
