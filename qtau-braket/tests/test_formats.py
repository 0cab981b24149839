"""The `braket` circuit format: detection, summaries, and OpenQASM 3 conversion both ways."""

from __future__ import annotations

import pytest
from braket.circuits import Circuit
from braket.devices import LocalSimulator
from qtau.circuits import Circuits
from qtau.errors import CircuitConversionError
from qtau_braket.formats import for_braket, from_openqasm3, to_openqasm3
from qtau_braket.outcomes import common_order

QISKIT_STYLE = """OPENQASM 3.0;
include "stdgates.inc";
bit[3] c;
qubit[3] q;
x q[0];
h q[1];
cx q[1], q[2];
sdg q[0];
p(0.25) q[1];
u(0.1, 0.2, 0.3) q[2];
crz(0.5) q[0], q[1];
c[2] = measure q[2];
c[0] = measure q[0];
c[1] = measure q[1];
"""


def test_format_detection(host):
    circuits = Circuits(host)
    assert circuits.detect(Circuit().h(0)) == "braket"
    assert host.call("qtau_circuit_format", circuit="OPENQASM 3.0;") is None
    assert circuits.detect(to_openqasm3(Circuit().h(0))) == "openqasm3"


def test_round_trip_keeps_the_circuit():
    circuit = Circuit().h(0).cnot(0, 1).rz(1, 0.5).measure([0, 1])
    text = to_openqasm3(circuit)
    assert text.startswith("OPENQASM 3.0;") and "cnot q[0], q[1];" in text
    assert from_openqasm3(text) == circuit


def test_stdgates_programs_become_braket_circuits():
    circuit = from_openqasm3(QISKIT_STYLE)
    names = [ins.operator.name for ins in circuit.instructions]
    assert names[:3] == ["X", "H", "CNot"] and "Si" in names and "PhaseShift" in names
    assert 'include "stdgates.inc"' not in for_braket(QISKIT_STYLE)


def test_measurements_follow_bit_order():
    circuit = from_openqasm3(QISKIT_STYLE)
    measured = [int(q) for ins in circuit.instructions if ins.operator.name == "Measure" for q in ins.target]
    assert measured == [0, 1, 2]
    x_on_0 = from_openqasm3("OPENQASM 3.0;\nbit[2] c;\nqubit[3] q;\nx q[0];\nc[1] = measure q[0];\nc[0] = measure q[2];\n")
    result = LocalSimulator().run(x_on_0, shots=10).result()
    assert common_order(result.measurement_counts) == {"10": 10}  # c[1] = 1, c[0] = 0


def test_unreadable_program():
    with pytest.raises(CircuitConversionError, match="Braket cannot read"):
        from_openqasm3("OPENQASM 3.0;\nqubit[1] q;\nnosuchgate q[0];\n")


def test_summary_canonical_names_and_implicit_measure(host):
    summary = host.call("qtau_circuit_summary", circuit=Circuit().h(0).cnot(0, 1).phaseshift(1, 0.1), circuit_format="braket")
    assert summary.gate_counts == {"h": 1, "cx": 1, "p": 1}
    assert summary.num_qubits == 2 and summary.num_measured == 2 and summary.depth >= 2
    summary = host.call("qtau_circuit_summary", circuit=QISKIT_STYLE, circuit_format="openqasm3")
    # Braket reads `crz` as the definition QTAU gives it (two rz and two cnot: see STDGATES).
    assert summary.gate_counts["measure"] == 3 and summary.gate_counts["rz"] == 2 and summary.gate_counts["cx"] == 3
    assert host.call("qtau_circuit_summary", circuit=object(), circuit_format="qiskit") is None


def test_a_circuit_with_result_types_returns_values(host):
    """Only Braket computes a circuit's result types (`Result.values`): QDREAMER places such a
    circuit on no resource that converts it (`CircuitSummary.returns_values`)."""
    from braket.circuits import Observable

    plain = Circuit().h(0).cnot(0, 1)
    with_types = Circuit().h(0).cnot(0, 1).expectation(Observable.Z(), target=[0])
    assert not host.call("qtau_circuit_summary", circuit=plain, circuit_format="braket").returns_values
    assert host.call("qtau_circuit_summary", circuit=with_types, circuit_format="braket").returns_values


def test_openqasm3_task_runs_on_local(host):
    from qtau.service import PilotComputeService
    from qtau.types import QuantumTask

    pcs = PilotComputeService(execution_engine="local", plugins=host)
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_local"}})
        text = "OPENQASM 3.0;\ninclude \"stdgates.inc\";\nbit[3] c;\nqubit[3] q;\nx q[0];\nc = measure q;\n"
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=text, shots=50)), timeout=60)
        assert result.get_counts() == {"001": 50}
        assert result.conversion_path == ("openqasm3", "braket")
    finally:
        pcs.close()


def test_outcome_records_whether_measurement_was_implicit():
    """Metadata says whether Braket measured every qubit because the circuit measured none."""
    from qtau_braket.outcomes import outcome

    implicit = Circuit().x(0).i(1)
    explicit = Circuit().x(0).i(1).measure(0)
    simulator = LocalSimulator()
    first = outcome(simulator.run(implicit, shots=5).result(), implicit)
    second = outcome(simulator.run(explicit, shots=5).result(), explicit)
    assert first.metadata["implicit_measure_all"] is True and first.counts == {"01": 5}
    assert second.metadata["implicit_measure_all"] is False and second.counts == {"1": 5}
    assert second.metadata["measured_qubits"] == [0]


def test_only_devices_on_aws_name_braket_aws_for_core_to_import_first():
    """Local simulators need no boto3: core imports `braket.aws` one thread at a time only before
    an AWS device's first executor (`qtau.sdk_imports`)."""
    from qtau.types import Resource
    from qtau_braket.plugin import BraketBackend

    backend = BraketBackend()
    local = Resource("braket:local_sv", "braket", "braket_local", "simulator", 4, circuit_formats=("braket",))
    aws = Resource("braket:sv1", "braket", "braket_sv1", "simulator", 4, circuit_formats=("braket",), remote=True)
    assert "braket.aws" not in backend.sdk_modules_for(local)
    assert "braket.circuits" in backend.sdk_modules_for(local)
    assert backend.sdk_modules_for(aws)[-1] == "braket.aws"


def test_braket_only_gates_reach_transpiling_resources_and_native_devices():
    """A Circuit in IonQ's native gates is summarised in them, so a device that runs only those
    (an IonQ QPU: no transpiler) takes it, and a transpiling resource of any SDK takes it too: core
    writes gpi, ms... in standard gates (qtau.qasm3.BRAKET_GATES). `gphase` is no gate."""
    from qtau.dreamer.terms import gates_reason
    from qtau.types import Resource
    from qtau_braket.formats import summary

    circuit = Circuit().gpi(0, 0.1).gpi2(1, 0.2).ms(0, 1, 0.1, 0.2, 0.3).gphase(0.4)
    gates = summary(circuit, "braket").gate_names
    assert set(gates) == {"gpi", "gpi2", "ms"}
    ionq = Resource(id="braket:ionq", provider="braket", executor="braket_ionq", kind="qpu", num_qubits=25,
                    native_gates=("gpi", "gpi2", "ms"), transpiles=False)
    aer = Resource(id="qiskit:aer_simulator", provider="qiskit", executor="qiskit_local", kind="simulator",
                   num_qubits=30)
    assert gates_reason(ionq, gates) == "" and gates_reason(aer, gates) == ""
