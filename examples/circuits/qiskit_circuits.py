"""Circuits built in Python for `qtau run FILE.py:function` (each function takes no arguments).

    qtau run examples/circuits/qiskit_circuits.py:x_on_qubit_0 --shots 100
"""

from qiskit import QuantumCircuit


def x_on_qubit_0() -> QuantumCircuit:
    """X on qubit 0 of three: reads `001` on every backend (qubit 0 is the rightmost bit)."""
    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.measure([0, 1, 2], [0, 1, 2])
    return qc
