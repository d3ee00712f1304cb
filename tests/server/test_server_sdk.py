"""The SDK against the local server: in process (ASGI transport) and over loopback HTTP."""

from __future__ import annotations

import httpx
import pytest

from together_rerank import (
    AsyncTogether,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    Together,
)
from together_rerank.server import LocalServer, ServerConfig, create_app

DOCUMENTS = [
    "The weather forecast predicts rain tomorrow.",
    "RAG combines retrieval with generation for more accurate LLM responses.",
    "Retrieval-augmented generation uses external knowledge to improve LLM outputs.",
]


def in_process(config: ServerConfig | None = None) -> AsyncTogether:
    transport = httpx.ASGITransport(app=create_app(config))
    return AsyncTogether(
        base_url="http://local.test/v1", http_client=httpx.AsyncClient(transport=transport)
    )


async def test_rerank_in_process() -> None:
    async with in_process() as client:
        response = await client.rerank.create(
            model="Salesforce/Llama-Rank-V1",
            query="What is retrieval-augmented generation?",
            documents=DOCUMENTS,
            top_n=2,
            return_documents=True,
        )
    assert {result.index for result in response.results} == {1, 2}
    assert response.results[0].document == {"text": DOCUMENTS[response.results[0].index]}
    assert response.usage is not None
    assert response.usage.total_tokens == response.usage.prompt_tokens > 0


async def test_embeddings_in_process() -> None:
    async with in_process() as client:
        response = await client.embeddings.create(
            model="togethercomputer/m2-bert-80M-8k-retrieval", input=["attention", "pasta"]
        )
    assert [item.index for item in response.data] == [0, 1]
    assert all(abs(sum(x * x for x in item.embedding) - 1) < 1e-9 for item in response.data)


async def test_server_errors_become_typed_sdk_errors() -> None:
    async with in_process(ServerConfig(api_key="sk-local")) as client:
        with pytest.raises(AuthenticationError):
            await client.rerank.create(model="Salesforce/Llama-Rank-V1", query="q", documents=["a"])
        keyed = client.with_options(api_key="sk-local")
        with pytest.raises(NotFoundError, match="no/such-model"):
            await keyed.rerank.create(model="no/such-model", query="q", documents=["a"])
        # A request the SDK lets through (it cannot know the model's kind) but the server refuses.
        with pytest.raises(BadRequestError) as caught:
            await keyed.rerank.create(
                model="togethercomputer/m2-bert-80M-8k-retrieval", query="q", documents=["a"]
            )
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["error"]["param"] == "model"


@pytest.mark.parametrize("suffix", ["/v1", ""])
def test_sync_client_over_loopback_with_either_base_url(suffix: str) -> None:
    with LocalServer() as server, Together(base_url=server.root_url + suffix) as client:
        response = client.rerank.create(
            model="Salesforce/Llama-Rank-V1",
            query="What is retrieval-augmented generation?",
            documents=DOCUMENTS,
        )
    assert [result.index for result in response.results][:2] in ([1, 2], [2, 1])
    assert len(response.results) == len(DOCUMENTS)
