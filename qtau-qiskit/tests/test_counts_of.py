"""Counts read from the backend's hexadecimal counts equal Qiskit's own `get_counts`, in QTAU's
order, on real Aer and BasicSimulator results (no mocks)."""

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.providers.basic_provider import BasicSimulator
from qiskit_aer import AerSimulator
from qtau_qiskit.simulators import counts_in_common_order, counts_of


def registers() -> QuantumCircuit:
    """Three registers of different sizes, some bits never measured (their zeros kept)."""
    q = QuantumRegister(4)
    a, b, c = ClassicalRegister(1, "a"), ClassicalRegister(3, "b"), ClassicalRegister(2, "c")
    qc = QuantumCircuit(q, a, b, c)
    qc.h(0)
    qc.cx(0, 1)
    qc.x(3)
    qc.h(2)
    qc.measure(0, a[0])
    qc.measure(1, b[2])
    qc.measure(3, c[1])
    qc.measure(2, b[0])
    return qc


def wide() -> QuantumCircuit:
    qc = QuantumCircuit(7, 7)
    qc.h(range(7))
    qc.measure(range(7), range(7))
    return qc


def no_measurement() -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.h(0)
    return qc


@pytest.mark.parametrize("backend", [AerSimulator(seed_simulator=3), BasicSimulator()], ids=["aer", "basic"])
def test_counts_are_qiskits_in_qtaus_order(backend):
    circuits = [registers(), wide(), QuantumCircuit.copy(registers())]
    result = backend.run(circuits, shots=400, seed_simulator=3).result()
    for n in range(len(circuits)):
        expected = counts_in_common_order(result.get_counts(n))
        assert counts_of(result, n) == expected
        assert sum(expected.values()) == 400
    assert {len(key) for key in counts_of(result, 0)} == {6}
    assert all(key[-1] == key[-4] and key[0] == "1" for key in counts_of(result, 0))


def test_a_result_without_counts_is_refused_as_qiskit_refuses_it():
    from qiskit.exceptions import QiskitError

    result = AerSimulator().run(no_measurement(), shots=10).result()
    with pytest.raises(QiskitError):
        result.get_counts(0)
    with pytest.raises(QiskitError):
        counts_of(result, 0)
