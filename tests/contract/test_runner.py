"""How properties are run: explored together, each violation shrunk alone, time-bounded.

No server here: toy properties over integers make the runner's promises visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import strategies as st

from together_rerank.contract import Level, Status
from together_rerank.contract.properties import Outcome, Property, Violation
from together_rerank.contract.runner import RunLimits, run_properties

LIMITS = RunLimits(max_examples=50, seed=1)
INTEGER_LISTS = st.lists(st.integers(min_value=0, max_value=1000))


def toy(
    name: str,
    check: Callable[[list[int]], Outcome],
    strategy: st.SearchStrategy[list[int]] = INTEGER_LISTS,
) -> Property[list[int]]:
    return Property(name, Level.SEMANTIC, f"toy property {name}", strategy, check)


def sum_below(limit: int) -> Callable[[list[int]], Outcome]:
    def check(values: list[int]) -> Outcome:
        if sum(values) >= limit:
            raise Violation(f"sum {sum(values)} >= {limit}", {"values": values})
        return Outcome.HELD

    return check


def test_a_violation_is_reported_with_its_smallest_example() -> None:
    (result,) = run_properties([toy("small_sum", sum_below(100))], LIMITS)
    assert result.status is Status.FAIL
    assert result.example == {"values": [100]}
    assert result.message == "sum 100 >= 100"
    assert result.shrunk


def test_a_property_that_holds_passes_on_every_example() -> None:
    (result,) = run_properties([toy("tiny_values", sum_below(10**9))], LIMITS)
    assert result.status is Status.PASS
    assert result.examples == result.checked == LIMITS.max_examples
    assert result.example is None
    assert result.message is None


def test_examples_a_property_says_nothing_about_are_counted_apart() -> None:
    def only_long_lists(values: list[int]) -> Outcome:
        return Outcome.HELD if len(values) > 1 else Outcome.UNCHECKED

    (result,) = run_properties([toy("long_lists", only_long_lists)], LIMITS)
    assert result.status is Status.PASS
    assert 0 < result.checked < result.examples


def test_a_property_never_checked_is_skipped_not_passed() -> None:
    (result,) = run_properties([toy("never", lambda values: Outcome.UNCHECKED)], LIMITS)
    assert result.status is Status.SKIP
    assert result.checked == 0
    assert result.message is not None
    assert "no example could be checked" in result.message


def test_properties_of_one_strategy_are_explored_on_the_same_examples() -> None:
    seen: dict[str, list[list[int]]] = {"a": [], "b": []}

    def recording(name: str) -> Callable[[list[int]], Outcome]:
        def check(values: list[int]) -> Outcome:
            seen[name].append(values)
            return Outcome.HELD

        return check

    results = run_properties([toy("a", recording("a")), toy("b", recording("b"))], LIMITS)
    assert [r.status for r in results] == [Status.PASS, Status.PASS]
    assert seen["a"] == seen["b"]
    assert len(seen["a"]) == LIMITS.max_examples


def test_each_violated_property_is_shrunk_on_its_own() -> None:
    results = run_properties(
        [toy("sum_below_100", sum_below(100)), toy("sum_below_500", sum_below(500))], LIMITS
    )
    assert [r.example for r in results] == [{"values": [100]}, {"values": [500]}]


def test_properties_of_different_strategies_cannot_share_a_run() -> None:
    other = st.lists(st.integers())
    with pytest.raises(ValueError, match="one strategy"):
        run_properties([toy("a", sum_below(1)), toy("b", sum_below(1), other)], LIMITS)


def test_replays_while_shrinking_do_not_check_an_example_again() -> None:
    calls: list[str] = []

    def counting(values: list[int]) -> Outcome:
        calls.append(repr(values))
        return sum_below(100)(values)

    run_properties([toy("p", counting)], LIMITS)
    # At most once while exploring and once in the property's own shrinking run.
    assert max(calls.count(call) for call in calls) <= 2


def test_the_same_seed_finds_the_same_smallest_example() -> None:
    def first_even(values: list[int]) -> Outcome:
        if any(value % 2 == 0 and value > 10 for value in values):
            raise Violation("an even value above 10", {"values": values})
        return Outcome.HELD

    runs = [run_properties([toy("p", first_even)], LIMITS)[0] for _ in range(2)]
    assert runs[0].example == runs[1].example == {"values": [12]}


def test_shrinking_stops_after_its_budget_of_examples() -> None:
    limits = RunLimits(max_examples=50, seed=1, shrink_checks=3)
    (result,) = run_properties([toy("small_sum", sum_below(100))], limits)
    assert result.status is Status.FAIL
    assert not result.shrunk
    assert result.example is not None
    assert sum(result.example["values"]) >= 100
    again = run_properties([toy("small_sum", sum_below(100))], limits)[0]
    assert again.example == result.example, "a budget of examples keeps runs reproducible"


def test_shrinking_stops_when_its_time_budget_is_spent() -> None:
    def ticking() -> Iterator[float]:
        now = 0.0
        while True:
            yield now
            now += 1.0

    clock = ticking().__next__
    limits = RunLimits(max_examples=50, seed=1, shrink_seconds=2.0)
    (result,) = run_properties([toy("small_sum", sum_below(100))], limits, clock=clock)
    assert result.status is Status.FAIL
    assert not result.shrunk
    assert result.example is not None
    assert sum(result.example["values"]) >= 100


def test_a_violation_that_does_not_recur_is_still_reported() -> None:
    fired: list[bool] = []

    def once(values: list[int]) -> Outcome:
        if not fired and len(values) > 2:
            fired.append(True)
            raise Violation("seen once", {"values": values})
        return Outcome.HELD

    (result,) = run_properties([toy("flaky", once)], LIMITS)
    assert result.status is Status.FAIL
    assert result.message == "seen once"
    assert not result.shrunk
