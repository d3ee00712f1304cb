"""Fit and measure the score calibration the server applies (`server.calibration`).

For each rerank engine, a logistic regression of "relevant" (grade >= 2) on the
engine's raw score over every candidate of the graded set, by Newton's method
(iteratively reweighted least squares, two parameters, a tiny ridge so that a
separable set still converges). ``python -m eval.calibrate`` prints the constants to paste into
``together_rerank/server/calibration.py`` (or says why an engine gets none:
a fitted slope <= 0 has no monotone calibration); `make eval` prints the
figures (`calibration_table`) for the shipped constants.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from eval.dataset import DEFAULT_PATH, Case, DatasetError, load_cases
from together_rerank.server.calibration import CALIBRATIONS, Calibration
from together_rerank.server.engines import get_engine, installed

RELEVANT_FROM = 2
"""Grades from this one up count as relevant (as MRR counts them in `make eval`)."""
BINS = 10
FOLDS = 5


def fit_logistic(
    x: Sequence[float], y: Sequence[bool], *, ridge: float = 1e-6, iterations: int = 100
) -> tuple[float, float]:
    """(slope, intercept) maximising the log-likelihood of P(y) = sigmoid(slope * x + intercept)."""
    design = np.column_stack([np.asarray(x, dtype=np.float64), np.ones(len(x))])
    target = np.asarray(y, dtype=np.float64)
    weights = np.zeros(2)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ weights)))
        gradient = design.T @ (target - p) - ridge * weights
        hessian = design.T @ (design * (p * (1.0 - p))[:, None]) + ridge * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        weights += step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return float(weights[0]), float(weights[1])


def expected_calibration_error(p: Sequence[float], y: Sequence[bool], bins: int = BINS) -> float:
    """ECE: over `bins` equal-width bins of p, the share-weighted |mean p - share relevant|."""
    probabilities = np.asarray(p, dtype=np.float64)
    target = np.asarray(y, dtype=np.float64)
    which = np.minimum((probabilities * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap = abs(probabilities[inside].mean() - target[inside].mean())
            total += inside.mean() * gap
    return float(total)


def candidates(selected: Sequence[Case]) -> tuple[list[int], list[int]]:
    """Each candidate's case number and grade, in `selected`'s order."""
    owners = [n for n, case in enumerate(selected) for _ in case.documents]
    grades = [grade for case in selected for _, grade in case.documents]
    return owners, grades


def raw_scores(engine: str, selected: Sequence[Case]) -> list[float]:
    """Every candidate's raw engine score, in `candidates` order."""
    scorer = get_engine(engine)
    return [
        score
        for case in selected
        for score in scorer.score(case.query, [text for text, _ in case.documents])
    ]


def fit(scores: Sequence[float], grades: Sequence[int]) -> tuple[float, float]:
    """(slope, intercept) of P(relevant) on these raw scores and grades."""
    return fit_logistic(scores, [g >= RELEVANT_FROM for g in grades])


def held_out(scores: Sequence[float], owners: Sequence[int], grades: Sequence[int]) -> list[float]:
    """Each candidate's calibrated score from a fit on the other folds (cases split by number)."""
    predicted = [0.0] * len(scores)
    for fold in range(FOLDS):
        train = [i for i, owner in enumerate(owners) if owner % FOLDS != fold]
        calibration = Calibration(*fit([scores[i] for i in train], [grades[i] for i in train]))
        for i, owner in enumerate(owners):
            if owner % FOLDS == fold:
                predicted[i] = calibration(scores[i])
    return predicted


def _row(engine: str, label: str, p: Sequence[float], grades: Sequence[int], cv: str) -> str:
    relevant = [g >= RELEVANT_FROM for g in grades]
    zeros = [s for s, g in zip(p, grades, strict=True) if g == 0]
    tops = [s for s, g in zip(p, grades, strict=True) if g == max(grades)]
    above = sum(s > 0.5 for s in zeros) / len(zeros) if zeros else 0.0
    below = sum(s < 0.5 for s in tops) / len(tops) if tops else 0.0
    ece = expected_calibration_error(p, relevant)
    return f"| {engine} | {label} | {ece:.3f} | {cv} | {above:.1%} | {below:.1%} |"


def calibration_table(scored: dict[str, list[float]], selected: Sequence[Case]) -> str:
    """Markdown: per engine, raw and calibrated scores' ECE and threshold errors at 0.5."""
    owners, grades = candidates(selected)
    lines = [
        f"Calibration (relevant = grade >= {RELEVANT_FROM}; ECE over {BINS} equal-width bins; "
        f"held out = refitted on 4 of {FOLDS} folds of queries, scored on the fifth):",
        "",
        "| engine | scores | ECE | ECE held out | grade 0 above 0.5 | grade 3 below 0.5 |",
        "|---|---|---|---|---|---|",
    ]
    for engine, scores in scored.items():
        lines.append(_row(engine, "raw", scores, grades, "-"))
        calibration = CALIBRATIONS.get(engine)
        if calibration is None:
            continue
        shipped = [calibration(s) for s in scores]
        cv = held_out(scores, owners, grades)
        relevant = [g >= RELEVANT_FROM for g in grades]
        cv_ece = f"{expected_calibration_error(cv, relevant):.3f}"
        lines.append(_row(engine, "calibrated", shipped, grades, cv_ece))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Fit each engine on the graded set and print the constants for calibration.py."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", action="append", help="an engine name (repeatable)")
    parser.add_argument("--cases", default=str(DEFAULT_PATH), metavar="FILE")
    args = parser.parse_args(argv)
    try:
        selected = load_cases(args.cases)
    except DatasetError as exc:
        print(f"eval: {exc}", file=sys.stderr)
        return 2
    engines = args.engine or [e for e in ("bm25", "term-overlap", "minilm") if installed(e)]
    _, grades = candidates(selected)
    for engine in engines:
        slope, intercept = fit(raw_scores(engine, selected), grades)
        if slope > 0:
            print(f'        "{engine}": Calibration(slope={slope!r}, intercept={intercept!r}),')
        else:
            print(f"        # {engine}: fitted slope {slope:.3f} <= 0, no monotone calibration")
    return 0


if __name__ == "__main__":
    sys.exit(main())
