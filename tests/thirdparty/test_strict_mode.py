"""`Together(strict=True)` rejects what default mode tolerates, naming the field."""

from __future__ import annotations

import pytest

from together_rerank import APIResponseValidationError, APIStatusError, NotFoundError, Together

from .conftest import Target
from .test_sdk_calls import DOCUMENTS, EMBEDDING_DEVIATIONS, QUERY, RERANK_DEVIATIONS, rerank


def strict_client(target: Target) -> Together:
    """A client that holds every response to openapi.yaml exactly."""
    return Together(base_url=target.base_url, api_key=target.api_key, strict=True)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_strict_rerank_raises_naming_each_deviating_field(
    target: Target, is_async: bool
) -> None:
    with pytest.raises(APIResponseValidationError) as raised:
        await rerank(target, is_async, query=QUERY, documents=DOCUMENTS, strict=True)
    for field in RERANK_DEVIATIONS[target.name]:
        assert field in str(raised.value)


def test_strict_return_documents_names_the_bare_string_document(infinity_target: Target) -> None:
    target = infinity_target
    with strict_client(target) as client, pytest.raises(APIResponseValidationError) as raised:
        client.rerank.create(
            model=target.rerank_model, query=QUERY, documents=DOCUMENTS, return_documents=True
        )
    assert "document" in str(raised.value)


def test_strict_embeddings(target: Target) -> None:
    with strict_client(target) as client:
        if not target.embeddings:  # still the server's 404, not a validation error
            with pytest.raises(NotFoundError):
                client.embeddings.create(model="any", input=DOCUMENTS[:2])
            return
        if not EMBEDDING_DEVIATIONS[target.name]:
            response = client.embeddings.create(model=target.embedding_model, input=DOCUMENTS[:2])
            assert response.deviations == ()
            return
        with pytest.raises(APIResponseValidationError) as raised:
            client.embeddings.create(model=target.embedding_model, input=DOCUMENTS[:2])
    for field in EMBEDDING_DEVIATIONS[target.name]:
        assert field in str(raised.value)


def test_an_unknown_model_is_the_servers_typed_error_in_strict_mode_too(target: Target) -> None:
    with strict_client(target) as client, pytest.raises(APIStatusError) as raised:
        client.rerank.create(model="no-such-model", query=QUERY, documents=DOCUMENTS)
    assert raised.value.status_code in (400, 404)
    assert "no-such-model" in str(raised.value)
