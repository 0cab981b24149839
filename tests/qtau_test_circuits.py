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


def ghz(n: int = 3):
    """The n-qubit GHZ state, every qubit measured: ideal <Z_i Z_j> = 1."""
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(n)
    circuit.h(0)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    return circuit


def classically_controlled():
    """H on qubit 0, read into c[0]; X on qubit 1 if that bit is 1 (a Qiskit `if_test` on one bit,
    which OpenQASM 2 cannot express); qubit 1 read into c[1]: '00' or '11'."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.measure(1, 1)
    return qc
