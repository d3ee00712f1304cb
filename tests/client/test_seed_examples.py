# ruff: noqa: E501  (the seed examples are kept verbatim, long lines included)
"""The four usage examples of the seed run with only their import line changed.

Each example below is the seed's code (`../shared/seed/rerank-create.txt`) with
`from together import ...` replaced by `from together_rerank import ...`; the
seed's copy lost its indentation, which is restored. The code is executed
as-is: `Together` / `AsyncTogether` are swapped, on the `together_rerank`
module, for subclasses whose default `http_client` talks to the in-process mock
API (which scores documents by word overlap with the query, and embeds texts as
bag-of-words vectors). The key comes from TOGETHER_API_KEY, as in real use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import together_rerank

from .helpers import API_KEY, MockAPI

BASIC = """\
from together_rerank import Together
client = Together()
query = "What is retrieval-augmented generation?"
documents = [
    "The weather forecast predicts rain tomorrow.",
    "RAG combines retrieval with generation for more accurate LLM responses.",
    "Python is a popular programming language.",
    "Retrieval-augmented generation uses external knowledge to improve LLM outputs.",
    "The stock market closed higher today.",
]
response = client.rerank.create(
    model="Salesforce/Llama-Rank-V1",
    query=query,
    documents=documents,
    top_n=3,
)
for result in response.results:
    print(f"Index: {result.index}, Score: {result.relevance_score:.4f}")
    print(f" Document: {documents[result.index]}")
"""

STRUCTURED = """\
from together_rerank import Together
client = Together()
query = "deep learning frameworks"
documents = [
    {"title": "PyTorch Guide", "body": "PyTorch is an open-source deep learning framework."},
    {"title": "Cooking Recipes", "body": "Learn to make delicious pasta at home."},
    {"title": "TensorFlow Tutorial", "body": "TensorFlow provides tools for building neural networks."},
]
response = client.rerank.create(
    model="Salesforce/Llama-Rank-V1",
    query=query,
    documents=documents,
    rank_fields=["title", "body"],
    return_documents=True,
    top_n=2,
)
for result in response.results:
    print(f"Score: {result.relevance_score:.4f}")
    print(f" Document: {result.document}")
"""

RETRIEVE_THEN_RERANK = """\
from together_rerank import Together
import numpy as np
client = Together()
# Step 1: Embed query and corpus
query = "How does attention work in transformers?"
corpus = [
    "Attention mechanisms allow models to focus on relevant parts of the input.",
    "Transformers use self-attention to process sequences in parallel.",
    "Convolutional neural networks use filters for feature extraction.",
    "The attention mechanism computes weighted sums of value vectors.",
    "Recurrent neural networks process sequences one step at a time.",
]
# Embed everything
all_texts = [query] + corpus
embed_response = client.embeddings.create(
    input=all_texts,
    model="togethercomputer/m2-bert-80M-8k-retrieval",
)
vectors = [np.array(item.embedding) for item in embed_response.data]
query_vec = vectors[0]
doc_vecs = vectors[1:]
# Step 2: Retrieve top candidates by cosine similarity
similarities = [
    np.dot(query_vec, dv) / (np.linalg.norm(query_vec) * np.linalg.norm(dv))
    for dv in doc_vecs
]
top_indices = np.argsort(similarities)[::-1][:3]
candidates = [corpus[i] for i in top_indices]
# Step 3: Rerank candidates
rerank_response = client.rerank.create(
    model="Salesforce/Llama-Rank-V1",
    query=query,
    documents=candidates,
    top_n=2,
)
for result in rerank_response.results:
    print(f"Score: {result.relevance_score:.4f} -> {candidates[result.index]}")
"""

ASYNC = """\
import asyncio
from together_rerank import AsyncTogether
async def rerank_documents():
    client = AsyncTogether()
    response = await client.rerank.create(
        model="Salesforce/Llama-Rank-V1",
        query="machine learning optimization",
        documents=[
            "Gradient descent is used to minimize loss functions.",
            "Tropical fish need warm water to survive.",
            "Adam optimizer adapts learning rates for each parameter.",
        ],
        top_n=2,
    )
    for result in response.results:
        print(f"Index: {result.index}, Score: {result.relevance_score:.4f}")
asyncio.run(rerank_documents())
"""


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> MockAPI:
    """Route the examples' `Together()` / `AsyncTogether()` to the mock API."""
    mock = MockAPI()
    monkeypatch.setenv("TOGETHER_API_KEY", API_KEY)

    class MockedTogether(together_rerank.Together):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("http_client", httpx.Client(transport=mock.transport()))
            super().__init__(**kwargs)

    class MockedAsyncTogether(together_rerank.AsyncTogether):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("http_client", httpx.AsyncClient(transport=mock.transport()))
            super().__init__(**kwargs)

    monkeypatch.setattr(together_rerank, "Together", MockedTogether)
    monkeypatch.setattr(together_rerank, "AsyncTogether", MockedAsyncTogether)
    return mock


def run_example(source: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Execute an example as a script; return the lines it printed."""
    assert source.splitlines()[0].startswith(("from together_rerank import", "import asyncio"))
    assert "from together import" not in source
    exec(compile(source, "<seed example>", "exec"), {"__name__": "__main__"})
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out.splitlines()


def _body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def test_basic_reranking_with_string_documents(
    api: MockAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run_example(BASIC, capsys)
    assert lines == [
        "Index: 3, Score: 0.6002",
        " Document: Retrieval-augmented generation uses external knowledge to improve LLM outputs.",
        "Index: 1, Score: 0.4004",
        " Document: RAG combines retrieval with generation for more accurate LLM responses.",
        "Index: 2, Score: 0.2003",
        " Document: Python is a popular programming language.",
    ]
    assert api.calls == 1
    assert str(api.last.url) == "https://api.together.xyz/v1/rerank"
    assert api.last.headers["authorization"] == f"Bearer {API_KEY}"
    body = _body(api.last)
    assert set(body) == {"model", "query", "documents", "top_n"}
    assert body["top_n"] == 3
    assert len(body["documents"]) == 5


def test_reranking_with_structured_documents(
    api: MockAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run_example(STRUCTURED, capsys)
    pytorch = {
        "text": json.dumps(
            {
                "title": "PyTorch Guide",
                "body": "PyTorch is an open-source deep learning framework.",
            },
            separators=(",", ":"),
        )
    }
    assert len(lines) == 4
    assert lines[0] == "Score: 0.6670"
    assert lines[1] == f" Document: {pytorch}"
    assert lines[2].startswith("Score: ")
    assert lines[3].startswith(" Document: {'text': ")
    assert float(lines[2].removeprefix("Score: ")) < 0.667
    body = _body(api.last)
    assert body["rank_fields"] == ["title", "body"]
    assert body["return_documents"] is True
    assert body["top_n"] == 2
    assert body["documents"][0]["title"] == "PyTorch Guide"


def test_retrieve_then_rerank_pipeline(api: MockAPI, capsys: pytest.CaptureFixture[str]) -> None:
    lines = run_example(RETRIEVE_THEN_RERANK, capsys)
    assert [str(r.url) for r in api.requests] == [
        "https://api.together.xyz/v1/embeddings",
        "https://api.together.xyz/v1/rerank",
    ]
    embed_body = _body(api.requests[0])
    assert embed_body == {
        "model": "togethercomputer/m2-bert-80M-8k-retrieval",
        "input": embed_body["input"],
    }
    assert len(embed_body["input"]) == 6
    assert embed_body["input"][0] == "How does attention work in transformers?"
    rerank_body = _body(api.requests[1])
    # The three candidates retrieved by cosine similarity, reranked down to two.
    assert len(rerank_body["documents"]) == 3
    assert set(rerank_body["documents"]) <= set(embed_body["input"][1:])
    assert rerank_body["top_n"] == 2
    assert len(lines) == 2
    for line in lines:
        score, candidate = line.removeprefix("Score: ").split(" -> ")
        assert candidate in rerank_body["documents"]
        assert float(score) >= 0
    assert lines == [
        "Score: 0.5003 -> Transformers use self-attention to process sequences in parallel.",
        "Score: 0.1668 -> The attention mechanism computes weighted sums of value vectors.",
    ]


def test_async_reranking(api: MockAPI, capsys: pytest.CaptureFixture[str]) -> None:
    lines = run_example(ASYNC, capsys)
    assert lines == ["Index: 2, Score: 0.3334", "Index: 0, Score: 0.0003"]
    assert api.calls == 1
    assert _body(api.last)["top_n"] == 2


@pytest.mark.parametrize("source", [BASIC, STRUCTURED, RETRIEVE_THEN_RERANK, ASYNC])
def test_examples_fail_loudly_without_a_key(
    monkeypatch: pytest.MonkeyPatch, api: MockAPI, source: str
) -> None:
    # Against the hosted API, no TOGETHER_API_KEY is a clear error, before any request.
    monkeypatch.delenv("TOGETHER_API_KEY")
    with pytest.raises(together_rerank.MissingAPIKeyError, match="TOGETHER_API_KEY"):
        exec(compile(source, "<seed example>", "exec"), {"__name__": "__main__"})
    assert api.calls == 0


EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
SEED_COPIES = {
    "01_string_documents.py": BASIC,
    "02_structured_documents.py": STRUCTURED,
    "03_retrieve_then_rerank.py": RETRIEVE_THEN_RERANK,
    "04_async_rerank.py": ASYNC,
}


@pytest.mark.parametrize("name", sorted(SEED_COPIES))
def test_the_repository_examples_behave_as_the_seed(
    api: MockAPI, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    # examples/ holds the same four programs, as files users run (`make demo`).
    # Against the same mock they print what the seed's code prints (up to spacing).
    expected = run_example(SEED_COPIES[name], capsys)
    seed_requests = [(str(r.url), r.content) for r in api.requests]
    api.requests.clear()
    lines = run_example((EXAMPLES_DIR / name).read_text(encoding="utf-8"), capsys)
    assert [" ".join(line.split()) for line in lines] == [
        " ".join(line.split()) for line in expected
    ]
    assert [(str(r.url), r.content) for r in api.requests] == seed_requests
