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
from together_rerank.server.scheduler import Lane, Plan

MIN_WINDOW = 16
"""Fewest document tokens a window holds, however long the query."""


class CrossEncoderEngine(Engine):
    """A local CrossEncoder with one output label, scoring (query, document) pairs.

    Work is planned as items (one per query-window pair, identical texts once)
    for the server's scheduler (`lane`); `score` runs a plan directly.
    """

    kinds: frozenset[ModelKind] = frozenset({"rerank"})
    pointwise = True
    batched = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"cross-encoder:{path}"
        self._model: Any = None
        self._torch: Any = None
        self._max_length = 0
        self._pad_id = 0
        # The Rust tokenizer refuses concurrent calls; requests tokenize in many threads.
        self._tokenizer_lock = threading.Lock()
        self.lane = Lane(self.name, self._forward)

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
        model.eval()
        self._model = model
        self._torch = torch
        self._max_length = int(model.max_seq_length)
        self._pad_id = int(model.tokenizer.pad_token_id or 0)
        self.score("warm up", ["warm up"])

    def _forward(self, items: Sequence[runtime.Item]) -> list[float]:
        """Sigmoid of the logit of each (query, window) pair in one padded batch."""
        torch = self._torch
        with torch.inference_mode():
            output = self._model(runtime.features(torch, items, self._pad_id))
            scores = torch.sigmoid(output["scores"].reshape(-1).to(torch.float64))
        result: list[float] = scores.tolist()
        return result

    def plan_score(self, query: str, texts: Sequence[str]) -> Plan[list[float]]:
        """Items that score `texts`: one per (query, window) pair; a text gets its best window."""
        distinct, where = runtime.unique(texts)
        with self._tokenizer_lock:
            tokenizer = self._model.tokenizer
            query_tokens = len(tokenizer(query, add_special_tokens=False)["input_ids"])
            # [CLS] query [SEP] window [SEP]
            room = max(MIN_WINDOW, self._max_length - query_tokens - 3)
            pieces, owners = runtime.windows(tokenizer, distinct, room)
            items = runtime.encode(tokenizer, self._max_length, [query] * len(pieces), pieces)
            usage = runtime.count_tokens(tokenizer, query) + sum(
                runtime.count_tokens(tokenizer, distinct[i]) for i in where
            )

        def best(results: list[Any]) -> list[float]:
            top = np.zeros(len(distinct))
            if results:
                np.maximum.at(top, owners, np.asarray(results, dtype=np.float64))
            return [min(1.0, max(0.0, float(top[i]))) for i in where]

        return Plan(
            lane=self.lane,
            items=items,
            costs=[len(ids) for ids, _ in items],
            finish=best,
            usage_tokens=usage,
        )

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        """Sigmoid of the model's logit for (query, best window of each text), in [0, 1]."""
        return self.plan_score(query, texts).run_now()

    def count_tokens(self, text: str) -> int:
        """The model tokenizer's token count for `text`, special tokens included."""
        with self._tokenizer_lock:
            return runtime.count_tokens(self._model.tokenizer, text)


def create(argument: str) -> Engine:
    """Build the engine for the CrossEncoder directory `argument`."""
    path = Path(argument).expanduser()
    if not path.is_dir():
        raise EngineError(f"cross-encoder:{argument}: no such directory")
    return CrossEncoderEngine(path.resolve())
