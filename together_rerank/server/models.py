"""Which model names the server answers to, and which local engine serves each.

The engines are lexical and weight-free (see `engines.bm25`, `engines.term_overlap` and
`engines.hashed_ngrams`):

* ``bm25`` ranks documents for ``POST /rerank``, with statistics from the request's documents;
* ``term-overlap`` ranks documents for ``POST /rerank``, each on its own (pointwise);
* ``hashed-ngrams`` embeds text for ``POST /embeddings``.

`DEFAULT_MODELS` maps the names Together documents for those endpoints onto
them, so code written against the hosted API runs unchanged. The names are
aliases only: no hosted model's behaviour is reproduced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from together_rerank.server.errors import APIError, echo

ModelKind = Literal["rerank", "embedding"]

ENGINES: Mapping[str, ModelKind] = MappingProxyType(
    {"bm25": "rerank", "term-overlap": "rerank", "hashed-ngrams": "embedding"}
)
"""Every engine this server has, and what kind of model each one backs."""

DEFAULT_MODELS: Mapping[str, str] = MappingProxyType(
    {
        "Salesforce/Llama-Rank-V1": "bm25",
        "mixedbread-ai/Mxbai-Rerank-Large-V2": "bm25",
        "togethercomputer/m2-bert-80M-8k-retrieval": "hashed-ngrams",
        "togethercomputer/m2-bert-80M-32k-retrieval": "hashed-ngrams",
        "togethercomputer/m2-bert-80M-2k-retrieval": "hashed-ngrams",
        "BAAI/bge-base-en-v1.5": "hashed-ngrams",
        "BAAI/bge-large-en-v1.5": "hashed-ngrams",
        "WhereIsAI/UAE-Large-V1": "hashed-ngrams",
        "intfloat/multilingual-e5-large-instruct": "hashed-ngrams",
    }
)
"""The model names served when a `ServerConfig` names none: Together's names, local engines."""

_ENDPOINT = {"rerank": "POST /rerank", "embedding": "POST /embeddings"}
_ARTICLE = {"rerank": "a rerank", "embedding": "an embedding"}


class ModelSpecError(ValueError):
    """A ``NAME=ENGINE`` model spec, or a models mapping, that cannot be served."""


@dataclass(frozen=True)
class Model:
    """One served model name and the engine behind it."""

    name: str
    engine: str
    kind: ModelKind


def check_engine(name: str, engine: str) -> ModelKind:
    """Return the kind of model `engine` backs, or raise `ModelSpecError` naming the choices."""
    kind = ENGINES.get(engine)
    if kind is None:
        choices = ", ".join(sorted(ENGINES))
        raise ModelSpecError(
            f"unknown engine {engine!r} for model {name!r}; choose one of: {choices}"
        )
    return kind


def parse_model_spec(spec: str) -> tuple[str, str]:
    """Parse one CLI-style ``NAME=ENGINE`` string into ``(name, engine)``."""
    # Split at the last "=": engine names never contain one, model names might.
    name, sep, engine = spec.rpartition("=")
    name, engine = name.strip(), engine.strip()
    if not sep or not name or not engine:
        raise ModelSpecError(f"model spec {spec!r} is not of the form NAME=ENGINE")
    check_engine(name, engine)
    return name, engine


def parse_model_specs(specs: Iterable[str]) -> dict[str, str]:
    """Parse ``NAME=ENGINE`` strings into a models mapping for `ServerConfig`; later ones win."""
    return dict(parse_model_spec(spec) for spec in specs)


class ModelRegistry:
    """Looks model names up for an endpoint, answering with spec-shaped errors."""

    def __init__(self, models: Mapping[str, str]) -> None:
        self._models = {
            name: Model(name, engine, check_engine(name, engine)) for name, engine in models.items()
        }
        # Hosted model names have appeared in more than one capitalisation, so
        # an exact miss falls back to a case-insensitive match.
        self._folded = {name.casefold(): model for name, model in reversed(self._models.items())}

    @property
    def models(self) -> list[Model]:
        """Every served model, in configuration order."""
        return list(self._models.values())

    def resolve(self, name: str, kind: ModelKind) -> Model:
        """Return the model `name` for an endpoint serving `kind`, or raise a 404/400 `APIError`."""
        model = self._models.get(name) or self._folded.get(name.casefold())
        if model is None:
            choices = [m.name for m in self._models.values() if m.kind == kind]
            hint = f"; available {kind} models: {', '.join(choices)}" if choices else ""
            raise APIError(
                404,
                f"model {echo(name)} does not exist on this server{hint}",
                param="model",
                code="model_not_found",
            )
        if model.kind != kind:
            raise APIError(
                400,
                f"model {echo(model.name)} is {_ARTICLE[model.kind]} model "
                f"(engine {model.engine}); {_ENDPOINT[kind]} needs {_ARTICLE[kind]} model",
                param="model",
                code="wrong_model_type",
                engine=model.engine,
            )
        return model
