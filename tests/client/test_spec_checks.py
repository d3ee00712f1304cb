"""`passes`, the spec checks' fast path: it may say "look closer", never pass a violation.

As for its callers, a value of None is a field not set (it is not sent).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.spec_constants import LIMIT_KEYWORDS
from together_rerank import _spec, _spec_checks
from together_rerank._spec_checks import find_violations, passes

JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")
# Every key `_spec.REQUEST_FIELDS` can hold: the generator's keywords, also for array items.
LIMIT_KEYS = (*LIMIT_KEYWORDS, *(f"items.{key}" for key in LIMIT_KEYWORDS))


class Text(str):
    """A str subclass: JSON text to the full check, not an exact type to the fast one."""


limits = st.dictionaries(
    st.sampled_from(LIMIT_KEYS),
    st.integers(-3, 6).map(float) | st.floats(-3, 6, allow_nan=False),
    max_size=4,
)
fields = st.dictionaries(
    st.sampled_from(("a", "b", "c")),
    st.tuples(
        st.lists(st.sampled_from(JSON_TYPES), max_size=3, unique=True).map(tuple),
        st.booleans(),
        limits,
    ),
    min_size=1,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-5, 8)
    | st.floats(-5, 8)
    | st.sampled_from([math.inf, -math.inf, math.nan, 1.0, 0.0])
    | st.text(max_size=7)
    | st.text(max_size=7).map(Text)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=7)
        | st.lists(inner, max_size=7).map(tuple)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


@contextmanager
def schema(name: str, spec: dict[str, Any]) -> Iterator[None]:
    """`spec` as one more request schema, for the duration."""
    fields: dict[str, Any] = _spec.REQUEST_FIELDS
    fields[name] = spec
    _spec_checks._rules.cache_clear()
    try:
        yield
    finally:
        del fields[name]
        _spec_checks._rules.cache_clear()


@settings(max_examples=1500, deadline=None)
@given(
    spec=fields,
    given_values=st.dictionaries(st.sampled_from(("a", "b", "c", "d")), values, max_size=4),
)
def test_passes_only_what_find_violations_finds_nothing_in(
    spec: dict[str, Any], given_values: dict[str, object]
) -> None:
    with schema("Synthetic", spec):
        if passes("Synthetic", given_values):
            sent = {name: value for name, value in given_values.items() if value is not None}
            assert list(find_violations("Synthetic", sent)) == []


def test_a_typical_valid_rerank_request_takes_the_fast_path() -> None:
    request = {"model": "m", "query": "q", "documents": ["a", "b"], "top_n": 1}
    assert passes("RerankRequest", request)
    assert passes("EmbeddingsRequest", {"model": "m", "input": ["x"]})


def test_each_broken_limit_sends_the_request_to_the_full_check() -> None:
    cases: list[dict[str, object]] = [
        {"model": ""},
        {"documents": []},
        {"top_n": 0},
        {"top_n": True},
        {"top_n": 1.0},
        {"query": Text("q")},
    ]
    for broken in cases:
        request = {"model": "m", "query": "q", "documents": ["a"], **broken}
        assert not passes("RerankRequest", request), broken


def test_exclusive_bounds_refuse_the_bound_itself() -> None:
    with schema("Bounded", {"x": (("number",), False, {"exclusiveMinimum": 0.0})}):
        assert not passes("Bounded", {"x": 0})
        assert passes("Bounded", {"x": 0.5})
        assert list(find_violations("Bounded", {"x": 0}))
