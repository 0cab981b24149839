"""qtau-pennylane against QTAU's backend conformance suite, on real PennyLane devices."""

from pennylane_test_circuits import bell_counts, bell_tape, x0_counts, x0_tape, x1_counts, x1_tape
from qtau.testing import BackendConformance


class TestDefaultQubitConformance(BackendConformance):
    plugin_name = "pennylane"
    plugin_module = "qtau_pennylane.plugin"
    executor = "pennylane_default"
    config = {}

    def bell_circuit(self):
        return bell_counts()

    def x0_circuit(self):
        return x0_counts()

    def x1_idle_circuit(self):
        return x1_counts()


class TestLightningConformance(TestDefaultQubitConformance):
    executor = "pennylane_lightning"


class TestQiskitConformance(TestDefaultQubitConformance):
    """qiskit.aer and qiskit.basicsim, fed tapes instead of QNodes."""

    executor = "pennylane_qiskit"

    def bell_circuit(self):
        return bell_tape()

    def x0_circuit(self):
        return x0_tape()

    def x1_idle_circuit(self):
        return x1_tape()


class TestBraketLocalConformance(TestDefaultQubitConformance):
    executor = "pennylane_braket"


class TestNoisyDefaultMixedConformance(TestDefaultQubitConformance):
    config = {"noise": {"depolarizing_1q": 0.001, "depolarizing_2q": 0.02, "readout": 0.01}}
    noisy = True
