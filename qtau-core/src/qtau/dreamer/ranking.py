"""Filtering and scoring of candidate resources for one task: the arithmetic of QDREAMER.

Filter (each rejection keeps its reason): enough qubits; the task's gates native or reachable by
the resource's transpiler; a circuit-format path; online; within `max_cost`; at or above
`min_fidelity`; done before `deadline`.

Score of a feasible candidate, each term normalised to [0, 1] over the feasible set:
- fidelity: the noise profile applied to the circuit's gate counts and readouts;
- speed: best expected completion / this one's, where expected completion = provider queue wait
  + this service's in-flight tasks on the resource x estimated run time + estimated run time;
- cost: cheapest / this one's price (1 when everything is free).
score = w_fidelity*fidelity + w_speed*speed + w_cost*cost, times a penalty while the resource
cools down from a recent failure. Ties go to the resource with less in-flight work.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

from qtau.gates import DIRECTIVES, STANDARD_GATES, arity
from qtau.types import (
    CircuitSummary,
    CostEstimate,
    NoiseProfile,
    QuantumTask,
    Resource,
    ResourceStatus,
)


@attrs.frozen
class Row:
    """One candidate in an explanation: every term QDREAMER weighed, and why it was rejected."""

    resource_id: str
    executor: str
    feasible: bool
    reason: str
    fidelity: float
    wait_s: float
    cost: float
    score: float
    in_flight: int = 0
    path: tuple[str, ...] = ()
    currency: str = "USD"


def run_seconds(resource: Resource, shots: int) -> float:
    """Estimated run time of one task: plugin-reported timing, else a simulator/QPU default."""
    meta = resource.metadata
    sim = resource.kind == "simulator"
    per_task = float(meta.get("seconds_per_task", 0.002 if sim else 2.0))
    per_shot = float(meta.get("seconds_per_shot", 1e-6 if sim else 1e-3))
    return per_task + per_shot * shots


def gates_reason(resource: Resource, gates: Sequence[str]) -> str:
    if resource.transpiles:
        unknown = [g for g in gates if g not in STANDARD_GATES and g not in resource.native_gates]
        if unknown:
            return f"gates {', '.join(unknown)} are not standard gates its transpiler can reach"
        return ""
    missing = [g for g in gates if g not in resource.native_gates and g not in DIRECTIVES]
    if missing:
        return f"gates {', '.join(missing)} are not native ({', '.join(resource.native_gates)}) and it does not transpile"
    return ""


def fidelity(noise: NoiseProfile | None, summary: CircuitSummary) -> float:
    if noise is None:
        return 1.0
    if noise.gate_errors:
        return noise.estimate_fidelity(summary)
    # Fast path: per-class error rates, one exp per candidate.
    n1 = n2 = 0
    for gate, count in summary.gate_counts.items():
        if gate in DIRECTIVES:
            continue
        if arity(gate) >= 2:
            n2 += count
        else:
            n1 += count
    reads = summary.num_measured or summary.num_qubits
    clamp = lambda e: min(max(e, 0.0), 0.999999)  # noqa: E731
    return math.exp(
        n1 * math.log1p(-clamp(noise.one_qubit_error))
        + n2 * math.log1p(-clamp(noise.two_qubit_error))
        + reads * math.log1p(-clamp(noise.readout_error))
    )


@attrs.define
class Candidate:
    """A resource with its latest reports, as the ranking sees it."""

    resource: Resource
    status: ResourceStatus | None
    noise: NoiseProfile | None
    cost: CostEstimate | None
    in_flight: int
    penalty: float
    path: tuple[str, ...] | None


def rank(
    task: QuantumTask, summary: CircuitSummary, candidates: Sequence[Candidate], weights: dict[str, float],
) -> list[Row]:
    """Rows best first: feasible ones by score, then rejected ones with their reasons."""
    gates = tuple(g for g in (set(summary.gate_counts) | set(task.gate_set)))
    width = max(summary.num_qubits, task.num_qubits or 0)
    pre: list[tuple[Candidate, str, float, float, float]] = []
    for cand in candidates:
        res = cand.resource
        fid = fidelity(cand.noise, summary)
        run_s = run_seconds(res, task.shots)
        queue_s = cand.status.estimated_wait_s if cand.status else 0.0
        wait = queue_s + cand.in_flight * run_s + run_s
        price = cand.cost.total(task.shots) if cand.cost else 0.0
        reason = ""
        if res.num_qubits < width:
            reason = f"needs {width} qubits, has {res.num_qubits}"
        elif cand.status is not None and not cand.status.online:
            reason = f"offline: {cand.status.message or 'reported by provider'}"
        elif cand.path is None:
            reason = f"no conversion path to {', '.join(res.circuit_formats) or 'its formats'}"
        elif summary.mid_circuit_measurement and not res.supports_mid_circuit_measurement:
            reason = "cannot run mid-circuit measurement"
        else:
            reason = gates_reason(res, gates)
        if not reason and task.max_cost is not None and price > task.max_cost:
            reason = f"costs {price:.4g} {cand.cost.currency}, over max_cost {task.max_cost:g}"
        if not reason and task.min_fidelity is not None and fid < task.min_fidelity:
            reason = f"estimated fidelity {fid:.3f} below min_fidelity {task.min_fidelity:g}"
        if not reason and task.deadline is not None and wait > task.deadline:
            reason = f"expected completion {wait:.3g} s is past the deadline of {task.deadline:g} s"
        pre.append((cand, reason, fid, wait, price))
    feasible = [p for p in pre if not p[1]]
    best_wait = min((p[3] for p in feasible), default=0.0)
    best_cost = min((p[4] for p in feasible), default=0.0)
    best_fid = max((p[2] for p in feasible), default=1.0) or 1.0
    wf, ws, wc = weights.get("fidelity", 0.0), weights.get("speed", 0.0), weights.get("cost", 0.0)
    rows = []
    for cand, reason, fid, wait, price in pre:
        score = 0.0
        if not reason:
            speed = best_wait / wait if wait > 0 else 1.0
            cheap = best_cost / price if price > 0 else 1.0
            score = (wf * fid / best_fid + ws * speed + wc * cheap) * cand.penalty
        rows.append(
            Row(
                cand.resource.id, cand.resource.executor, not reason, reason or "ok", fid, wait, price,
                score, cand.in_flight, cand.path or (), cand.cost.currency if cand.cost else "USD",
            )
        )
    rows.sort(key=lambda r: (not r.feasible, -round(r.score, 9), r.in_flight))
    return rows
