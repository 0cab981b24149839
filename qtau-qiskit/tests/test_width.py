"""The worker's width read (`qtau_circuit_width`) agrees with the full summary on real Qiskit
circuits, answers only for the `qiskit` format, and still catches a circuit wider than its task's
`num_qubits` (no mocks: the plugin's hooks and a real LOCAL service)."""

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit.library import QFTGate
from qiskit.circuit.random import random_circuit
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.circuits import Circuits
from qtau.errors import CircuitWidthError
from qtau.plugins import PluginHost
from qtau_qiskit import plugin
from qtau_qiskit.formats import summary


def circuits() -> list[QuantumCircuit]:
    wide = QuantumCircuit(QuantumRegister(3, "a"), QuantumRegister(4, "anc"))
    wide.append(QFTGate(5), range(5))
    idle = QuantumCircuit(6, 1)  # qubits that no gate touches still count
    idle.measure(0, 0)
    return [wide, idle, *(random_circuit(n, 4, measure=True, seed=n) for n in (1, 3, 8))]


@pytest.mark.parametrize("qc", circuits(), ids=lambda qc: f"{qc.num_qubits}q")
def test_width_is_the_summarys_width(qc):
    assert plugin.qtau_circuit_width(qc, "qiskit") == summary(qc, "qiskit").num_qubits == qc.num_qubits


def test_width_answers_only_for_qiskit_objects():
    text = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[3]; h q[0];'
    assert plugin.qtau_circuit_width(text, "openqasm2") is None
    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    assert Circuits(host).width(text, "openqasm2") == 3  # text: core's own summary


def build_wide():
    qc = QuantumCircuit(5, 5)
    qc.h(range(5))
    qc.measure(range(5), range(5))
    return qc


def test_a_circuit_wider_than_declared_fails_on_the_worker():
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL)
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        handle = pcs.submit_quantum_task(QuantumTask(circuit=build_wide, num_qubits=3, shots=10))
        with pytest.raises(CircuitWidthError) as info:
            pcs.get_result(handle, timeout=60)
        assert (info.value.field, info.value.value) == ("num_qubits", 5)
    finally:
        pcs.cancel()


def test_an_unmeasured_circuit_reads_a_bit_per_qubit_whatever_classical_bits_it_declares():
    """`QuantumCircuit(2, 2)` with no measurement read `0011` on Aer and BasicSimulator (measure_all
    added a register beside the two unused bits) and `11` on PennyLane and Braket. Bits a condition
    reads stay."""
    from qtau_qiskit.simulators import with_measurements

    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        for resource in ("qiskit:aer_simulator", "qiskit:basic_simulator"):
            for qc in (QuantumCircuit(2, 2), QuantumCircuit(2), QuantumCircuit(QuantumRegister(2), ClassicalRegister(3))):
                qc.x([0, 1])
                task = QuantumTask(circuit=qc, shots=10, resource=resource)
                assert pcs.get_result(pcs.submit_quantum_task(task), timeout=60).get_counts() == {"11": 10}
    conditioned = QuantumCircuit(1, 1)
    with conditioned.if_test((conditioned.clbits[0], 0)):
        conditioned.x(0)
    measured, added = with_measurements(conditioned)
    assert added and measured.num_clbits == 2
