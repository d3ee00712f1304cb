"""The spec the schema level generates from: openapi.yaml, narrowed to the server under test."""

from __future__ import annotations

import json

from together_rerank.contract.spec import load_spec, schema_level_spec, spec_path


def test_the_spec_is_the_repository_openapi_yaml() -> None:
    assert spec_path().read_text(encoding="utf-8").startswith("openapi: 3.1")
    assert load_spec()["paths"]["/rerank"]["post"]["operationId"] == "rerank"


def test_requests_name_the_models_under_test_examples_included() -> None:
    spec = schema_level_spec(rerank_model="acme/ranker", embedding_model="acme/embedder")
    schemas = spec["components"]["schemas"]
    assert schemas["RerankRequest"]["properties"]["model"]["const"] == "acme/ranker"
    assert schemas["EmbeddingsRequest"]["properties"]["model"]["const"] == "acme/embedder"
    requests = json.dumps(
        [
            schemas["RerankRequest"],
            schemas["EmbeddingsRequest"],
            spec["paths"]["/rerank"]["post"]["requestBody"],
            spec["paths"]["/embeddings"]["post"]["requestBody"],
        ]
    )
    assert "Salesforce/Llama-Rank-V1" not in requests
    assert "m2-bert" not in requests


def test_rank_fields_is_left_to_the_semantic_level() -> None:
    spec = schema_level_spec(rerank_model="r", embedding_model="e")
    assert "rank_fields" not in spec["components"]["schemas"]["RerankRequest"]["properties"]
    # Everything else is the spec's own, and the spec itself is untouched.
    assert "rank_fields" in load_spec()["components"]["schemas"]["RerankRequest"]["properties"]
    assert spec["components"]["schemas"]["RerankRequest"]["required"] == [
        "model",
        "query",
        "documents",
    ]
