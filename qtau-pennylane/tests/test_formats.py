"""Format recognition, summaries and conversions: Qiskit/OpenQASM onto PennyLane devices and back."""

from __future__ import annotations

import pennylane as qml
import pytest
from pennylane_test_circuits import bell_expvals, x0_counts, x0_tape
from qiskit import QuantumCircuit
from qtau.circuits import Circuits
from qtau_pennylane import bind
from qtau_pennylane.formats import circuit_format

from conftest import make_host, run

X1_QASM3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nbit[3] c;\nx q[1];\nc = measure q;\n'
X1_QASM2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\nx q[1];\nmeasure q -> c;\n'


def _with_qtau_qiskit():
    # The per-plugin CI job installs qtau-pennylane alone; these run in the main job, which has both.
    pytest.importorskip("qtau_qiskit", reason="needs qtau-qiskit beside qtau-pennylane (main CI job)")
    return make_host(("qiskit", "qtau_qiskit.plugin"))


@pytest.fixture(scope="module")
def circuits():
    return Circuits(_with_qtau_qiskit())


def test_recognises_qnodes_tapes_and_bound_qnodes():
    qnode = bell_expvals()
    assert circuit_format(qnode) == "pennylane_qnode"
    assert circuit_format(qml.set_shots(qnode, shots=10)) == "pennylane_qnode"
    assert circuit_format(bind(qnode)) == "pennylane_qnode"
    assert circuit_format(x0_tape()) == "pennylane_tape"
    assert circuit_format(qml.PauliX(0)) is None
    assert circuit_format(lambda: qnode) is None


def test_summary_of_a_qnode(host):
    summary = host.call("qtau_circuit_summary", circuit=bell_expvals(), circuit_format="pennylane_qnode")
    assert summary.num_qubits == 2 and summary.gate_counts == {"h": 1, "cx": 1}
    assert summary.num_measured == 2 and summary.depth == 2


def test_summary_of_a_qnode_needing_arguments_falls_back_to_its_device(host):
    @qml.qnode(qml.device("default.qubit", wires=4))
    def needs(theta):
        qml.RX(theta, 0)
        return qml.expval(qml.PauliZ(0))

    summary = host.call("qtau_circuit_summary", circuit=needs, circuit_format="pennylane_qnode")
    assert summary.num_qubits == 4
    bound = host.call("qtau_circuit_summary", circuit=bind(needs, 0.1), circuit_format="pennylane_qnode")
    assert bound.gate_counts == {"rx": 1} and bound.num_qubits == 4


@pytest.mark.parametrize("source", ["openqasm2", "openqasm3", "qiskit"])
def test_qiskit_and_qasm_become_tapes_in_clbit_order(circuits, source):
    qc = QuantumCircuit(3, 3)
    qc.x(1)
    qc.measure([0, 1, 2], [0, 1, 2])
    circuit = {"openqasm2": X1_QASM2, "openqasm3": X1_QASM3, "qiskit": qc}[source]
    tape, fmt, path = circuits.convert(circuit, source, ["pennylane_qnode", "pennylane_tape"])
    assert fmt == "pennylane_tape" and path == (source, "pennylane_tape")
    assert [op.name for op in tape.operations] == ["PauliX"]
    assert list(tape.measurements[0].wires) == [0, 1, 2]


def test_qiskit_circuit_runs_on_lightning(services):
    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.measure([0, 1, 2], [2, 1, 0])  # qubit 0 into clbit 2: Qiskit reads "100"
    from qtau.service import PilotComputeService

    pcs = PilotComputeService(execution_engine="local", plugins=_with_qtau_qiskit())
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "pennylane_lightning"}})
        result = run(pcs, qc, shots=40)
        assert result.get_counts() == {"100": 40}
        assert result.conversion_path == ("qiskit", "pennylane_tape")
        assert run(pcs, X1_QASM2, shots=40).get_counts() == {"010": 40}
    finally:
        pcs.close()


def test_qnode_runs_on_qiskit_local_through_openqasm(circuits):
    from qtau.service import PilotComputeService

    pcs = PilotComputeService(execution_engine="local", plugins=circuits.host)
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}})
        result = run(pcs, x0_counts(), shots=30)
        assert result.get_counts() == {"001": 30}
        assert result.conversion_path == ("pennylane_qnode", "pennylane_tape", "openqasm2", "qiskit")
    finally:
        pcs.close()


def test_tape_to_openqasm2_orders_wires_numerically(circuits):
    tape = qml.tape.QuantumScript([qml.PauliX(1), qml.Hadamard(0)], [qml.counts(wires=[0, 1])])
    text, fmt, _ = circuits.convert(tape, "pennylane_tape", ["openqasm2"])
    assert fmt == "openqasm2" and "x q[1];" in text and "h q[0];" in text


def test_braket_style_openqasm3_without_stdgates(circuits):
    """Braket writes `cnot`, `si`, `xx`... and no include: every gate must survive, none dropped."""
    text = (
        "OPENQASM 3.0;\nbit[3] b;\nqubit[3] q;\nh q[0];\ncnot q[0], q[1];\nsi q[2];\nxx(0.5) q[1], q[2];\n"
        "b[0] = measure q[0];\nb[1] = measure q[1];\nb[2] = measure q[2];\n"
    )
    tape, _, _ = circuits.convert(text, "openqasm3", ["pennylane_tape"])
    names = [op.name for op in tape.operations]
    assert names[:2] == ["Hadamard", "CNOT"] and "Adjoint(S)" in names and len(names) > 4


@pytest.mark.parametrize("fmt, text", [
    ("openqasm2", 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0] q[1];\n'),
    ("openqasm3", "OPENQASM 3.0;\nqubit[2] q;\nh q[0]\ncx q[0], q[1];\n"),
])
def test_a_malformed_file_is_refused_before_pennylane_is_imported(fmt, text):
    """`qtau run` tries every installed reader on a file the first refused; this one answers from
    Qiskit's parser (whose error `qtau.cli.qasm_check` reads the line from) without PennyLane's seconds of import. A fresh
    interpreter, since this process has PennyLane loaded already."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom qtau_pennylane.formats import converters\n"
        f"[convert] = [c.convert for c in converters('pennylane') if c.source == {fmt!r}]\n"
        f"try:\n    convert({text!r})\nexcept Exception as err:\n    print(type(err).__name__, err)\n"
        "else:\n    print('accepted')\n"
        "print(sorted(n for n in ('pennylane', 'pennylane_qiskit') if n in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-800:]
    refusal, loaded = proc.stdout.strip().splitlines()[-2:]
    assert refusal.split()[0] in ("QASM2ParseError", "QASM3ParsingError"), refusal
    assert loaded == "[]"


def test_a_circuit_returning_values_goes_only_where_they_are_computed(circuits):
    """A QNode or tape returning expval (probs, var, samples) got counts and `values=None` when
    QDREAMER put it on Aer or Braket through OpenQASM (the conversion keeps counts only), and
    values on a PennyLane device: which one a user got hung on the ranking. Converting resources
    are now infeasible for it, saying why; a tape returning counts still goes anywhere."""
    from qtau import QuantumTask
    from qtau.service import PilotComputeService

    pcs = PilotComputeService(execution_engine="local", plugins=make_host(("qiskit", "qtau_qiskit.plugin")))
    try:
        for executor in ("qiskit_local", "pennylane_default"):
            pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
        pcs.initialize_dreamer({"optimization_mode": "high_speed"})
        rows = {r.resource_id: r for r in pcs.qdreamer.explain(QuantumTask(circuit=bell_expvals(), shots=100)).rows}
        assert rows["pennylane:default.qubit"].feasible
        assert not rows["qiskit:aer_simulator"].feasible and "drops" in rows["qiskit:aer_simulator"].reason
        tape = qml.tape.QuantumScript([qml.RX(0.5, 0)], [qml.expval(qml.PauliX(0))])
        for pin in (None, "pennylane_default"):
            result = run(pcs, tape, shots=100, **({"resource": pin} if pin else {}))
            assert result.resource_id == "pennylane:default.qubit" and result.values is not None
        observed = qml.tape.QuantumScript([qml.Hadamard(0)], [qml.counts(op=qml.PauliX(0))])  # eigenvalue keys
        assert not {r.resource_id: r for r in pcs.qdreamer.explain(QuantumTask(circuit=observed)).rows}[
            "qiskit:aer_simulator"].feasible
        counted = [r.resource_id for r in pcs.qdreamer.explain(QuantumTask(circuit=x0_tape(), shots=10)).rows
                   if r.feasible]
        assert "qiskit:aer_simulator" in counted and "pennylane:default.qubit" in counted
    finally:
        pcs.close()
