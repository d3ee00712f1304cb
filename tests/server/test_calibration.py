"""Calibrated scores: one fixed, monotone, pointwise map per engine, applied to every answer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from together_rerank.server import ServerConfig, create_app
from together_rerank.server.calibration import CALIBRATIONS, Calibration, calibrated
from together_rerank.server.engines.term_overlap import relevance_scores

from .support import asgi_client, assert_conforms

ENGINES = sorted(CALIBRATIONS)
raw_score = st.floats(min_value=0.0, max_value=1.0)


@given(engine=st.sampled_from(ENGINES), a=raw_score, b=raw_score)
def test_calibration_is_monotone_and_bounded(engine: str, a: float, b: float) -> None:
    low, high = sorted([a, b])
    calibration = CALIBRATIONS[engine]
    assert 0.0 <= calibration(low) <= calibration(high) <= 1.0


@given(engine=st.sampled_from(ENGINES), a=st.floats(0.0, 0.999), gap=st.floats(1e-4, 1.0))
def test_calibration_keeps_distinct_scores_apart(engine: str, a: float, gap: float) -> None:
    # Strictly increasing over the scores engines give, so no new ties reorder a ranking.
    b = min(1.0, a + gap)
    assert CALIBRATIONS[engine](a) < CALIBRATIONS[engine](b)


@given(
    engine=st.sampled_from(ENGINES),
    scores=st.lists(raw_score, max_size=20),
    others=st.lists(raw_score, max_size=5),
)
def test_calibration_is_pointwise(engine: str, scores: list[float], others: list[float]) -> None:
    alone = [calibrated(engine, [s])[0] for s in scores]
    assert calibrated(engine, scores) == alone
    assert calibrated(engine, others + scores)[len(others) :] == alone
    assert calibrated(engine, scores[::-1]) == alone[::-1]


def test_an_engine_without_constants_keeps_its_scores() -> None:
    assert calibrated("cross-encoder:/models/mine", [0.0, 0.3, 1.0]) == [0.0, 0.3, 1.0]


@pytest.mark.parametrize(("slope", "intercept"), [(0.0, 1.0), (-2.0, 0.0), (float("nan"), 0.0)])
def test_a_calibration_that_could_reorder_or_break_is_refused(
    slope: float, intercept: float
) -> None:
    with pytest.raises(ValueError, match="positive slope"):
        Calibration(slope, intercept)


def test_extreme_inputs_stay_finite() -> None:
    steep = Calibration(slope=1e6, intercept=-5e5)
    assert steep(0.0) == 0.0
    assert steep(1.0) == 1.0
    assert steep(0.5) == 0.5


PERU = "Which animals live in Peru?"
PERU_DOCUMENTS = [
    "Pandas eat bamboo in the mountains of China.",
    "Llamas and alpacas graze in the Andes of Peru.",
    "The stock exchange opens at half past nine.",
]


async def test_the_server_answers_minilm_with_calibrated_scores_in_the_raw_order() -> None:
    from together_rerank.server.engines import get_engine, installed

    if not installed("minilm"):
        pytest.skip("the semantic extra is not installed")
    async with asgi_client(create_app(ServerConfig(models={"m": "minilm"}))) as client:
        response = await client.post(
            "/v1/rerank", json={"model": "m", "query": PERU, "documents": PERU_DOCUMENTS}
        )
    scores = {
        r["index"]: r["relevance_score"] for r in assert_conforms(response, "/rerank")["results"]
    }
    raw = get_engine("minilm").score(PERU, PERU_DOCUMENTS)
    assert raw[0] > 0.5  # the example: uncalibrated, a 0.5 threshold keeps pandas
    assert scores == dict(enumerate(calibrated("minilm", raw)))
    assert scores[0] < 0.45
    assert scores[1] > 0.6
    order = [r["index"] for r in response.json()["results"]]
    assert order == sorted(range(3), key=lambda i: -raw[i])


async def test_an_engine_without_calibration_answers_its_raw_scores() -> None:
    query, docs = "deep learning frameworks", ["deep learning frameworks", "deep sea", "pasta"]
    async with asgi_client(create_app(ServerConfig(models={"m": "term-overlap"}))) as client:
        response = await client.post(
            "/v1/rerank", json={"model": "m", "query": query, "documents": docs}
        )
    results = assert_conforms(response, "/rerank")["results"]
    expected = dict(enumerate(relevance_scores(query, docs)))
    assert {r["index"]: r["relevance_score"] for r in results} == expected
