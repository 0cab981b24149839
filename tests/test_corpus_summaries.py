"""The `qiskit` circuit summary on the real-world corpus (MQT Bench, Qiskit's library), as written
and transpiled to a basis: its gate counts, depth and measurement shape are checked against
Qiskit's own `count_ops()` and `depth()` and a plain reading of every instruction's operation (the
summary reads standard gates without making their Python objects)."""

from __future__ import annotations

import pytest
from qtau.gates import STANDARD_GATES, normalize_gate
from test_real_world_corpus import _corpus


def _reference(qc) -> tuple[dict[str, int], int, bool]:
    """Gate counts, measured qubits and the mid-circuit flag, read from each instruction's operation."""
    counts: dict[str, int] = {}
    measured: set = set()
    mid = False
    for inst in qc.data:
        name = inst.operation.name
        if (name == "measure" or name != "barrier") and any(q in measured for q in inst.qubits):
            mid = True
        if name == "measure":
            measured.update(inst.qubits)
        counts[normalize_gate(name)] = counts.get(normalize_gate(name), 0) + 1
    return counts, len(measured), mid


@pytest.mark.parametrize("basis", [None, ("cx", "rz", "sx", "x"), ("ecr", "rz", "sx", "x", "cp", "ccx")])
def test_corpus_summaries_match_qiskits_own_reading(basis):
    from qiskit import transpile
    from qtau_qiskit.formats import summary

    checked = 0
    for name, (qc, _) in _corpus().items():
        if basis is not None:
            qc = transpile(qc, basis_gates=list(basis), optimization_level=0, seed_transpiler=1)
        elif any(normalize_gate(inst.operation.name) not in STANDARD_GATES | {"measure", "barrier", "reset"}
                 for inst in qc.data):
            continue  # other gates are counted by their definitions: tests/test_real_world_corpus.py
        seen = summary(qc, "qiskit")
        counts, measured, mid = _reference(qc)
        assert dict(seen.gate_counts) == counts, name
        assert seen.depth == qc.depth(), name
        assert (seen.num_measured, seen.mid_circuit_measurement) == (measured, mid), name
        assert seen.num_qubits == qc.num_qubits
        checked += 1
    assert checked >= (5 if basis is None else 20)
