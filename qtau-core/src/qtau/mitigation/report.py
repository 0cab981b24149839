"""Reading a mitigated Result: the report its metadata carries and expectation values from it."""

from __future__ import annotations

from typing import Any

from qtau.mitigation.distributions import z_expectation
from qtau.types import Result


def report(result: Result) -> dict[str, Any] | None:
    """The mitigation report of a result (None when the task ran without mitigation)."""
    return result.metadata.get("mitigation")


def expectation(result: Result, pauli: str | int) -> tuple[float, float]:
    """(mitigated, unmitigated) <Z_S> of a counts result: `pauli` is a Z/I label with bit 0
    rightmost ("ZZI") or an int mask. Without mitigation both are the counts' value."""
    raw = z_expectation(result.counts, pauli)
    found = report(result)
    if not found:
        return raw, raw
    return z_expectation(found["quasi_probabilities"], pauli), raw
