"""The model registry, NAME=ENGINE parsing, GET /models and ServerConfig."""

from __future__ import annotations

import httpx
import pytest

from together_rerank.server import (
    API_KEY_ENV,
    DEFAULT_MODELS,
    ENGINES,
    ModelSpecError,
    ServerConfig,
    api_key_from_env,
    create_app,
    parse_model_spec,
    parse_model_specs,
)

from .support import asgi_client, assert_conforms, rerank_body


def test_default_models_cover_togethers_rerank_and_embedding_names() -> None:
    assert DEFAULT_MODELS["Salesforce/Llama-Rank-V1"] == "bm25"
    assert DEFAULT_MODELS["mixedbread-ai/Mxbai-Rerank-Large-V2"] == "bm25"
    for name in (
        "togethercomputer/m2-bert-80M-8k-retrieval",
        "BAAI/bge-base-en-v1.5",
        "BAAI/bge-large-en-v1.5",
    ):
        assert DEFAULT_MODELS[name] == "hashed-ngrams"
    # term-overlap is served only when asked for (`--model NAME=term-overlap`).
    assert set(DEFAULT_MODELS.values()) == {"bm25", "hashed-ngrams"}
    assert ENGINES["bm25"] == {"rerank"}
    assert ENGINES["term-overlap"] == {"rerank"}
    assert ENGINES["hashed-ngrams"] == {"embedding"}
    assert ENGINES["minilm"] == {"rerank", "embedding"}
    assert ENGINES["cross-encoder:"] == {"rerank"}


def test_parse_model_spec_splits_name_and_engine() -> None:
    assert parse_model_spec("acme/reranker=bm25") == ("acme/reranker", "bm25")
    assert parse_model_spec(" acme/emb = hashed-ngrams ") == ("acme/emb", "hashed-ngrams")
    assert parse_model_spec("a=b=bm25") == ("a=b", "bm25")
    assert parse_model_specs(["x=bm25", "y=hashed-ngrams", "x=hashed-ngrams"]) == {
        "x": "hashed-ngrams",
        "y": "hashed-ngrams",
    }


def test_unknown_engine_is_a_clear_error_listing_the_choices() -> None:
    choices = r"unknown engine 'colbert'.*bm25, term-overlap, hashed-ngrams, minilm"
    with pytest.raises(ModelSpecError, match=choices):
        parse_model_spec("acme/x=colbert")
    with pytest.raises(ModelSpecError, match="unknown engine"):
        ServerConfig(models={"acme/x": "cross-encoder"})
    assert issubclass(ModelSpecError, ValueError)


@pytest.mark.parametrize("spec", ["no-equals-sign", "=bm25", "name=", "   "])
def test_malformed_model_spec_is_rejected(spec: str) -> None:
    with pytest.raises(ModelSpecError, match="NAME=ENGINE"):
        parse_model_spec(spec)


def test_server_config_rejects_unusable_settings() -> None:
    with pytest.raises(ValueError, match="at least one model"):
        ServerConfig(models={})
    with pytest.raises(ValueError, match="api_key"):
        ServerConfig(api_key="")
    with pytest.raises(ValueError, match="max_documents"):
        ServerConfig(max_documents=0)


def test_server_config_copies_models_and_hides_the_key() -> None:
    models = {"m=1": "bm25"}
    config = ServerConfig(models=models, api_key="very-secret-key")
    models["other"] = "bm25"
    assert dict(config.models) == {"m=1": "bm25"}
    assert "very-secret-key" not in repr(config)


def test_api_key_from_env_reads_the_documented_variable() -> None:
    assert API_KEY_ENV == "TOGETHER_RERANK_SERVER_API_KEY"
    assert api_key_from_env({API_KEY_ENV: "k"}) == "k"
    assert api_key_from_env({API_KEY_ENV: ""}) is None
    assert api_key_from_env({}) is None


@pytest.mark.parametrize("path", ["/v1/models", "/models"])
async def test_models_lists_every_model_with_type_and_engine(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    body = assert_conforms(response, "/models", "get")
    assert isinstance(body, list)
    assert [{key: model[key] for key in ("id", "object", "type", "engine")} for model in body] == [
        {
            "id": name,
            "object": "model",
            "type": next(iter(ENGINES[engine])),
            "engine": engine,
        }
        for name, engine in DEFAULT_MODELS.items()
    ]


async def test_configured_models_replace_the_defaults() -> None:
    config = ServerConfig(
        models=parse_model_specs(["my/reranker=bm25", "my/embedder=hashed-ngrams"])
    )
    async with asgi_client(create_app(config)) as client:
        listed = (await client.get("/v1/models")).json()
        assert [m["id"] for m in listed] == ["my/reranker", "my/embedder"]
        ok = await client.post("/v1/rerank", json=rerank_body(model="my/reranker"))
        assert ok.status_code == 200
        assert ok.json()["model"] == "my/reranker"
        gone = await client.post("/v1/rerank", json=rerank_body())
        assert gone.status_code == 404
        assert "my/reranker" in gone.json()["error"]["message"]


async def test_model_names_match_case_insensitively_and_answer_canonically(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/rerank", json=rerank_body(model="salesforce/llama-rank-v1"))
    assert response.status_code == 200
    assert response.json()["model"] == "Salesforce/Llama-Rank-V1"
