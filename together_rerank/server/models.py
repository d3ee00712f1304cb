"""Which model names the server answers to, and which local engine serves each.

Engines live in `together_rerank.server.engines` (one module each); `ENGINES`
lists their names and the kinds of model they back:

* ``bm25`` (rerank) and ``hashed-ngrams`` (embedding): lexical, weight-free;
* ``term-overlap`` (rerank): lexical and pointwise (each document scored on its
  own), so batched reranking merges exactly;
* ``minilm`` (rerank and embedding): all-MiniLM-L6-v2, needs the ``semantic`` extra;
* ``cross-encoder:PATH`` (rerank): a local sentence-transformers CrossEncoder
  directory, needs the ``cross-encoder`` extra.

`default_models` maps the names Together documents for those endpoints onto the
semantic engine when its extra is installed, else onto the lexical ones, so
code written against the hosted API runs unchanged. The names are aliases
only: no hosted model's behaviour is reproduced.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from together_rerank.server.engines import (
    ENGINE_TYPES,
    EngineError,
    ModelKind,
    engine_type,
    installed,
)
from together_rerank.server.errors import APIError, echo

__all__ = [
    "DEFAULT_MODELS",
    "ENGINES",
    "ENGINES_ENV",
    "LEXICAL_MODELS",
    "SEMANTIC_MODELS",
    "Model",
    "ModelKind",
    "ModelRegistry",
    "ModelSpecError",
    "check_engine",
    "default_models",
    "parse_model_spec",
    "parse_model_specs",
]

ENGINES: Mapping[str, frozenset[ModelKind]] = MappingProxyType(
    {name: kind.kinds for name, kind in ENGINE_TYPES.items()}
)
"""Every engine name this server has (``cross-encoder:`` takes a path), and the kinds it backs."""

TOGETHER_MODELS: Mapping[str, ModelKind] = MappingProxyType(
    {
        "Salesforce/Llama-Rank-V1": "rerank",
        "mixedbread-ai/Mxbai-Rerank-Large-V2": "rerank",
        "togethercomputer/m2-bert-80M-8k-retrieval": "embedding",
        "togethercomputer/m2-bert-80M-32k-retrieval": "embedding",
        "togethercomputer/m2-bert-80M-2k-retrieval": "embedding",
        "BAAI/bge-base-en-v1.5": "embedding",
        "BAAI/bge-large-en-v1.5": "embedding",
        "WhereIsAI/UAE-Large-V1": "embedding",
        "intfloat/multilingual-e5-large-instruct": "embedding",
    }
)
"""Together's documented rerank and embedding model names, and what kind each is."""

_LEXICAL: Mapping[ModelKind, str] = {"rerank": "bm25", "embedding": "hashed-ngrams"}

LEXICAL_MODELS: Mapping[str, str] = MappingProxyType(
    {name: _LEXICAL[kind] for name, kind in TOGETHER_MODELS.items()}
)
"""Together's names on the lexical engines: the defaults without the ``semantic`` extra."""

SEMANTIC_MODELS: Mapping[str, str] = MappingProxyType(dict.fromkeys(TOGETHER_MODELS, "minilm"))
"""Together's names on ``minilm``: the defaults with the ``semantic`` extra installed."""

DEFAULT_MODELS = LEXICAL_MODELS
"""The lexical defaults, kept under their old name; `default_models()` is what servers use."""

ENGINES_ENV = "TOGETHER_RERANK_SERVER_ENGINES"
"""``semantic`` or ``lexical``: which defaults `default_models` picks (unset: auto)."""

_ENDPOINT = {"rerank": "POST /rerank", "embedding": "POST /embeddings"}
_ARTICLE = {"rerank": "a rerank", "embedding": "an embedding"}


class ModelSpecError(ValueError):
    """A ``NAME=ENGINE`` model spec, or a models mapping, that cannot be served."""


def default_models(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Together's model names on ``minilm`` if the semantic extra is installed, else lexical."""
    choice = (os.environ if environ is None else environ).get(ENGINES_ENV, "").strip().lower()
    if choice == "lexical":
        return dict(LEXICAL_MODELS)
    if choice not in ("", "semantic"):
        raise ModelSpecError(f"{ENGINES_ENV}={choice!r}: use 'semantic' or 'lexical'")
    if installed("minilm"):
        return dict(SEMANTIC_MODELS)
    if choice == "semantic":
        raise ModelSpecError(
            f"{ENGINES_ENV}=semantic, but the minilm engine is not installed: "
            "pip install 'together-rerank[semantic]'"
        )
    return dict(LEXICAL_MODELS)


@dataclass(frozen=True)
class Model:
    """One served model name and the engine behind it."""

    name: str
    engine: str
    kinds: frozenset[ModelKind]
    """The endpoints it answers (``minilm`` both reranks and embeds)."""

    @property
    def kind(self) -> ModelKind:
        """The kind ``GET /models`` lists: Together's own for its names, else rerank first."""
        known = TOGETHER_MODELS.get(self.name)
        if known in self.kinds:
            return known
        return "rerank" if "rerank" in self.kinds else "embedding"


def check_engine(name: str, engine: str) -> frozenset[ModelKind]:
    """Return the kinds `engine` backs, or raise `ModelSpecError` naming the choices."""
    try:
        kind, _ = engine_type(engine)
    except EngineError as exc:
        raise ModelSpecError(f"{exc} (model {name!r})") from None
    return kind.kinds


def parse_model_spec(spec: str) -> tuple[str, str]:
    """Parse one CLI-style ``NAME=ENGINE`` string into ``(name, engine)``."""
    # Split at the first "=" that a known engine name follows: model names may
    # contain "=", and so may a cross-encoder's path.
    cuts = [i for i, char in enumerate(spec) if char == "="]
    cut = next((i for i in cuts if _known_prefix(spec[i + 1 :])), cuts[-1] if cuts else -1)
    name, sep, engine = (spec[:cut], "=", spec[cut + 1 :]) if cut >= 0 else (spec, "", "")
    name, engine = name.strip(), engine.strip()
    if not sep or not name or not engine:
        raise ModelSpecError(f"model spec {spec!r} is not of the form NAME=ENGINE")
    check_engine(name, engine)
    return name, engine


def _known_prefix(engine: str) -> bool:
    engine = engine.strip()
    return engine in ENGINE_TYPES or any(
        engine.startswith(n) for n, t in ENGINE_TYPES.items() if t.takes_argument
    )


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

    @property
    def engines(self) -> list[str]:
        """Every engine some model uses, each once, in configuration order."""
        return list(dict.fromkeys(m.engine for m in self._models.values()))

    def resolve(self, name: str, kind: ModelKind) -> Model:
        """Return the model `name` for an endpoint serving `kind`, or raise a 404/400 `APIError`."""
        model = self._models.get(name) or self._folded.get(name.casefold())
        if model is None:
            choices = [m.name for m in self._models.values() if kind in m.kinds]
            hint = f"; available {kind} models: {', '.join(choices)}" if choices else ""
            raise APIError(
                404,
                f"model {echo(name)} does not exist on this server{hint}",
                param="model",
                code="model_not_found",
            )
        if kind not in model.kinds:
            raise APIError(
                400,
                f"model {echo(model.name)} is {_ARTICLE[model.kind]} model "
                f"(engine {model.engine}); {_ENDPOINT[kind]} needs {_ARTICLE[kind]} model",
                param="model",
                code="wrong_model_type",
                engine=model.engine,
            )
        return model
