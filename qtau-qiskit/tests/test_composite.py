"""Composite and library gates in Qiskit circuits: summarised by their definitions, run and exported.

QDREAMER judges a gate by its definition (issue 21): the `qiskit` format's summary must hold the
standard gates a composite gate is made of, never its name, and the measurement shape must see
through definitions. A gate the circuit defines under a name Aer reserves must still run.
"""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Gate
from qiskit.circuit.library import PermutationGate, QFTGate, UnitaryGate
from qiskit.quantum_info import Operator
from qtau.gates import STANDARD_GATES
from qtau_qiskit import composite
from qtau_qiskit.formats import summary, to_qasm2, to_qasm3


def _bellprep():
    sub = QuantumCircuit(2, name="bellprep")
    sub.h(0)
    sub.cx(0, 1)
    return sub.to_gate()


def test_library_and_user_gates_count_as_their_definitions():
    qc = QuantumCircuit(3, 3)
    qc.append(QFTGate(3), [0, 1, 2])
    qc.append(_bellprep(), [1, 2])
    qc.append(UnitaryGate(Operator(QFTGate(2))), [0, 2])
    qc.append(PermutationGate([2, 0, 1]), [0, 1, 2])  # no definition: HighLevelSynthesis makes one
    qc.measure(range(3), range(3))
    counts = summary(qc, "qiskit").gate_counts
    assert set(counts) <= STANDARD_GATES, counts
    assert counts["h"] >= 3 + 1 and counts["cx"] >= 1 and counts["measure"] == 3
    assert "swap" in counts  # QFTGate's final swap and the permutation


def test_a_gate_without_any_definition_keeps_its_name():
    qc = QuantumCircuit(1)
    qc.append(Gate("magic", 1, []), [0])
    assert summary(qc, "qiskit").gate_counts == {"magic": 1}


def test_measurement_shape_is_read_through_definitions():
    after = QuantumCircuit(2, 2)
    after.h(0)
    after.measure(0, 0)
    after.barrier()
    after.measure(1, 1)
    assert not summary(after, "qiskit").mid_circuit_measurement  # a barrier is no use of a qubit
    reused = QuantumCircuit(2, 2)
    reused.measure(0, 0)
    reused.append(_bellprep(), [0, 1])  # its h acts on the measured qubit 0
    shape = summary(reused, "qiskit")
    assert shape.mid_circuit_measurement and shape.num_measured == 1
    other = QuantumCircuit(3, 1)
    other.measure(0, 0)
    other.append(_bellprep(), [1, 2])
    assert not summary(other, "qiskit").mid_circuit_measurement


@pytest.mark.parametrize("dumps", [to_qasm2, to_qasm3])
def test_export_inlines_what_qiskits_exporter_cannot_write(dumps):
    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.append(PermutationGate([2, 0, 1]), [0, 1, 2])
    qc.measure(range(3), range(3))
    text = dumps(qc)  # qasm3.dumps itself raises TypeError on PermutationGate's array parameter
    assert "swap" in text


def test_a_user_gate_named_like_an_aer_instruction_runs_as_defined():
    """`qasm2.dumps` writes a UnitaryGate as `gate unitary ...`; read back, Aer took it for its
    matrix instruction (IndexError). Inlined first, it runs as its body says."""
    from qiskit_aer import AerSimulator

    sub = QuantumCircuit(1, name="unitary")
    sub.x(0)
    qc = QuantumCircuit(1, 1)
    qc.append(sub.to_gate(), [0])
    qc.measure(0, 0)
    backend = AerSimulator()
    flat = composite.without_name_clashes(qc, set(backend.target.operation_names))
    assert [i.operation.name for i in flat.data] == ["x", "measure"]
    counts = backend.run(flat, shots=50, seed_simulator=1).result().get_counts()
    assert counts == {"1": 50}
    plain = QuantumCircuit(1, 1)
    plain.h(0)
    assert composite.without_name_clashes(plain, {"h"}) is plain


def test_openqasm_text_is_summarised_by_its_own_dialect():
    """The plugin reads OpenQASM 2 with qelib1's gates and OpenQASM 3 with stdgates (core reads
    them first; this is the plugin's summary for what core's reader leaves to plugins)."""
    two = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nu3(0.1,0.2,0.3) q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'
    three = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nu3(0.1, 0.2, 0.3) q[0];\ncx q[0], q[1];\nc = measure q;\n'
    for text, fmt in ((two, "openqasm2"), (three, "openqasm3")):
        shape = summary(text, fmt)
        assert shape.gate_counts == {"u": 1, "cx": 1, "measure": 2} and shape.num_qubits == 2, fmt
