"""QNodes and tapes the tests run (built on default.qubit; QTAU re-runs them on the resource)."""

from __future__ import annotations

import pennylane as qml


def bell_counts():
    @qml.qnode(qml.device("default.qubit", wires=2))
    def bell():
        qml.Hadamard(0)
        qml.CNOT([0, 1])
        return qml.counts()

    return bell


def x0_counts():
    @qml.qnode(qml.device("default.qubit", wires=3))
    def x0():
        qml.PauliX(0)
        return qml.counts()

    return x0


def bell_expvals():
    @qml.qnode(qml.device("default.qubit", wires=2))
    def bell():
        qml.Hadamard(0)
        qml.CNOT([0, 1])
        return [qml.expval(qml.PauliZ(0)), qml.expval(qml.PauliZ(1))]

    return bell


def x1_counts():
    """X on wire 1 of 3; wires 0 and 2 idle (counts over every wire)."""

    @qml.qnode(qml.device("default.qubit", wires=3))
    def x1():
        qml.PauliX(1)
        return qml.counts()

    return x1


def x1_tape():
    return qml.tape.QuantumScript([qml.PauliX(1)], [qml.counts(wires=[0, 1, 2])])


def x0_tape():
    return qml.tape.QuantumScript([qml.PauliX(0)], [qml.counts(wires=[0, 1, 2])])


def bell_tape():
    return qml.tape.QuantumScript([qml.Hadamard(0), qml.CNOT([0, 1])], [qml.counts(wires=[0, 1])])
