"""The `qiskit` circuit format's summary, so QDREAMER can rank circuits when qtau-qiskit is absent.

Conversion to and from OpenQASM belongs to qtau-qiskit; this plugin only reads Qiskit circuits.
"""

from __future__ import annotations

from qtau.gates import normalize_gate
from qtau.types import CircuitSummary

CONTROL = frozenset({"if_else", "while_loop", "for_loop", "switch_case"})


def summary(qc) -> CircuitSummary:
    counts: dict[str, int] = {}
    measured: set = set()
    mid = control = False
    for inst in qc.data:
        name = inst.operation.name
        if name == "measure":
            measured.update(inst.qubits)
        elif name != "barrier" and any(q in measured for q in inst.qubits):
            mid = True
        control = control or name in CONTROL
        key = normalize_gate(name)
        counts[key] = counts.get(key, 0) + 1
    return CircuitSummary(
        num_qubits=qc.num_qubits, gate_counts=counts, depth=qc.depth(), num_measured=len(measured),
        mid_circuit_measurement=mid, classical_control=control,
    )
