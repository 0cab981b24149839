"""qtau-ibmq against QTAU's backend conformance suite, offline through qiskit-ibm-runtime's local mode.

FakeManila: a noisy 5-qubit fake (real calibration data, simulated on Aer). The local channel: the
same code path as a token-holding user (QiskitRuntimeService -> backend by name), with the
runtime's own local service standing in for IBM. The qasm simulator: the retired cloud simulator,
now local Aer.
"""

import pytest
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


class TestFakeManilaConformance(BackendConformance):
    plugin_name = "ibmq"
    plugin_module = "qtau_ibmq.plugin"
    companion_plugins = (("qiskit", "qtau_qiskit.plugin"),)
    executor = "ibmq_fake_manila"
    config = {"seed_simulator": 7}
    noisy = True

    def bell_circuit(self):
        return bell()

    def x0_circuit(self):
        return x0()

    def x1_idle_circuit(self):
        from qiskit import QuantumCircuit

        circuit = QuantumCircuit(3)
        circuit.x(1)
        return circuit


class TestLocalChannelConformance(TestFakeManilaConformance):
    executor = "ibmq_manila"
    config = {"channel": "local", "seed_simulator": 11}


@pytest.mark.filterwarnings("ignore:ibmq_qasm_simulator")
class TestQasmSimulatorConformance(TestFakeManilaConformance):
    executor = "ibmq_qasm_simulator"
    config = {}
    noisy = False
