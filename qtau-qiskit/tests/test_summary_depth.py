"""The `qiskit` summary's depth is `QuantumCircuit.depth()`'s, measured in the same pass as the gate
counts: checked against Qiskit itself on real circuits (no mocks)."""

import pytest
from qiskit import QuantumCircuit, qasm2
from qiskit.circuit import Parameter
from qiskit.circuit.classical import expr, types
from qiskit.circuit.library import MCXGate, PermutationGate, QFTGate
from qiskit.circuit.random import random_circuit
from qtau_qiskit.formats import summary


def bell() -> QuantumCircuit:
    return qasm2.loads('OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; '
                       "h q[0]; cx q[0], q[1]; measure q -> c;")


def with_barriers_and_resets() -> QuantumCircuit:
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.barrier()
    qc.x(2)
    qc.barrier([0, 1])
    qc.reset(1)
    qc.delay(100, 2)
    qc.measure(0, 0)
    qc.cx(0, 1)  # after a measurement: mid-circuit
    qc.measure([1, 2], [1, 2])
    return qc


def composite() -> QuantumCircuit:
    inner = QuantumCircuit(2, name="mine")
    inner.h(0)
    inner.cx(0, 1)
    inner.rz(Parameter("t"), 1)
    qc = QuantumCircuit(4, 4)
    qc.append(inner.to_gate(), [2, 3])
    qc.append(QFTGate(3), [0, 1, 2])
    qc.append(MCXGate(3), [0, 1, 2, 3])
    qc.append(PermutationGate([2, 0, 1]), [1, 2, 3])
    qc.measure_all(add_bits=False)
    # Bound: a circuit with free parameters is no task (its summary refuses it, naming them).
    return qc.assign_parameters({qc.parameters[0]: 0.3})


def control_flow() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.measure(1, 1)
    return qc


def with_a_store() -> QuantumCircuit:
    qc = QuantumCircuit(1, 1)
    flag = qc.add_var("flag", expr.lift(False, types.Bool()))
    qc.h(0)
    qc.measure(0, 0)
    qc.store(flag, expr.lift(qc.clbits[0]))
    return qc


CIRCUITS = {
    "bell": bell,
    "empty": lambda: QuantumCircuit(3),
    "barriers, resets, delay, mid-circuit measurement": with_barriers_and_resets,
    "composite gates": composite,
    "control flow (Qiskit's own depth)": control_flow,
    "a store (Qiskit's own depth)": with_a_store,
    **{f"random, seed {seed}": (lambda seed=seed: random_circuit(5, 8, max_operands=3, measure=True,
                                                                  reset=True, seed=seed))
       for seed in range(6)},
}


@pytest.mark.parametrize("name", list(CIRCUITS))
def test_the_summarys_depth_is_qiskits(name):
    qc = CIRCUITS[name]()
    assert summary(qc, "qiskit").depth == qc.depth()


def test_a_deep_circuit_is_counted_to_its_full_depth():
    """A depth that could only come from walking every instruction (not a constant or a count)."""
    qc = QuantumCircuit(2, 1)
    for _ in range(40):
        qc.cx(0, 1)
        qc.barrier()
        qc.h(1)
    qc.measure(1, 0)
    assert summary(qc, "qiskit").depth == qc.depth() == 81


def test_a_reset_counts_only_after_its_qubit_is_used():
    """`initialize` begins with a reset of each of its qubits, which does nothing on a fresh qubit:
    not counted (it kept such circuits off resources that cannot reset mid-circuit). A reset after
    a gate is counted; the depth stays Qiskit's, which counts every reset."""
    qc = QuantumCircuit(2, 2)
    qc.initialize([0, 1, 0, 0], [0, 1])
    qc.measure([0, 1], [0, 1])
    counted = summary(qc, "qiskit")
    assert "reset" not in counted.gate_counts and counted.depth == qc.depth()
    later = QuantumCircuit(2, 2)
    later.x(0)
    later.reset([0, 1])
    later.measure([0, 1], [0, 1])
    assert summary(later, "qiskit").gate_counts == {"x": 1, "reset": 1, "measure": 2}
    assert summary(later, "qiskit").depth == later.depth()
