"""The calibration fit and its figures: Newton's logistic regression, ECE, the eval table."""

from __future__ import annotations

import numpy as np
import pytest

from eval.calibrate import calibration_table, expected_calibration_error, fit_logistic
from eval.dataset import Case


def test_the_fit_recovers_the_parameters_that_generated_the_labels() -> None:
    rng = np.random.default_rng(7)
    x = rng.uniform(0.0, 1.0, 20_000)
    y = rng.uniform(0.0, 1.0, x.size) < 1.0 / (1.0 + np.exp(-(4.0 * x - 2.5)))
    slope, intercept = fit_logistic(x.tolist(), y.tolist())
    assert slope == pytest.approx(4.0, abs=0.25)
    assert intercept == pytest.approx(-2.5, abs=0.15)


def test_the_fit_finds_a_negative_slope_when_higher_scores_mean_less_relevant() -> None:
    x = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9, 0.2, 0.8]
    y = [True, True, True, False, False, False, False, True]
    slope, _ = fit_logistic(x, y)
    assert slope < 0


def test_a_separable_set_still_gives_finite_parameters() -> None:
    slope, intercept = fit_logistic([0.1, 0.2, 0.8, 0.9], [False, False, True, True])
    assert np.isfinite(slope)
    assert slope > 0
    assert np.isfinite(intercept)


def test_ece_is_the_share_weighted_gap_per_bin() -> None:
    # Bin [0.2, 0.3): p 0.25, 1 of 4 relevant -> gap 0. Bin [0.9, 1.0]: p 0.95, 0 of 4 -> 0.95.
    p = [0.25] * 4 + [0.95] * 4
    y = [True, False, False, False] + [False] * 4
    assert expected_calibration_error(p, y) == pytest.approx(0.5 * 0.0 + 0.5 * 0.95)
    assert expected_calibration_error([1.0, 0.0], [True, False]) == 0.0


def test_the_table_reports_raw_and_calibrated_minilm_and_raw_only_for_others() -> None:
    cases = [
        Case("a", "g", "q", (("x", 3), ("y", 0), ("z", 2))),
        Case("b", "g", "q", (("x", 0), ("y", 3), ("z", 0))),
    ] * 5
    cases = [Case(f"{c.id}{i}", c.group, c.query, c.documents) for i, c in enumerate(cases)]
    scores = [0.9, 0.6, 0.7, 0.2, 0.8, 0.1] * 5
    lines = calibration_table({"minilm": scores, "bm25": scores}, cases).splitlines()
    rows = [line for line in lines if line.startswith("| minilm") or line.startswith("| bm25")]
    assert [row.split(" | ")[:2] for row in rows] == [
        ["| minilm", "raw"],
        ["| minilm", "calibrated"],
        ["| bm25", "raw"],
    ]
    # Raw: grade-0 scores 0.6, 0.2, 0.1 -> one of three above 0.5; grade 3 never below.
    assert rows[0].endswith("| - | 33.3% | 0.0% |")
