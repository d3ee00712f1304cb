"""GET /v1/models satisfies the model objects of Together's own v1 SDK (``together==1.5.35``).

That SDK cannot be installed next to the bench extra's ``together==3.1.1``, so
`ModelObject` and `PricingObject` below restate, field for field, the pydantic
models of ``together/types/models.py`` in the ``together-1.5.35`` wheel (read
from its source; its base model allows extra fields). ``models.list()`` builds
one `ModelObject(**item)` per listed item; without ``pricing`` that raised a
``ValidationError`` against this server. docs/reliability.md records a run of
the real SDK's ``models.list()`` against ``together-rerank serve``.
"""

from __future__ import annotations

import enum
from typing import Literal

import httpx
import pydantic
import pytest

from together_rerank.server import DEFAULT_MODELS, ENGINES

from .support import assert_conforms


class ModelType(enum.StrEnum):
    CHAT = "chat"
    LANGUAGE = "language"
    CODE = "code"
    IMAGE = "image"
    EMBEDDING = "embedding"
    MODERATION = "moderation"
    RERANK = "rerank"
    AUDIO = "audio"
    TRANSCRIBE = "transcribe"
    VIDEO = "video"


class _Base(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")


class PricingObject(_Base):
    input: float | None = None
    output: float | None = None
    hourly: float | None = None
    base: float | None = None
    finetune: float | None = None


class ModelObject(_Base):
    id: str
    object: Literal["model"]
    created: int | None = None
    type: ModelType | None = None
    display_name: str | None = None
    organization: str | None = None
    link: str | None = None
    license: str | None = None
    context_length: int | None = None
    pricing: PricingObject


@pytest.mark.parametrize("path", ["/v1/models", "/models"])
async def test_every_listed_model_is_a_together_v1_model_object(
    client: httpx.AsyncClient, path: str
) -> None:
    listed = assert_conforms(await client.get(path), "/models", "get")
    models = [ModelObject(**item) for item in listed]  # what models.list() does
    assert [m.id for m in models] == list(DEFAULT_MODELS)
    for model in models:
        engine = DEFAULT_MODELS[model.id]
        assert model.type == ModelType(next(iter(ENGINES[engine])))
        assert model.pricing == PricingObject(input=0, output=0, hourly=0, base=0, finetune=0)
        assert model.model_extra == {"engine": engine}  # the engine stays visible
        assert engine in (model.display_name or "")
        assert isinstance(model.created, int)


def test_the_restated_model_object_rejects_what_the_old_listing_served() -> None:
    # The listing before this fix: the v1 SDK's ModelObject refused it.
    with pytest.raises(pydantic.ValidationError, match="pricing"):
        ModelObject.model_validate(
            {
                "id": "Salesforce/Llama-Rank-V1",
                "object": "model",
                "type": "rerank",
                "engine": "bm25",
            }
        )
