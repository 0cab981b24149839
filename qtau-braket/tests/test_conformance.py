"""qtau-braket against QTAU's backend conformance suite, on Braket's real LocalSimulator."""

from braket.circuits import Circuit
from qtau.testing import BackendConformance


def bell() -> Circuit:
    return Circuit().h(0).cnot(0, 1)


def x0() -> Circuit:
    return Circuit().x(0).i(1).i(2)


class TestLocalConformance(BackendConformance):
    plugin_name = "braket"
    plugin_module = "qtau_braket.plugin"
    executor = "braket_local"
    config = {}

    def bell_circuit(self):
        return bell()

    def x0_circuit(self):
        return x0()

    def x1_idle_circuit(self):
        # A Braket Circuit has no idle qubits of its own: OpenQASM 3 declares all three.
        return "OPENQASM 3.0;\nqubit[3] q;\nx q[1];\n"


class TestLocalDensityMatrixConformance(TestLocalConformance):
    executor = "braket_local_dm"


class TestNoisyLocalConformance(TestLocalConformance):
    executor = "braket_local_dm"
    config = {"noise": {"depolarizing_1q": 0.001, "depolarizing_2q": 0.02, "readout": 0.01}}
    noisy = True
