"""Circuit-cutting plans: how many gate cuts split a circuit into fragments that fit given devices.

QDREAMER plans and runs cut circuits itself (`qtau.cutting`, docs/cutting.md). This module answers
Pilot-Quantum's `get_cut_plan` from the same cut search (`qtau.cut_search`, qiskit-addon-cutting's
cut finder): the cheapest gate cuts (sampling overhead) whose fragments fit a device width. Qiskit and the
add-on are imported only when a plan is asked for; without the add-on the error names the package.

The plan is a plain dict with Pilot-Quantum's keys: `number_of_cuts`, `selected_cuts`,
`total_overhead`, `fragments` (lists of qubit names `q<i>`), `qpu_assignment` ({device number:
qubit names}), `parallelism_score`, `quality_score` and `notes`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from qtau.cut_search import find_cuts
from qtau.errors import ConfigurationError, InvalidTaskError

#: Tolerance on device capacities Pilot-Quantum applied (transpilation may shrink a fragment).
CAPACITY_TOLERANCE = 1.2


def _require_addon() -> Any:
    try:
        from qiskit_addon_cutting import automated_cut_finding
    except ImportError as err:
        raise ConfigurationError(
            "a cut plan needs qiskit-addon-cutting, which is not installed", field="get_cut_plan",
            value=None, fix="pip install qiskit-addon-cutting (or qtau-core[cutting])",
        ) from err
    return automated_cut_finding


def _check_counts(qpus_count: Any, qpu_capacities: Sequence[int] | None, max_overhead: Any) -> None:
    if isinstance(qpus_count, bool) or not isinstance(qpus_count, int) or qpus_count < 1:
        raise InvalidTaskError("qpus_count must be a positive integer", field="qpus_count", value=qpus_count,
                               fix="pass how many devices the fragments may run on, e.g. 2")
    if qpu_capacities is not None and (
            not qpu_capacities or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in qpu_capacities)):
        raise InvalidTaskError("qpu_capacities must be a list of positive qubit counts", field="qpu_capacities",
                               value=qpu_capacities, fix="pass e.g. qpu_capacities=[8, 8], or leave it out")
    if max_overhead is not None and (not isinstance(max_overhead, (int, float)) or max_overhead < 1):
        raise InvalidTaskError("max_overhead must be a number of at least 1", field="max_overhead",
                               value=max_overhead, fix="pass e.g. max_overhead=1e3, or leave it out")


def _two_qubit_pairs(circuit: Any, skip: set[int]) -> list[tuple[int, int]]:
    pairs = []
    for index, inst in enumerate(circuit.data):
        if index in skip or inst.operation.name == "barrier" or len(inst.qubits) != 2:
            continue
        a, b = (circuit.find_bit(q).index for q in inst.qubits)
        pairs.append((a, b))
    return pairs


def _fragments(n: int, pairs: list[tuple[int, int]], active: set[int]) -> list[list[str]]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[int, list[str]] = {}
    for q in sorted(active):
        groups.setdefault(find(q), []).append(f"q{q}")
    return list(groups.values())


def _assign(fragments: list[list[str]], capacities: Sequence[int]) -> dict[int, list[str]] | None:
    """First-fit, largest fragment first: {device number (1-based): its qubits}, or None."""
    left = list(capacities)
    out: dict[int, list[str]] = {}
    for frag in sorted(fragments, key=len, reverse=True):
        for i, cap in enumerate(left):
            if len(frag) <= cap:
                out.setdefault(i + 1, []).extend(frag)
                left[i] -= len(frag)
                break
        else:
            return None
    return out


def _parallelism(fragments: list[list[str]], qpus_count: int) -> float:
    n = len(fragments)
    return n / qpus_count if n <= qpus_count else 1.0 + 0.5 * (n - qpus_count) / qpus_count


def _infeasible(why: str) -> dict[str, Any]:
    return {"number_of_cuts": 0, "selected_cuts": [], "total_overhead": float("inf"),
            "fragments": [], "qpu_assignment": {}, "parallelism_score": 0.0, "quality_score": 0.0,
            "notes": f"No feasible solution found under these constraints: {why}. "
                     "Try relaxing qpu_capacities or max_overhead."}


def get_cut_plan(circuit: Any, qpus_count: int, qpu_capacities: Sequence[int] | None = None,
                 max_overhead: float | None = None, active_only: bool = True, seed: int = 111) -> dict[str, Any]:
    """The cheapest gate cuts whose fragments fit `qpus_count` devices.

    A fragment may hold at most the largest capacity (times Pilot-Quantum's 20% tolerance), or,
    without capacities, an equal share of the circuit's qubits per device. `max_overhead` caps the
    sampling overhead (the product of each cut's factor, e.g. 9 per CNOT). `active_only` leaves
    qubits that no two-qubit gate touches out of the fragments.
    """
    _check_counts(qpus_count, qpu_capacities, max_overhead)
    if not (hasattr(circuit, "data") and hasattr(circuit, "num_qubits")):
        raise InvalidTaskError("get_cut_plan takes a Qiskit QuantumCircuit", field="circuit",
                               value=type(circuit).__name__, fix="pass a qiskit.QuantumCircuit")
    _require_addon()
    n = circuit.num_qubits
    touched = {q for pair in _two_qubit_pairs(circuit, set()) for q in pair}
    active = touched if active_only else set(range(n))
    if not touched:
        names = [f"q{q}" for q in sorted(active)] or [f"q{q}" for q in range(n)]
        return {"number_of_cuts": 0, "selected_cuts": [], "total_overhead": 1.0,
                "fragments": [[q] for q in names], "qpu_assignment": {1: names},
                "parallelism_score": 0.0, "quality_score": 0.0,
                "notes": "No active two-qubit gates; nothing to cut."}
    if qpu_capacities:
        width = max(1, int(max(qpu_capacities) * CAPACITY_TOLERANCE))
    else:
        width = max(1, math.ceil(len(active) / qpus_count))
    from qiskit import QuantumCircuit

    plain = QuantumCircuit(n)
    for inst in circuit.data:
        if len(inst.qubits) <= 2 and inst.operation.name not in ("measure", "barrier", "reset"):
            plain.append(inst.operation, inst.qubits)
    try:  # the same search as QDREAMER's planner (qtau.cut_search), gate cuts only as Pilot-Quantum
        cut, meta = find_cuts(plain, width, gate_cuts=True, wire_cuts=False, max_overhead=max_overhead, seed=seed)
    except ValueError as err:
        return _infeasible(str(err))
    if max_overhead is not None and float(meta["sampling_overhead"]) > max_overhead:
        return _infeasible(f"the cheapest cuts found cost {float(meta['sampling_overhead']):.2f}x, "
                           f"over max_overhead={max_overhead}")
    cut_at = {cid for kind, cid in meta["cuts"] if kind == "Gate Cut"}
    selected = []
    for cid in sorted(cut_at):
        inst = cut.data[cid]
        a, b = (cut.find_bit(q).index for q in inst.qubits)
        gate = getattr(inst.operation, "basis", None)
        name = plain.data[cid].operation.name
        theta = next((float(p) for p in plain.data[cid].operation.params if isinstance(p, (int, float))), None)
        factor = float(gate.overhead) if gate is not None else float("nan")
        selected.append({"u": f"q{a}", "v": f"q{b}", "gate": name, "theta": theta, "overhead": factor})
    fragments = _fragments(n, _two_qubit_pairs(plain, cut_at), active)
    overhead = float(meta["sampling_overhead"])
    if qpu_capacities:
        caps = [int(c * CAPACITY_TOLERANCE) for c in qpu_capacities]
        assignment = _assign(fragments, caps) or {}
    else:
        assignment = {}
        for i, frag in enumerate(fragments):
            assignment.setdefault(i % qpus_count + 1, []).extend(frag)
    parallelism = _parallelism(fragments, qpus_count)
    quality = parallelism / math.log(overhead) if overhead > 1 else parallelism
    notes = (f"{len(fragments)} fragments of at most {width} qubits, overhead {overhead:.2f}x "
             f"({'proven minimum' if meta.get('minimum_reached') else 'best found'}; qiskit-addon-cutting).")
    if qpu_capacities and not assignment:
        notes += " The fragments do not fit the given capacities together; assign them over several rounds."
    return {"number_of_cuts": len(selected), "selected_cuts": selected, "total_overhead": overhead,
            "fragments": fragments, "qpu_assignment": assignment, "parallelism_score": parallelism,
            "quality_score": quality, "notes": notes}


def get_cuts(circuit: Any, qpus_count: int) -> int:
    """How many gate cuts split `circuit` into fragments for `qpus_count` equal devices."""
    return get_cut_plan(circuit, qpus_count)["number_of_cuts"]
