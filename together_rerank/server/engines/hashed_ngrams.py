"""The ``hashed-ngrams`` embedding engine: lexical feature hashing, no weights.

This is NOT a neural embedding. Vectors only capture shared words, word pairs
and word fragments, so "car" and "automobile" are unrelated here. It exists so
that retrieval code runs offline and deterministically.

For a text, the words are `text.terms` (case-folded, stopwords dropped, plural
"s" stripped; if that leaves nothing, the plain case-folded words). Features:

* each word, weight 1;
* each pair of adjacent words, weight `BIGRAM_WEIGHT`;
* the character 3-, 4- and 5-grams of ``"<" + word + ">"``, each weighted
  ``1 / sqrt(count)`` so that one word's fragments together weigh as much as
  the word itself (and "transformer" stays close to "transformers").

Each feature is hashed with BLAKE2b (8-byte digest, so results do not depend on
Python's per-process hash salt) to one of `DIMENSIONS` slots, with a sign taken
from the digest's top bit so that collisions cancel out on average instead of
piling up. The summed vector is L2-normalised; a text with no words embeds as
the all-zero vector.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from together_rerank.server.engines import Engine
from together_rerank.server.text import terms, words

DIMENSIONS = 768
BIGRAM_WEIGHT = 0.7
_NGRAM_SIZES = (3, 4, 5)


def _slot(feature: str) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    value = int.from_bytes(digest, "big")
    return value % DIMENSIONS, (1.0 if value >> 63 else -1.0)


@lru_cache(maxsize=1 << 16)
def _word_features(word: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    # Cached: word frequencies are Zipfian, so most words of a batch repeat.
    marked = f"<{word}>"
    grams = [marked[i : i + n] for n in _NGRAM_SIZES for i in range(len(marked) - n + 1)]
    slot, sign = _slot("w\x1f" + word)
    slots = [slot]
    weights = [sign]
    gram_weight = 1.0 / math.sqrt(len(grams)) if grams else 0.0
    for gram in grams:
        slot, sign = _slot("c\x1f" + gram)
        slots.append(slot)
        weights.append(sign * gram_weight)
    return tuple(slots), tuple(weights)


def embed(text: str) -> list[float]:
    """Embed one text as a unit-length (or all-zero) vector of `DIMENSIONS` floats."""
    tokens = terms(text) or words(text)
    if not tokens:
        return [0.0] * DIMENSIONS
    slots: list[int] = []
    weights: list[float] = []
    for token in tokens:
        word_slots, word_weights = _word_features(token)
        slots.extend(word_slots)
        weights.extend(word_weights)
    for left, right in itertools.pairwise(tokens):
        slot, sign = _slot(f"b\x1f{left}\x1f{right}")
        slots.append(slot)
        weights.append(sign * BIGRAM_WEIGHT)
    vector = np.bincount(np.asarray(slots), weights=np.asarray(weights), minlength=DIMENSIONS)
    norm = float(np.linalg.norm(vector))
    if norm == 0.0 or not math.isfinite(norm):
        return [0.0] * DIMENSIONS
    result: list[float] = (vector / norm).tolist()
    return result


def embed_many(texts: Sequence[str]) -> list[list[float]]:
    """Embed texts in order."""
    return [embed(text) for text in texts]


class HashedNgramsEngine(Engine):
    """The ``hashed-ngrams`` engine: `embed_many` behind the `Engine` interface."""

    name = "hashed-ngrams"
    kinds = frozenset({"embedding"})

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length (or all-zero) `DIMENSIONS`-d vectors."""
        return embed_many(texts)


def create(argument: str) -> Engine:
    """Build the engine (it takes no argument and loads nothing)."""
    return HashedNgramsEngine()
