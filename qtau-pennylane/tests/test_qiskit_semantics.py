"""Qiskit circuits on PennyLane's simulators mean what they mean on Aer (pennylane-qiskit's gaps).

pennylane-qiskit 0.45 reads some instructions wrongly or not at all, and `qiskit_to_tape` works
around each; every case here runs on default.qubit and lightning.qubit and is compared with Aer
through the same service:
- `initialize`: its amplitudes went to StatePrep in Qiskit's qubit order (|01> read as |10>);
  now synthesised. A label (`initialize("01")`) failed to convert at all.
- `reset`: refused ("not supported by PennyLane"); a reset of a fresh qubit is dropped, a later one
  runs as a reading and a conditioned X.
- open controls (`ctrl_state=0`, OpenQASM 3's `negctrl @`): came out closed.
- a classical bit written twice: read its first measurement (equal instructions matched by `==`).
- a qubit read twice after another qubit's last reading: the bits were matched to pennylane-qiskit's
  readings as if it returned mid-circuit ones first, so `c[0]` got `c[1]`'s reading.
Deterministic circuits compare exactly; the rest by total variation distance against a bound a
correct backend passes with probability 1 - 1e-9 (tests/test_real_world_corpus.py explains it).
"""

from __future__ import annotations

import math

import pytest
from qiskit import QuantumCircuit

from conftest import run

pytest.importorskip("qtau_qiskit", reason="needs qtau-qiskit beside qtau-pennylane (main CI job)")

SHOTS = 2000
PENNYLANE = ("pennylane:default.qubit", "pennylane:lightning.qubit")
NEGCTRL_QASM3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nnegctrl @ x q[0], q[1];\nc = measure q;\n'
REMEASURE_QASM2 = ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\n'
                   'x q[0];\nmeasure q[0] -> c[0];\nx q[0];\nmeasure q[0] -> c[0];\n')
FEED_FORWARD_QASM2 = ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\n'
                      'h q[0];\nmeasure q[0] -> c[0];\nif(c==1) x q[0];\nmeasure q[0] -> c[0];\n')
# q[0] read once, then q[1] twice: the reading of q[0] comes first in the circuit but is its last use.
READ_TWICE_AFTER_ANOTHER_QASM2 = ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[3];\nx q[0];\n'
                                  'measure q[0] -> c[0];\nmeasure q[1] -> c[1];\nmeasure q[1] -> c[2];\n')


@pytest.fixture(scope="module")
def pcs():
    from qtau.plugins import PluginHost
    from qtau.service import PilotComputeService

    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    host.register_module("pennylane", "qtau_pennylane.plugin")
    service = PilotComputeService(execution_engine="local", plugins=host)
    for executor in ("qiskit_local", "pennylane_default", "pennylane_lightning"):
        service.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
    yield service
    service.close()


def _circuit(name: str):
    qc = QuantumCircuit(2, 2)
    if name == "initialize_amplitudes":
        qc.initialize([0, 1, 0, 0], [0, 1])  # |q1 q0> = |01>
    elif name == "initialize_label":
        qc.initialize("01", [0, 1])
    elif name == "initialize_after_gates":
        qc.x(0)
        qc.x(1)
        qc.initialize([0, 1], [1])  # q1 back to |1> after a reset: "11"
    elif name == "reset_after_use":
        qc.x(0)
        qc.x(1)
        qc.reset(0)
    elif name == "reset_of_fresh_qubits":
        qc.reset([0, 1])
        qc.x(1)
    elif name == "open_control":
        qc.cx(0, 1, ctrl_state=0)
    else:
        raise AssertionError(name)
    qc.measure([0, 1], [0, 1])
    return qc


EXACT = {
    "initialize_amplitudes": "01",
    "initialize_label": "01",
    "initialize_after_gates": "11",
    "reset_after_use": "10",
    "reset_of_fresh_qubits": "10",
    "open_control": "10",
}


@pytest.mark.parametrize("rid", PENNYLANE)
@pytest.mark.parametrize("name", sorted(EXACT))
def test_deterministic_qiskit_circuits_read_as_on_aer(pcs, name, rid):
    circuit = _circuit(name)
    aer = run(pcs, circuit, shots=100, resource="qiskit:aer_simulator")
    result = run(pcs, circuit, shots=100, resource=rid)
    assert aer.get_counts() == {EXACT[name]: 100}  # the reference itself
    assert result.get_counts() == {EXACT[name]: 100}
    assert result.conversion_path == ("qiskit", "pennylane_tape")


@pytest.mark.parametrize("rid", PENNYLANE)
@pytest.mark.parametrize("text, expected", [(NEGCTRL_QASM3, "10"), (REMEASURE_QASM2, "0"), (FEED_FORWARD_QASM2, "0"),
                                            (READ_TWICE_AFTER_ANOTHER_QASM2, "001")],
                         ids=["negctrl", "bit_written_twice", "feed_forward_reset", "read_twice_after_another"])
def test_openqasm_with_open_controls_and_rewritten_bits_reads_as_on_aer(pcs, text, expected, rid):
    aer = run(pcs, text, shots=200, resource="qiskit:aer_simulator")
    result = run(pcs, text, shots=200, resource=rid)
    assert aer.get_counts() == {expected: 200}
    assert result.get_counts() == {expected: 200}


def _tvd(a: dict, b: dict, shots: int) -> float:
    return 0.5 * sum(abs(a.get(k, 0) - b.get(k, 0)) for k in set(a) | set(b)) / shots


@pytest.mark.parametrize("rid", PENNYLANE)
def test_a_reset_of_an_entangled_qubit_leaves_its_partner_mixed(pcs, rid):
    """h, cx, then reset q0: q1 reads 0 or 1 at even odds and q0 always 0; the reset's own reading
    is no bit of the counts (keys stay two bits wide)."""
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.reset(0)
    qc.h(0)
    qc.h(0)  # gates after the reset act on the fresh |0>
    qc.measure([0, 1], [0, 1])
    counts = run(pcs, qc, shots=SHOTS, resource=rid).get_counts()
    assert set(counts) <= {"00", "10"} and sum(counts.values()) == SHOTS
    exact = {"00": SHOTS / 2, "10": SHOTS / 2}
    bound = 0.5 * math.sqrt(2 / SHOTS) + math.sqrt(math.log(1e9) / (2 * SHOTS))
    assert _tvd(counts, exact, SHOTS) < bound


@pytest.mark.parametrize("rid", PENNYLANE)
def test_a_reset_in_a_circuit_without_measurements_counts_every_qubit(pcs, rid):
    qc = QuantumCircuit(2)
    qc.x(0)
    qc.x(1)
    qc.reset(0)
    assert run(pcs, qc, shots=50, resource=rid).get_counts() == {"10": 50}
    assert run(pcs, qc, shots=50, resource="qiskit:aer_simulator").get_counts() == {"10": 50}


@pytest.mark.parametrize("rid", PENNYLANE)
def test_a_converted_circuit_has_counts_and_no_values_a_tape_keeps_its_values(pcs, rid):
    """A Qiskit circuit returns no values on any backend; on PennyLane's its Result's `values` held
    PennyLane's counts dict, in the reverse key order of `counts` (X on q0 of two: counts '01',
    values '10'). A PennyLane tape's own measurements still come back as its values."""
    import pennylane as qml

    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.measure([0, 1], [0, 1])
    result = run(pcs, qc, shots=30, resource=rid)
    assert result.get_counts() == {"01": 30} and result.values is None
    tape = qml.tape.QuantumScript([qml.PauliX(0)], [qml.counts(wires=[0, 1])], shots=30)
    own = run(pcs, tape, shots=30, resource=rid)
    assert own.values == {"10": 30} and own.get_counts() == {"01": 30}  # PennyLane's order, as returned
