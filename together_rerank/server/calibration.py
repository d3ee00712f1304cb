"""Calibrated relevance scores: an engine's raw score mapped to a probability of relevance.

An engine's own score orders documents but says little about how likely one
is to be relevant: MiniLM's raw score gives "Pandas eat bamboo in the
mountains of China." 0.56 for "Which animals live in Peru?", so a user's
threshold of 0.5 keeps it. The server therefore answers with

    p = 1 / (1 + exp(-(SLOPE * s + INTERCEPT)))

where ``s`` is the engine's raw score. SLOPE and INTERCEPT are a logistic
regression (Platt scaling) of "relevant" (grade 2 or 3) on ``s`` over every
candidate of the project's graded evaluation set (``eval/cases.jsonl``),
fitted once by ``python -m eval.calibrate`` and shipped as the constants below.

The same fixed function applies to every request, with SLOPE > 0: the result
is pointwise (a document's calibrated score depends only on its own raw
score), monotone (the ranking never changes) and in [0, 1].

Engines without constants keep their own scores: ``cross-encoder:PATH`` (a
model this project has never seen), and the lexical ``bm25`` and
``term-overlap``: on the graded set, whose lexical traps were written so that
shared words mislead, the fitted slope of both is negative (more overlap, less
often relevant), so the only monotone fit is a constant, which would erase the
ranking's information from the scores. docs/eval.md has the figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Calibration:
    """A logistic map from an engine's raw score to P(relevant); fitted, then fixed."""

    slope: float
    intercept: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.slope) and self.slope > 0 and math.isfinite(self.intercept)):
            raise ValueError("Calibration needs a finite positive slope and a finite intercept")

    def __call__(self, score: float) -> float:
        """P(relevant) for one raw score, in [0, 1]."""
        z = self.slope * score + self.intercept
        # Either branch keeps exp's argument <= 0: no overflow for any input.
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


CALIBRATIONS: Mapping[str, Calibration] = MappingProxyType(
    {
        # Fitted by `python -m eval.calibrate` on eval/cases.jsonl (62 queries,
        # 298 candidates, relevant = grade >= 2); docs/eval.md has the figures.
        "minilm": Calibration(slope=2.846004246134151, intercept=-1.9013325081918544),
    }
)
"""Engine name -> its calibration; an engine not listed keeps its raw scores."""


def calibrated(engine: str, scores: Sequence[float]) -> list[float]:
    """`engine`'s raw scores as probabilities of relevance (unchanged if it has no calibration)."""
    calibration = CALIBRATIONS.get(engine)
    if calibration is None:
        return list(scores)
    return [calibration(score) for score in scores]
