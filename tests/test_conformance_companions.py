"""qtau.testing finds the plugins a backend under test needs beside itself among the installed
ones: the plugin that owns its test circuits' format, or that converts them to what it accepts."""

from qtau.plugins import PluginHost
from qtau.testing.companions import find_companions, unmet
from qtau_test_circuits import bell

QASM2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'


def alone(name: str) -> PluginHost:
    host = PluginHost(strict=True)
    host.load_entry_points(allow={name})
    return host


def test_the_owner_of_a_qiskit_circuit_is_found_for_a_backend_that_takes_qiskit():
    host = alone("ibmq")
    assert unmet(host, [bell()], ["qiskit"]) == 1  # nothing loaded recognises a QuantumCircuit
    assert find_companions(host, [bell(), bell()], ["qiskit"]) == [("qiskit", "qtau_qiskit.plugin")]


def test_a_converter_is_found_for_openqasm_on_a_qiskit_only_backend():
    """Core reads OpenQASM itself; only a converter to `qiskit` is missing."""
    host = alone("ibmq")
    assert unmet(host, [QASM2], ["qiskit"]) == 1
    [(name, _)] = find_companions(host, [QASM2], ["qiskit"])
    assert name == "qiskit"


def test_a_backend_that_reads_its_own_circuits_gets_no_companion():
    host = alone("braket")
    assert find_companions(host, [QASM2], ["openqasm3", "openqasm2"]) == []
    assert find_companions(alone("qiskit"), [bell(), QASM2], ["qiskit"]) == []


def test_a_circuit_nothing_installed_recognises_finds_nothing():
    assert find_companions(alone("braket"), [object()], ["openqasm3"]) == []
