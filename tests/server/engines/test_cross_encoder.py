"""``cross-encoder:PATH``: a tiny randomly initialised CrossEncoder, made here, served offline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from together_rerank.server import ENGINE_HEADER, ServerConfig, create_app
from together_rerank.server.engines import EngineError, get_engine

from ..support import asgi_client, assert_conforms
from .conftest import TINY_WORDS


def test_scores_are_the_models_sigmoid_logits_for_short_documents(tiny_cross_encoder: Path) -> None:
    from sentence_transformers import CrossEncoder

    engine = get_engine(f"cross-encoder:{tiny_cross_encoder}")
    query, documents = "deep model", ["cat dog", "learn deep model", "bike tyre patch", ""]
    direct = CrossEncoder(str(tiny_cross_encoder), device="cpu").predict(
        [(query, d) for d in documents], convert_to_numpy=True
    )
    logits = np.log(direct / (1 - direct))  # whatever activation it saved: undo the sigmoid
    expected = 1 / (1 + np.exp(-logits))
    scores = engine.score(query, documents)
    assert np.allclose(scores, expected, atol=1e-5)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_a_long_document_gets_its_best_windows_score(tiny_cross_encoder: Path) -> None:
    """63 one-token words beside a one-token query: windows of 60 tokens at 0 and at 3."""
    from sentence_transformers import CrossEncoder

    engine = get_engine(f"cross-encoder:{tiny_cross_encoder}")
    words = [TINY_WORDS[(i * 5) % len(TINY_WORDS)] for i in range(63)]
    document = " ".join(words)
    assert engine.count_tokens(document) == 65  # with [CLS] and [SEP]: past the 64-token window
    model = CrossEncoder(str(tiny_cross_encoder), device="cpu")
    windows = [" ".join(words[0:60]), " ".join(words[3:63])]
    expected = model.predict([("patch", w) for w in windows], convert_to_numpy=True)
    (score,) = engine.score("patch", [document])
    assert score == pytest.approx(float(max(expected)), abs=1e-5)


def test_scores_do_not_depend_on_the_other_documents(tiny_cross_encoder: Path) -> None:
    engine = get_engine(f"cross-encoder:{tiny_cross_encoder}")
    assert engine.pointwise
    documents = ["cat", "dog fish " * 40, "learn", "", "model deep"]
    together = engine.score("deep", documents)
    alone = [engine.score("deep", [d])[0] for d in documents]
    assert np.allclose(together, alone, atol=1e-6)


async def test_the_server_serves_it_by_name_and_says_so(tiny_cross_encoder: Path) -> None:
    engine = f"cross-encoder:{tiny_cross_encoder}"
    app = create_app(ServerConfig(models={"my-reranker": engine}))
    async with asgi_client(app) as client:
        response = await client.post(
            "/v1/rerank",
            json={"model": "my-reranker", "query": "cat", "documents": ["dog", "cat", "fish"]},
        )
        listed = (await client.get("/v1/models")).json()
    assert response.headers[ENGINE_HEADER] == engine
    body = assert_conforms(response, "/rerank")
    assert sorted(r["index"] for r in body["results"]) == [0, 1, 2]
    rows = [(m["id"], m["type"], m["engine"]) for m in listed]
    assert rows == [("my-reranker", "rerank", engine)]


def test_a_missing_or_unusable_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="no such directory"):
        get_engine(f"cross-encoder:{tmp_path / 'absent'}")
    with pytest.raises(EngineError, match="not a loadable CrossEncoder"):
        get_engine(f"cross-encoder:{tmp_path}")
