"""Reading a mitigated Result: the report its metadata carries and expectation values from it."""

from __future__ import annotations

from typing import Any

from qtau.mitigation.distributions import (
    nearest_probabilities,
    rounded_counts,
    width_of,
    z_expectation,
    z_mask,
)
from qtau.types import Result


def report(result: Result) -> dict[str, Any] | None:
    """The mitigation report of a result (None when the task ran without mitigation)."""
    return result.metadata.get("mitigation")


def expectation(result: Result, pauli: str | int) -> tuple[float, float]:
    """(mitigated, unmitigated) <Z_S> of a counts result: `pauli` is a Z/I label with bit 0
    rightmost ("ZZI"), one letter per bit of the counts, or an int mask of them (`z_mask`: anything
    else, an X or Y included, is an InvalidArgumentError). Without mitigation both are the counts' value."""
    pauli = z_mask(pauli, width_of(result.counts) if result.counts else None)
    raw = z_expectation(result.counts, pauli)
    found = report(result)
    if not found:
        return raw, raw
    return z_expectation(found["quasi_probabilities"], pauli), raw


def mitigated_counts(result: Result) -> dict[str, int]:
    """Counts (summing to the task's shots) whose shares are the probability distribution nearest
    to the mitigated quasi-probabilities: for code that reads samples or counts (PennyLane's
    post-processing). The result's own counts when it ran without mitigation."""
    found = report(result)
    if not found:
        return dict(result.counts)
    return rounded_counts(nearest_probabilities(found["quasi_probabilities"]), sum(result.counts.values()))
