"""Bad arguments raise before anything is sent, naming the parameter at fault."""

from __future__ import annotations

import math
from typing import Any

import pytest

from together_rerank import InvalidArgumentError, InvalidArgumentTypeError, TogetherError

from .helpers import DOCS, MODEL, Caller, MockAPI


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": "x"}
    for _ in range(depth):
        value = {"child": value}
    return value


DICT_DOCS = [{"title": "a", "body": "b"}, {"title": "c"}]

# (id, create() arguments overriding a valid call, parameter named in the message, error type)
BAD_ARGUMENTS: list[tuple[str, dict[str, Any], str, type[Exception]]] = [
    ("documents empty", {"documents": []}, "documents", ValueError),
    ("documents empty tuple", {"documents": ()}, "documents", ValueError),
    ("documents bare string", {"documents": "just one document"}, "documents", TypeError),
    ("documents bytes", {"documents": b"bytes"}, "documents", TypeError),
    ("documents a set", {"documents": {"a", "b"}}, "documents", TypeError),
    ("documents a dict", {"documents": {"a": "b"}}, "documents", TypeError),
    ("documents None", {"documents": None}, "documents", TypeError),
    ("documents generator", {"documents": (d for d in DOCS)}, "documents", TypeError),
    ("mixed str then dict", {"documents": ["a", {"t": "b"}]}, "documents[1]", TypeError),
    ("mixed dict then str", {"documents": [{"t": "a"}, "b"]}, "documents[1]", TypeError),
    ("None item", {"documents": ["a", None]}, "documents[1]", TypeError),
    ("None first item", {"documents": [None, "a"]}, "documents[0]", TypeError),
    ("int items", {"documents": [1, 2]}, "documents[0]", TypeError),
    ("bytes items", {"documents": [b"a", b"b"]}, "documents[0]", TypeError),
    ("list items", {"documents": [["a"], ["b"]]}, "documents[0]", TypeError),
    ("query None", {"query": None}, "query", TypeError),
    ("query int", {"query": 42}, "query", TypeError),
    ("query list", {"query": ["a"]}, "query", TypeError),
    ("query bytes", {"query": b"q"}, "query", TypeError),
    ("model None", {"model": None}, "model", TypeError),
    ("model int", {"model": 1}, "model", TypeError),
    ("model empty", {"model": ""}, "model", ValueError),
    ("model blank", {"model": "   "}, "model", ValueError),
    ("top_n 0", {"top_n": 0}, "top_n", ValueError),
    ("top_n -1", {"top_n": -1}, "top_n", ValueError),
    ("top_n True", {"top_n": True}, "top_n", TypeError),
    ("top_n False", {"top_n": False}, "top_n", TypeError),
    ("top_n 1.5", {"top_n": 1.5}, "top_n", TypeError),
    ("top_n 2.0", {"top_n": 2.0}, "top_n", TypeError),
    ("top_n '3'", {"top_n": "3"}, "top_n", TypeError),
    ("return_documents None", {"return_documents": None}, "return_documents", TypeError),
    ("return_documents 'yes'", {"return_documents": "yes"}, "return_documents", TypeError),
    ("return_documents 1", {"return_documents": 1}, "return_documents", TypeError),
    (
        "rank_fields with string documents",
        {"rank_fields": ["title"]},
        "rank_fields",
        ValueError,
    ),
    ("rank_fields empty", {"documents": DICT_DOCS, "rank_fields": []}, "rank_fields", ValueError),
    (
        "rank_fields a field no document has",
        {"documents": DICT_DOCS, "rank_fields": ["title", "author"]},
        "rank_fields",
        ValueError,
    ),
    (
        "rank_fields bare string",
        {"documents": DICT_DOCS, "rank_fields": "title"},
        "rank_fields",
        TypeError,
    ),
    (
        "rank_fields non-string item",
        {"documents": DICT_DOCS, "rank_fields": ["title", 3]},
        "rank_fields[1]",
        TypeError,
    ),
    ("NaN in a document", {"documents": [{"x": math.nan}]}, "documents[0]['x']", ValueError),
    ("inf in a document", {"documents": [{"x": math.inf}]}, "documents[0]['x']", ValueError),
    (
        "-inf deep in a document",
        {"documents": [{"x": [1.0, {"y": -math.inf}]}]},
        "documents[0]['x'][1]['y']",
        ValueError,
    ),
    ("set in a document", {"documents": [{"x": {1, 2}}]}, "documents[0]['x']", TypeError),
    ("bytes in a document", {"documents": [{"x": b"raw"}]}, "documents[0]['x']", TypeError),
    ("object in a document", {"documents": [{"x": object()}]}, "documents[0]['x']", TypeError),
    ("non-str key", {"documents": [{"ok": 1}, {1: "int key"}]}, "documents[1]", TypeError),
    ("tuple key", {"documents": [{("a", "b"): 1}]}, "documents[0]", TypeError),
    ("lone surrogate in query", {"query": "bad \ud800 query"}, "query", ValueError),
    ("lone surrogate in model", {"model": "m\udfff"}, "model", ValueError),
    ("lone surrogate in a document", {"documents": ["ok", "x\udc00"]}, "documents[1]", ValueError),
    (
        "lone surrogate in a dict value",
        {"documents": [{"t": "\ud83d"}]},
        "documents[0]['t']",
        ValueError,
    ),
    ("lone surrogate in a key", {"documents": [{"\ud800": "v"}]}, "documents[0]", ValueError),
    ("nesting deeper than 64", {"documents": [_nested(100)]}, "nested", ValueError),
    ("nesting just over 64", {"documents": [_nested(64)]}, "nested", ValueError),
    ("NaN in a kwarg", {"temperature": math.nan}, "temperature", ValueError),
    ("set in a kwarg", {"labels": {"a"}}, "labels", TypeError),
    ("bytes in extra_body", {"extra_body": {"blob": b"x"}}, "blob", TypeError),
    ("bad per-request max_retries", {"max_retries": -1}, "max_retries", ValueError),
    ("lone surrogate in a kwarg name", {"x\udfff": 1}, "argument name", ValueError),
    ("lone surrogate in an extra_body key", {"extra_body": {"\ud800": 1}}, "argument", ValueError),
]


@pytest.mark.parametrize(
    ("overrides", "param", "kind"),
    [pytest.param(o, p, k, id=i) for i, o, p, k in BAD_ARGUMENTS],
)
def test_bad_argument_raises_before_sending(
    mode: Caller, overrides: dict[str, Any], param: str, kind: type[Exception]
) -> None:
    api = MockAPI()
    arguments: dict[str, Any] = {"model": MODEL, "query": "q", "documents": DOCS, **overrides}
    with pytest.raises(TogetherError) as info:
        mode.rerank(api, **arguments)
    exc = info.value
    assert api.calls == 0
    assert isinstance(exc, kind)
    assert isinstance(exc, InvalidArgumentError)
    assert param in str(exc)


def test_the_error_names_the_parameter_first() -> None:
    api = MockAPI()
    documents: Any = ["a", "b", 3]
    with api.client() as client, pytest.raises(InvalidArgumentTypeError) as info:
        client.rerank.create(model=MODEL, query="q", documents=documents)
    assert info.value.param == "documents[2]"
    assert str(info.value).startswith("documents[2]: ")


def test_deep_but_allowed_nesting_is_sent(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(api, model=MODEL, query="q", documents=[_nested(60)])
    assert api.calls == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"top_n": 100},  # above the number of documents: not an error
        {"top_n": 1},
        {"documents": [""]},
        {"query": ""},
        {"documents": [{}]},  # an empty object document is valid JSON
        {"documents": DICT_DOCS, "rank_fields": ["body"]},  # a field only one document has
        {"documents": [{"x": None, "y": [], "z": {}, "n": -0.0, "i": 10**30}]},
        {"documents": ["emoji 🎉 and astral \U0001d518"]},
    ],
)
def test_edge_values_that_are_valid(mode: Caller, overrides: dict[str, Any]) -> None:
    api = MockAPI()
    arguments: dict[str, Any] = {"model": MODEL, "query": "q", "documents": DOCS, **overrides}
    mode.rerank(api, **arguments)
    assert api.calls == 1


BAD_EMBEDDINGS: list[tuple[str, dict[str, Any], str, type[Exception]]] = [
    ("input empty list", {"input": []}, "input", ValueError),
    ("input None", {"input": None}, "input", TypeError),
    ("input int items", {"input": ["a", 1]}, "input[1]", TypeError),
    ("input surrogate", {"input": "\ud800"}, "input", ValueError),
    ("model empty", {"model": ""}, "model", ValueError),
    ("kwarg NaN", {"scale": math.inf}, "scale", ValueError),
]


@pytest.mark.parametrize(
    ("overrides", "param", "kind"),
    [pytest.param(o, p, k, id=i) for i, o, p, k in BAD_EMBEDDINGS],
)
def test_bad_embeddings_argument_raises_before_sending(
    mode: Caller, overrides: dict[str, Any], param: str, kind: type[Exception]
) -> None:
    api = MockAPI()
    with pytest.raises(TogetherError) as info:
        mode.embeddings(api, **{"model": "m", "input": ["x"], **overrides})
    assert api.calls == 0
    assert isinstance(info.value, kind)
    assert param in str(info.value)


def test_raw_mode_validates_too(mode: Caller) -> None:
    api = MockAPI()
    with pytest.raises(InvalidArgumentError, match="documents"):
        mode.rerank_raw(api, model=MODEL, query="q", documents=[])
    assert api.calls == 0
