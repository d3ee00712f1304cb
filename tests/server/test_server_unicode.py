"""Unicode: one word typed in different code points matches itself, in both engines."""

from __future__ import annotations

import unicodedata
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from together_rerank.server.engines import hashed_ngrams
from together_rerank.server.text import normalize, terms, words

from .support import EMBEDDING_MODEL, assert_conforms, rerank_body

# (how a user types it, how a document spells it)
SPELLINGS = [
    ("café", "cafe\u0301"),  # precomposed vs e + combining acute
    ("tokyo", "\uff34\uff4f\uff4b\uff59\uff4f"),  # ASCII vs fullwidth
    ("istanbul", "İstanbul"),  # casefold of dotted capital I is i + U+0307
    ("file", "ﬁle"),  # ligature
    ("STRASSE", "straße"),
]


@pytest.mark.parametrize(("typed", "stored"), SPELLINGS)
def test_both_spellings_give_the_same_terms(typed: str, stored: str) -> None:
    assert terms(typed) == terms(stored)
    assert len(terms(stored)) == 1


def test_a_combining_mark_does_not_split_a_word() -> None:
    # "ǰ" has no precomposed form after case folding: it stays j + U+030C, one word.
    assert words("J\u030cx rest") == [unicodedata.normalize("NFKC", "j\u030cx"), "rest"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_normalize_is_idempotent(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_terms_do_not_depend_on_the_normalization_form_of_the_input(text: str) -> None:
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        assert terms(unicodedata.normalize(form, text)) == terms(text)


@pytest.mark.parametrize(("typed", "stored"), SPELLINGS)
async def test_bm25_ranks_the_other_spelling_first(
    client: httpx.AsyncClient, typed: str, stored: str
) -> None:
    documents = ["an unrelated sentence", f"we met in {stored} yesterday", "another one"]
    response = await client.post(
        "/v1/rerank", json=rerank_body(query=typed, documents=documents, top_n=1)
    )
    body: dict[str, Any] = assert_conforms(response, "/rerank")
    assert body["results"][0]["index"] == 1
    assert body["results"][0]["relevance_score"] > 0.0


@pytest.mark.parametrize(("typed", "stored"), SPELLINGS)
async def test_hashed_ngrams_embed_both_spellings_identically(
    client: httpx.AsyncClient, typed: str, stored: str
) -> None:
    response = await client.post(
        "/v1/embeddings", json={"model": EMBEDDING_MODEL, "input": [typed, stored]}
    )
    body: dict[str, Any] = assert_conforms(response, "/embeddings")
    first, second = (item["embedding"] for item in body["data"])
    assert first == second
    assert first == hashed_ngrams.embed(typed)
    assert any(first)
