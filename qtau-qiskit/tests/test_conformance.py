"""qtau-qiskit against QTAU's backend conformance suite, on real Aer and BasicSimulator."""

from qiskit import QuantumCircuit
from qtau.testing import BackendConformance


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def x0() -> QuantumCircuit:
    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.measure([0, 1, 2], [0, 1, 2])
    return qc


class TestAerConformance(BackendConformance):
    plugin_name = "qiskit"
    plugin_module = "qtau_qiskit.plugin"
    executor = "qiskit_local"
    config = {"backend": "aer_simulator"}

    def bell_circuit(self):
        return bell()

    def x0_circuit(self):
        return x0()

    def x1_idle_circuit(self):
        from qiskit import QuantumCircuit

        circuit = QuantumCircuit(3)
        circuit.x(1)
        return circuit


class TestBasicSimulatorConformance(TestAerConformance):
    config = {"backend": "basic_simulator"}


class TestNoisyAerConformance(TestAerConformance):
    config = {"noise": {"depolarizing_1q": 0.001, "depolarizing_2q": 0.02, "readout": 0.01}}
    noisy = True
