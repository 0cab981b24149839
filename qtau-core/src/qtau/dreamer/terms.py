"""The terms of a candidate's score, and the run-time figures they start from.

The arithmetic `qtau.dreamer.ranking` describes, one function per term: a task's run time from its
plugin's figures (`run_seconds`, the prior `dreamer.runtime_model` replaces once it has
observations), the fidelity a noise profile gives a circuit, the units each term puts a candidate
behind the best one (halvings of fidelity, doublings of completion time and price), and the waits
that make up an expected completion (`provider_wait`, `serial_wait`). Plain functions of numbers
and reports, so the explanation plot and the benchmarks compute exactly what ranking does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from qtau.gates import DIRECTIVES, STANDARD_GATES, arity
from qtau.qasm3 import BRAKET_GATES
from qtau.types import CircuitSummary, CostEstimate, NoiseProfile, Resource, ResourceStatus


def run_seconds(resource: Resource, shots: int, summary: CircuitSummary | None = None) -> float:
    """Estimated run time of one task: plugin-reported timing, else a simulator/QPU default.

    On a QPU whose plugin reports gate durations (`metadata["gate_seconds"]`, as
    `CostEstimate.gate_seconds`), every shot also lasts the circuit's own duration: on a trapped-ion
    QPU (two-qubit gates of ~600 us) a deep circuit runs for minutes where the per-shot default
    says seconds, and on IBM's devices it adds to the repetition delay (IBM's run-time baseline).
    A simulator whose plugin reports `seconds_per_amplitude_gate` and `state_base` (2 for a state
    vector, 4 for a density matrix) also spends that long per gate on each of the
    state_base ** qubits amplitudes of the state it simulates.
    """
    meta = resource.metadata
    sim = resource.kind == "simulator"
    per_task = float(meta.get("seconds_per_task", 0.002 if sim else 2.0))
    per_shot = float(meta.get("seconds_per_shot", 1e-6 if sim else 1e-3))
    if summary is not None:
        gate_seconds = meta.get("gate_seconds") if resource.kind == "qpu" else None
        if gate_seconds:
            per_shot += CostEstimate(resource.id, gate_seconds=gate_seconds).circuit_seconds(summary)
        amplitude_s = meta.get("seconds_per_amplitude_gate") if sim else None
        if amplitude_s:
            gates = sum(n for g, n in summary.gate_counts.items() if g not in DIRECTIVES)
            per_task += float(amplitude_s) * float(meta.get("state_base", 2)) ** summary.num_qubits * gates
    return per_task + per_shot * shots


def gates_reason(resource: Resource, gates: Sequence[str]) -> str:
    """Why the task's gates keep it off `resource`, or "" when they do not.

    The names come from the circuit's summary, in which every composite or library gate has
    already been replaced by the gates of its definition (Qiskit's `definition`, an OpenQASM
    `gate` body, a PennyLane decomposition): a name still here is a standard gate, one the
    resource lists as native, or a gate with no definition (an OpenQASM `opaque` gate, an SDK
    instruction without a decomposition, a name in the task's `gate_set`). A transpiling resource
    reaches every standard gate, and Braket's gates that `qtau.qasm3.BRAKET_GATES` writes in them
    (gpi, ms, xy...: a Braket summary names them as Braket does, so that a device running them
    natively takes them); one that does not transpile takes only its native gates.
    """
    if resource.transpiles:
        unknown = [g for g in gates if g not in STANDARD_GATES and g not in resource.native_gates
                   and g not in BRAKET_GATES]
        if unknown:
            many = len(unknown) > 1
            return (f"gate{'s' if many else ''} {', '.join(unknown)} {'have' if many else 'has'} no definition "
                    f"and {'are' if many else 'is'} not native to {resource.id}")
        return ""
    missing = [g for g in gates if g not in resource.native_gates and g not in DIRECTIVES]
    if missing:
        return f"gates {', '.join(missing)} are not native ({', '.join(resource.native_gates)}) and it does not transpile"
    return ""


def fidelity(noise: NoiseProfile | None, summary: CircuitSummary) -> float:
    """Probability that no gate or readout error happens (1 when no noise profile is known)."""
    if noise is None:
        return 1.0
    if noise.gate_errors:
        return noise.estimate_fidelity(summary)
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


#: Fidelity (absolute: share of error-free shots) below the best candidate that halves the
#: fidelity term: as much as a doubled completion time or price at equal weights of the terms.
FIDELITY_STEP = 0.02
#: Seconds added to every expected completion before comparing them: 2 ms against 20 ms is no
#: tenfold wait to a user, while the order (and so load balancing by speed) stays as it was.
SPEED_OFFSET_S = 1.0
#: A free candidate counts as costing this share of the cheapest priced candidate (one halving).
FREE_SHARE = 0.5


def fidelity_units(fid: float, best: float) -> float:
    """Halvings of the fidelity term behind the best candidate: log2(1 + points below it / FIDELITY_STEP)."""
    return math.log2(1.0 + max(best - fid, 0.0) / FIDELITY_STEP)


def speed_units(wait: float, fastest: float) -> float:
    """Doublings of expected completion over the fastest candidate's (both plus SPEED_OFFSET_S)."""
    return max(math.log2((max(wait, 0.0) + SPEED_OFFSET_S) / (max(fastest, 0.0) + SPEED_OFFSET_S)), 0.0)


def cheapest_price(prices: Sequence[float]) -> float:
    """The price `cost_units` compares with: the lowest of `prices`, a free one counting as
    FREE_SHARE of the cheapest priced one (0 when every one is free)."""
    paid = [p for p in prices if p > 0]
    if not paid:
        return 0.0
    return min(paid) * (FREE_SHARE if len(paid) < len(prices) else 1.0)


def cost_units(price: float, cheapest: float) -> float:
    """Doublings of `price` over `cheapest` (from `cheapest_price`)."""
    if price <= cheapest or cheapest <= 0:
        return 0.0
    return math.log2(price / cheapest)


def serial_wait(queue: float, in_flight: int, run: float, ahead: float | None = None) -> float:
    """Expected completion of a task on a resource that runs this service's tasks one after
    another, with `in_flight` of them there and `queue` seconds of other users' work reported:
    queue + a run time per task ahead + its own. `ahead`: seconds until the last task ahead is
    expected to complete (`Lateness.ahead`), known from when each was expected to complete at its
    placement; the task then waits for that or for the reported queue, whichever is longer. The
    first task ahead has been running for a while, so a full run time for each overstated the
    wait for most tasks placed behind others (benchmarks/scheduling.py: early by more than 20%
    for about one task in six)."""
    if in_flight and ahead is not None:
        return max(queue, ahead) + run
    return queue + (in_flight + 1) * run


def provider_wait(status: ResourceStatus | None, in_flight_at_report: int = 0) -> float:
    """The provider queue's wait for other users' work, as reported.

    The queue depth counts this service's own queued tasks too, which the speed term adds again
    as in-flight work: counted twice, at the provider's per-job rate (30 s a job for IBM) instead
    of their own run time, a resource QDREAMER had just sent a burst to looked many times worse
    than it was until its next status report. So the share of the reported wait that is ours,
    min(in-flight at report, depth) of `depth` jobs, is taken out. A status without a depth
    (queue_depth 0 with a wait) is used as given.
    """
    if status is None:
        return 0.0
    wait = status.estimated_wait_s
    depth = status.queue_depth
    if depth > 0 and in_flight_at_report > 0:
        wait *= (depth - min(in_flight_at_report, depth)) / depth
    return wait
