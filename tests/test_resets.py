"""Resets go where they run: a reset after a qubit's use only on resources that measure mid-circuit.

Braket's OpenQASM reader (`Circuit.from_ir`) drops `reset` without a word, so a reset after use
ran there as if it were not written (X, X, reset q[0] read "11"). QDREAMER keeps such a circuit
off resources without mid-circuit measurement, saying why (a noisy braket_local_dm: its noise
model applies to Braket Circuits only); braket_local runs it as an OpenQASM program
(`qtau_braket.programs`), with the reset. A reset of a fresh qubit does
nothing, is not counted, and runs anywhere (Qiskit's `initialize` begins with one per qubit).
Likewise classical control stays off BasicSimulator, which measures mid-circuit but runs no `if`.
Real Qiskit, Aer and Braket.
"""

from __future__ import annotations

import pytest
from qtau import QuantumTask
from qtau.errors import NoSuitableResourceError
from qtau_test_services import local_service

pytest.importorskip("qtau_qiskit")
pytest.importorskip("qtau_braket")

HEAD = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
#: X on both qubits, then q0 reset: "10" (q1 is 1, q0 back to 0).
RESET_AFTER_USE = HEAD + "x q[0];\nx q[1];\nreset q[0];\nmeasure q -> c;\n"
#: Resets of fresh qubits, then X on q1: "10" anywhere.
RESET_FRESH = HEAD + "reset q[0];\nreset q[1];\nx q[1];\nmeasure q -> c;\n"


@pytest.fixture(scope="module")
def pcs():
    service = local_service(("qiskit", "braket"), ("qiskit_local", "braket_local"))
    service.create_pilot({"resource_type": "quantum", "quantum": {
        "executor": "braket_local_dm", "noise": {"depolarizing_1q": 0.01}}})
    yield service
    service.close()


def test_a_reset_after_use_is_kept_off_a_noisy_braket_dm_with_the_reason(pcs):
    rows = {row.resource_id: row for row in pcs.qdreamer.explain(QuantumTask(circuit=RESET_AFTER_USE, shots=50)).rows}
    assert "cannot reset a qubit mid-circuit" in rows["braket:local_dm_noisy"].reason
    assert rows["qiskit:aer_simulator"].feasible and rows["braket:local_sv"].feasible
    with pytest.raises(NoSuitableResourceError, match="cannot reset a qubit mid-circuit"):
        pcs.submit_quantum_task(QuantumTask(circuit=RESET_AFTER_USE, shots=50, resource="braket:local_dm_noisy"))


def test_a_reset_after_use_runs_on_braket_local_as_a_program(pcs):
    result = pcs.get_result(pcs.submit_quantum_task(
        QuantumTask(circuit=RESET_AFTER_USE, shots=50, resource="braket:local_sv")), timeout=120)
    assert result.get_counts() == {"10": 50} and "program_path" in result.metadata


def test_a_reset_after_use_runs_where_it_means_what_it_says(pcs):
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=RESET_AFTER_USE, shots=50)), timeout=120)
    assert result.get_counts() == {"10": 50} and result.resource_id != "braket:local_dm_noisy"


def test_a_reset_of_fresh_qubits_runs_on_braket_too(pcs):
    result = pcs.get_result(pcs.submit_quantum_task(
        QuantumTask(circuit=RESET_FRESH, shots=50, resource="braket:local_sv")), timeout=120)
    assert result.get_counts() == {"10": 50}


def test_control_flow_is_kept_off_basicsimulator_which_measures_mid_circuit_but_has_no_if(pcs):
    """BasicSimulator measures mid-circuit but its transpiler refuses `if_else`: a feed-forward
    circuit was placed there when pinned (and tried there in failover), to fail at run time."""
    feed_forward = HEAD + "h q[0];\nmeasure q[0] -> c[0];\nif(c==1) x q[0];\nmeasure q[0] -> c[0];\n"
    rows = {row.resource_id: row for row in pcs.qdreamer.explain(QuantumTask(circuit=feed_forward, shots=50)).rows}
    assert "cannot run classically controlled operations" in rows["qiskit:basic_simulator"].reason
    assert rows["qiskit:aer_simulator"].feasible
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=feed_forward, shots=50)), timeout=120)
    assert result.resource_id == "qiskit:aer_simulator" and result.get_counts() == {"00": 50}
