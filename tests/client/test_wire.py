"""What goes on the wire: only the fields the caller set, in a stable, exact encoding."""

from __future__ import annotations

import json
from collections import OrderedDict
from types import MappingProxyType
from typing import Any

import pytest

from .helpers import DOCS, MODEL, Caller, MockAPI


def test_minimal_call_sends_only_the_required_fields(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert api.last_json() == {"model": MODEL, "query": "q", "documents": DOCS}
    assert b"null" not in api.last.content


def test_explicit_defaults_are_not_sent(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(
        api,
        model=MODEL,
        query="q",
        documents=DOCS,
        top_n=None,
        return_documents=False,
        rank_fields=None,
    )
    assert set(api.last_json()) == {"model", "query", "documents"}
    assert b"null" not in api.last.content


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"top_n": 2}, {"top_n": 2}),
        ({"top_n": 50}, {"top_n": 50}),  # above len(documents): not an error
        ({"return_documents": True}, {"return_documents": True}),
        ({"return_documents": False}, {}),
    ],
)
def test_each_optional_field_is_sent_only_when_set(
    mode: Caller, extra: dict[str, Any], expected: dict[str, Any]
) -> None:
    api = MockAPI()
    mode.rerank(api, model=MODEL, query="q", documents=DOCS, **extra)
    assert api.last_json() == {"model": MODEL, "query": "q", "documents": DOCS, **expected}


def test_rank_fields_are_sent(mode: Caller) -> None:
    api = MockAPI()
    docs = [{"title": "a", "body": "b"}, {"title": "c"}]
    mode.rerank(api, model=MODEL, query="q", documents=docs, rank_fields=["title", "body"])
    assert api.last_json() == {
        "model": MODEL,
        "query": "q",
        "documents": docs,
        "rank_fields": ["title", "body"],
    }


def test_documents_keep_their_order(mode: Caller) -> None:
    api = MockAPI()
    docs = [f"document number {i}" for i in range(50, 0, -1)]
    mode.rerank(api, model=MODEL, query="q", documents=docs)
    assert api.last_json()["documents"] == docs


def test_tuples_are_sent_as_lists(api: MockAPI) -> None:
    with api.client() as client:
        client.rerank.create(
            model=MODEL,
            query="q",
            documents=("a", "b"),
            rank_fields=None,
        )
        client.rerank.create(
            model=MODEL, query="q", documents=({"t": "a"}, {"t": "b"}), rank_fields=("t",)
        )
    assert json.loads(api.requests[0].content)["documents"] == ["a", "b"]
    assert json.loads(api.requests[1].content)["rank_fields"] == ["t"]


def test_byte_exact_body_for_a_fixed_call(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(
        api,
        model="Salesforce/Llama-Rank-V1",
        query="deep learning frameworks",
        documents=[
            {"title": "PyTorch Guide", "body": "PyTorch is an open-source framework."},
            {"title": "Cooking Recipes", "body": "Pasta at home.", "stars": 4.5, "tags": []},
        ],
        rank_fields=["title", "body"],
        return_documents=True,
        top_n=2,
    )
    assert api.last.content == (
        b'{"model":"Salesforce/Llama-Rank-V1","query":"deep learning frameworks",'
        b'"documents":[{"title":"PyTorch Guide","body":"PyTorch is an open-source framework."},'
        b'{"title":"Cooking Recipes","body":"Pasta at home.","stars":4.5,"tags":[]}],'
        b'"top_n":2,"return_documents":true,"rank_fields":["title","body"]}'
    )


def test_unicode_is_sent_as_utf8(mode: Caller) -> None:
    api = MockAPI()
    docs = ["naïve café", "日本語のテキスト", "emoji 🎉", "", 'quote " and \\ backslash\n']
    mode.rerank(api, model=MODEL, query="größe 🔍", documents=docs)
    assert api.last.content.decode("utf-8")
    assert api.last_json() == {"model": MODEL, "query": "größe 🔍", "documents": docs}


def test_nested_dict_documents_are_sent_unchanged(mode: Caller) -> None:
    api = MockAPI()
    docs: list[dict[str, Any]] = [
        {"text": "a", "meta": {"year": 2024, "score": -0.5, "ok": True, "none": None}},
        {"text": "b", "meta": {"tags": ["x", ["y", {"z": 1}]]}},
    ]
    mode.rerank(api, model=MODEL, query="q", documents=docs)
    assert api.last_json()["documents"] == docs


def test_any_mapping_is_sent_as_a_json_object(api: MockAPI) -> None:
    # The signature takes Mapping documents; every kind must encode, nested ones too.
    docs = [
        MappingProxyType({"text": "a", "meta": MappingProxyType({"k": 1})}),
        OrderedDict(text="b"),
    ]
    with api.client() as client:
        client.rerank.create(model=MODEL, query="q", documents=docs)
    assert api.last_json()["documents"] == [{"text": "a", "meta": {"k": 1}}, {"text": "b"}]


def test_embeddings_body(mode: Caller) -> None:
    api = MockAPI()
    mode.embeddings(api, model="m", input=["a", "b"])
    assert api.last.content == b'{"model":"m","input":["a","b"]}'
    mode.embeddings(api, model="m", input="one")
    assert api.last.content == b'{"model":"m","input":"one"}'


def test_sync_and_async_send_identical_requests() -> None:
    sync_api, async_api = MockAPI(), MockAPI()
    kwargs: dict[str, Any] = {
        "model": MODEL,
        "query": "q",
        "documents": [{"a": 1}, {"a": 2}],
        "top_n": 1,
        "return_documents": True,
        "rank_fields": ["a"],
        "extra_headers": {"X-T": "1"},
        "extra_query": {"p": "1"},
        "custom": [1, 2],
    }
    sync_result = Caller(is_async=False).rerank(sync_api, **kwargs)
    async_result = Caller(is_async=True).rerank(async_api, **kwargs)
    sent_sync, sent_async = sync_api.last, async_api.last
    assert sent_sync.method == sent_async.method
    assert sent_sync.url == sent_async.url
    assert sent_sync.content == sent_async.content
    assert sent_sync.headers.multi_items() == sent_async.headers.multi_items()
    assert sync_result == async_result
