"""Running properties with Hypothesis: explore, then shrink each violation.

Properties that draw from the same strategy are explored together: one
Hypothesis run generates up to `max_examples` examples and checks every
property on each (requests are cached by the properties' senders, so they
share answers). Each property that was violated then gets a run of its own,
with the same seed, that stops at its first violation and shrinks it.

Each example's outcome is remembered by its key, so replays while shrinking
cannot disagree with the first answer (a flaky server still gets the example
that showed the violation reported). Shrinking is bounded by a number of new
examples (and, as a safety net, by time): once the budget is spent, the run
stops and the smallest failure found so far is reported, marked as not fully
shrunk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Flaky, Unsatisfiable
from hypothesis.strategies import SearchStrategy

from .properties import Outcome, Property, Violation
from .report import PropertyResult, Status

__all__ = ["RunLimits", "run_properties"]

X = TypeVar("X")


@dataclass(frozen=True)
class RunLimits:
    """How hard to look: examples per property, the seed, and the shrinking budget.

    Shrinking stops after `shrink_checks` new examples, which keeps a seeded run
    reproducible, or after `shrink_seconds`, a safety net for slow servers (a
    run cut short by time may not repeat exactly).
    """

    max_examples: int
    seed: int
    shrink_checks: int = 100
    shrink_seconds: float = 60.0


@dataclass
class _Tally:
    examples: int = 0
    checked: int = 0
    violation: Violation | None = None


class _Failed(Exception):
    """Raised inside the Hypothesis test when an example violates the property."""


class _BudgetSpent(BaseException):
    """Ends a shrinking run whose budget (examples or time) is spent.

    A BaseException, like KeyboardInterrupt, so that Hypothesis lets it through
    instead of taking it for another failure to shrink.
    """


def _hypothesis_run(
    strategy: SearchStrategy[Any],
    test: Callable[[Any], None],
    limits: RunLimits,
    *,
    shrink: bool,
) -> Callable[[], None]:
    phases = (Phase.generate, Phase.shrink) if shrink else (Phase.generate,)
    configured = settings(
        max_examples=limits.max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )
    run: Callable[[], None] = configured(seed(limits.seed)(given(strategy)(test)))
    return run


def run_properties(
    props: Sequence[Property[X]],
    limits: RunLimits,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> list[PropertyResult]:
    """Check properties that share one strategy; shrink the first violation of each."""
    if not props:
        return []
    strategy = props[0].strategy
    if any(prop.strategy is not strategy for prop in props):
        raise ValueError("run_properties needs properties drawing from one strategy")
    tallies = [_Tally() for _ in props]

    def explore(example: X) -> None:
        for prop, tally in zip(props, tallies, strict=True):
            if tally.violation is not None:
                continue
            tally.examples += 1
            try:
                outcome = prop.check(example)
            except Violation as violation:
                tally.violation = violation
                outcome = Outcome.HELD  # it was checked
            tally.checked += outcome is not Outcome.UNCHECKED

    try:
        _hypothesis_run(strategy, explore, limits, shrink=False)()
    except Unsatisfiable:
        return [
            _result(prop, _Tally(), Status.SKIP, "no example could be generated") for prop in props
        ]

    results = []
    for prop, tally in zip(props, tallies, strict=True):
        if tally.violation is None:
            if tally.checked == 0:
                results.append(_result(prop, tally, Status.SKIP, prop.unchecked))
            else:
                results.append(_result(prop, tally, Status.PASS))
            continue
        shrunk = _shrink(prop, limits, clock)
        if shrunk is None:
            # The violation did not show again (a server that answers differently
            # each time): report the example that showed it, as found.
            results.append(_result(prop, tally, Status.FAIL, shrunk=False))
        else:
            violation, complete = shrunk
            tally.violation = violation
            results.append(_result(prop, tally, Status.FAIL, shrunk=complete))
    return results


def _shrink(
    prop: Property[X], limits: RunLimits, clock: Callable[[], float]
) -> tuple[Violation, bool] | None:
    """Find `prop`'s first violation again and shrink it; None when it does not recur."""
    outcomes: dict[str, Outcome | Violation] = {}
    last: list[Violation] = []
    # When the violation was first seen: (clock, examples checked until then).
    found: list[tuple[float, int]] = []

    def test(example: X) -> None:
        key = prop.key(example)
        outcome = outcomes.get(key)
        if outcome is None:
            if found and (
                len(outcomes) - found[0][1] >= limits.shrink_checks
                or clock() - found[0][0] > limits.shrink_seconds
            ):
                raise _BudgetSpent
            try:
                outcome = prop.check(example)
            except Violation as violation:
                outcome = violation
            outcomes[key] = outcome
        if isinstance(outcome, Violation):
            if not found:
                found.append((clock(), len(outcomes)))
            # Hypothesis replays the smallest failing example last.
            last.append(outcome)
            raise _Failed

    try:
        _hypothesis_run(prop.strategy, test, limits, shrink=True)()
    except (_Failed, Flaky):
        pass
    except _BudgetSpent:
        return last[-1], False
    if not last:
        return None
    return last[-1], True


def _result(
    prop: Property[Any],
    tally: _Tally,
    status: Status,
    message: str | None = None,
    *,
    shrunk: bool = True,
) -> PropertyResult:
    violation = tally.violation
    if message is None and violation is not None:
        message = violation.message
    return PropertyResult(
        name=prop.name,
        level=prop.level,
        summary=prop.summary,
        status=status,
        examples=tally.examples,
        checked=tally.checked,
        message=message,
        example=violation.evidence if violation is not None else None,
        shrunk=shrunk,
        impact=violation.impact if violation is not None else None,
    )
