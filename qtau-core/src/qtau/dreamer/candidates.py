"""A resource and a task as the ranking sees them, and every reason the one cannot take the other.

`Candidate` is a resource with its latest reports; `Shape` is what ranking needs of a task (plans
are cached per shape); `static_reasons` is QDREAMER's filter (`qtau.dreamer.ranking`): each
rejection keeps every reason that applies, so an explanation says all of them at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from qtau.dreamer.terms import gates_reason
from qtau.mitigation.overhead import Overhead
from qtau.resource_limits import reasons as limit_reasons
from qtau.types import CircuitSummary, CostEstimate, NoiseProfile, Resource, ResourceStatus


@attrs.define(slots=True)
class Candidate:
    """A resource with its latest reports, as the ranking sees it."""

    resource: Resource
    config: dict[str, Any]
    status: ResourceStatus | None
    noise: NoiseProfile | None
    cost: CostEstimate | None
    penalty: float = 1.0
    #: Reports the provider failed to give ("noise report failed: ..."): the candidate is rejected.
    failed_reports: str = ""
    #: This service's tasks in flight on the resource when its status was fetched: the provider's
    #: queue depth already counts those of them still queued (see `provider_wait`).
    in_flight_at_report: int = 0


def same_but_queues(old: Sequence[Candidate], new: Sequence[Candidate]) -> bool:
    """Whether two snapshots' candidates differ at most in their queues: the common case of a
    status refresh, after which a plan's fidelity, price and feasibility still hold."""
    if len(old) != len(new):
        return False
    for a, b in zip(old, new, strict=True):
        if (a.resource != b.resource or a.config != b.config or a.noise != b.noise or a.cost != b.cost
                or a.penalty != b.penalty or a.failed_reports != b.failed_reports):
            return False
        online_a = a.status is None or a.status.online
        online_b = b.status is None or b.status.online
        if online_a != online_b or (not online_a and a.status.message != b.status.message):
            return False
    return True


@attrs.frozen
class Shape:
    """What ranking needs to know about a task; plans are cached per shape."""

    summary: CircuitSummary
    circuit_format: str | None
    gates: tuple[str, ...]
    width: int
    shots: int
    max_cost: float | None = None
    min_fidelity: float | None = None
    #: The task's resource_config['memory'] (bytes): a limit on a local simulator's run.
    memory: int | None = None
    #: Error mitigation's (circuits, shots multiplier): priced and timed in (qtau.mitigation).
    overhead: tuple[int, float] = (1, 1.0)
    #: The same once its readout calibration is cached or shared (`calibrated_price`).
    calibrated: tuple[int, float] = (1, 1.0)


def price_of(cand: Candidate, shape: Shape, overhead: tuple[int, float]) -> float:
    """The candidate's price for the task of `shape` running `overhead` (circuits, shots
    multiplier): each circuit with its share of the shots."""
    return Overhead(*overhead).price(cand.cost, shape.shots, shape.summary) if cand.cost else 0.0


def calibrated_price(cand: Candidate, shape: Shape) -> float | None:
    """The price when the task's readout calibration runs for nothing (None: no calibration)."""
    return None if shape.calibrated == shape.overhead else price_of(cand, shape, shape.calibrated)


def noise_note(cand: Candidate) -> str:
    """Calibration data the plugin distrusted and left out of the fidelity estimate."""
    if cand.noise is None or not cand.noise.flags:
        return ""
    return "noise data flagged: " + "; ".join(cand.noise.flags)


def static_reasons(cand: Candidate, shape: Shape, path: tuple[str, ...] | None, fid: float, price: float,
                   hint: str = "") -> str:
    """Every reason this candidate cannot take the task, joined; empty when it can."""
    res = cand.resource
    why = []
    if cand.failed_reports:
        why.append(cand.failed_reports)
    if res.num_qubits < shape.width:
        why.append(f"needs {shape.width} qubits, has {res.num_qubits}")
    why.extend(limit_reasons(res.metadata, shape.width, shape.shots, shape.memory))
    if cand.status is not None and not cand.status.online:
        why.append(f"offline: {cand.status.message or 'reported by provider'}")
    if path is None:
        why.append(f"no conversion path from {shape.circuit_format} to {', '.join(res.circuit_formats) or 'its formats'}"
                   + (f" ({hint})" if hint else ""))
    if path is not None and len(path) > 1 and shape.summary.returns_values:
        why.append(f"the circuit returns values (expectation values, probabilities, samples) that converting it "
                   f"to {path[-1]} drops; a resource that reads {path[0]} computes them")
    if shape.summary.mid_circuit_measurement and not res.supports_mid_circuit_measurement:
        why.append("cannot run mid-circuit measurement")
    if shape.summary.classical_control and (not res.supports_mid_circuit_measurement
                                            or res.metadata.get("classical_control") is False):
        why.append("cannot run classically controlled operations")
    if shape.summary.gate_counts.get("reset") and not res.supports_mid_circuit_measurement:
        # Counted only after the qubit's first use (a fresh qubit's reset does nothing): it
        # measures and flips mid-circuit, and a path that cannot would drop it (Braket's reader).
        why.append("cannot reset a qubit mid-circuit")
    gates = gates_reason(res, shape.gates)
    if gates:
        why.append(gates)
    if shape.max_cost is not None and price > shape.max_cost:
        currency = cand.cost.currency if cand.cost else "USD"
        why.append(f"costs {price:.4g} {currency}, over max_cost {shape.max_cost:g}")
    if shape.min_fidelity is not None and fid < shape.min_fidelity:
        why.append(f"estimated fidelity {fid:.3f} below min_fidelity {shape.min_fidelity:g}")
    return "; ".join(why)
