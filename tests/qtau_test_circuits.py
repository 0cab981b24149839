"""Small Qiskit circuits shared by the cross-package tests (importable via pytest's pythonpath)."""


def bell():
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def x_on(qubit: int, width: int = 3):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(width, width)
    qc.x(qubit)
    qc.measure(range(width), range(width))
    return qc
