"""The ``cross-encoder:PATH`` engine: any local sentence-transformers CrossEncoder directory.

``--model NAME=cross-encoder:/models/my-reranker`` serves a CrossEncoder the
user already has on disk (saved with ``CrossEncoder.save`` or fetched by them
beforehand), loaded with ``local_files_only`` so nothing is downloaded. This is
how users of TEI or infinity serve their own rerankers.

A cross-encoder reads the query and the document together in one window of
the model's ``max_seq_length`` tokens. A document too long to fit beside the
query is cut into overlapping windows (`windows`); each window is scored with
the query and the document gets its best window's score. Scores are the
model's single logit through a sigmoid, so they lie in [0, 1] and rise with
the logit; each depends only on the query and that document (pointwise).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from together_rerank.server.engines import Engine, EngineError, ModelKind
from together_rerank.server.engines import _runtime as runtime

MIN_WINDOW = 16
"""Fewest document tokens a window holds, however long the query."""


class CrossEncoderEngine(Engine):
    """A local CrossEncoder with one output label, scoring (query, document) pairs."""

    kinds: frozenset[ModelKind] = frozenset({"rerank"})
    pointwise = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"cross-encoder:{path}"
        self._model: Any = None
        self._sigmoid: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model from its directory (offline) and score one warm-up pair."""
        import torch
        from sentence_transformers import CrossEncoder

        runtime.configure_torch(torch)
        runtime.quiet_loading()
        try:
            model = CrossEncoder(str(self.path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EngineError(
                f"{self.name}: not a loadable CrossEncoder directory ({exc})"
            ) from None
        labels = int(getattr(model.config, "num_labels", 1))
        if labels != 1:
            raise EngineError(f"{self.name}: has {labels} output labels; a reranker has one")
        self._model = model
        self._sigmoid = torch.nn.Sigmoid()
        self.score("warm up", ["warm up"])

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        """Sigmoid of the model's logit for (query, best window of each text), in [0, 1]."""
        with self._lock:
            tokenizer = self._model.tokenizer
            query_tokens = len(tokenizer(query, add_special_tokens=False)["input_ids"])
            # [CLS] query [SEP] window [SEP]
            room = max(MIN_WINDOW, int(self._model.max_seq_length) - query_tokens - 3)
            pieces, owners = runtime.windows(tokenizer, texts, room)
            if not pieces:
                return []
            logits = self._model.predict(
                [(query, piece) for piece in pieces],
                batch_size=runtime.BATCH_SIZE,
                activation_fn=self._sigmoid,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        best = np.zeros(len(texts))
        np.maximum.at(best, owners, np.asarray(logits, dtype=np.float64).reshape(-1))
        return [min(1.0, max(0.0, float(s))) for s in best]

    def count_tokens(self, text: str) -> int:
        """The model tokenizer's token count for `text`, special tokens included."""
        with self._lock:
            return runtime.count_tokens(self._model.tokenizer, text)


def create(argument: str) -> Engine:
    """Build the engine for the CrossEncoder directory `argument`."""
    path = Path(argument).expanduser()
    if not path.is_dir():
        raise EngineError(f"cross-encoder:{argument}: no such directory")
    return CrossEncoderEngine(path.resolve())
