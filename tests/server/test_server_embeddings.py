"""The hashed-ngrams embedding engine and POST /embeddings."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from together_rerank.server.engines.hashed_ngrams import DIMENSIONS, embed

from .support import EMBEDDING_MODEL, assert_conforms


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_vectors_are_unit_length_or_all_zero_and_finite(text: str) -> None:
    vector = embed(text)
    assert len(vector) == DIMENSIONS == 768
    assert all(math.isfinite(x) for x in vector)
    norm = math.sqrt(sum(x * x for x in vector))
    assert norm == pytest.approx(1.0) or norm == 0.0


def test_text_without_words_embeds_as_zero_vector() -> None:
    assert embed("") == [0.0] * DIMENSIONS
    assert embed("  ?! ... ") == [0.0] * DIMENSIONS


def test_stopword_only_text_still_embeds() -> None:
    assert any(embed("what is it"))


def test_shared_words_and_fragments_make_texts_similar() -> None:
    base = embed("transformers use self-attention")
    assert _cosine(base, embed("a transformer with attention")) > _cosine(
        base, embed("tropical fish need warm water")
    )
    assert _cosine(base, base) == pytest.approx(1.0)


def test_vectors_do_not_depend_on_python_hash_seed() -> None:
    # A stable hash, not the per-process salted hash(): another process with
    # another seed must produce the very same vector.
    code = (
        "import json; from together_rerank.server.engines.hashed_ngrams import embed; "
        "print(json.dumps(embed('Attention is all you need')))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    output = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output) == embed("Attention is all you need")


async def test_list_input_gives_one_embedding_per_text_in_order(
    client: httpx.AsyncClient,
) -> None:
    texts = ["first text", "second text", "", "first text"]
    response = await client.post("/v1/embeddings", json={"model": EMBEDDING_MODEL, "input": texts})
    body = assert_conforms(response, "/embeddings")
    assert response.headers["x-together-rerank-engine"] == "hashed-ngrams"
    assert body["object"] == "list"
    assert body["model"] == EMBEDDING_MODEL
    assert [item["index"] for item in body["data"]] == [0, 1, 2, 3]
    assert all(item["object"] == "embedding" for item in body["data"])
    assert [item["embedding"] for item in body["data"]] == [embed(t) for t in texts]
    assert body["usage"] == {"prompt_tokens": 6, "completion_tokens": 0, "total_tokens": 6}


async def test_string_input_gives_one_embedding(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/embeddings", json={"model": "BAAI/bge-base-en-v1.5", "input": "one text"}
    )
    body = assert_conforms(response, "/embeddings")
    assert len(body["data"]) == 1
    assert body["data"][0]["embedding"] == embed("one text")
    assert body["model"] == "BAAI/bge-base-en-v1.5"


async def test_identical_embedding_requests_get_identical_bytes(client: httpx.AsyncClient) -> None:
    request = {"model": EMBEDDING_MODEL, "input": ["Straße", "naïve café \U0001f600"]}
    first = await client.post("/v1/embeddings", json=request)
    second = await client.post("/v1/embeddings", json=request)
    assert first.status_code == 200
    assert first.content == second.content
