"""Measurement semantics: measured subsets, mid-circuit measurement and classical control."""

import pytest
from qiskit import QuantumCircuit
from qtau import PilotComputeService, QuantumTask
from qtau.errors import NoSuitableResourceError
from qtau.plugins import PluginHost


@pytest.fixture(scope="module")
def pcs():
    host = PluginHost(strict=True)
    host.load_entry_points(allow={"qiskit", "scripted"})
    with PilotComputeService(plugins=host) as service:
        service.create_pilot({"quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}})
        # A scripted resource models a device without mid-circuit measurement (the default).
        service.create_pilot({"quantum": {"executor": "scripted", "resources": [{"name": "plain", "qubits": 5}]}})
        yield service


def measured_subset() -> QuantumCircuit:
    """Qubit 0 flipped but unmeasured; qubit 2 flipped and measured into clbit 1."""
    qc = QuantumCircuit(3, 2)
    qc.x(0)
    qc.x(2)
    qc.measure(1, 0)
    qc.measure(2, 1)
    return qc


def mid_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.measure(0, 0)
    qc.x(0)
    qc.measure(0, 1)
    return qc


def classically_controlled() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.measure(1, 1)
    return qc


def test_a_measured_subset_reads_only_the_measured_bits(pcs):
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=measured_subset(), shots=50, policy={"fidelity": 1})))
    assert result.counts == {"10": 50}


def test_mid_circuit_measurement_goes_only_where_it_can_run(pcs):
    table = pcs.qdreamer.explain(QuantumTask(circuit=mid_circuit()))
    reasons = {row.resource_id: row.reason for row in table.rows}
    assert "cannot run mid-circuit measurement" in reasons["scripted:plain"]
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=mid_circuit(), shots=200)))
    assert result.resource_id == "qiskit:aer_simulator"
    # Clbit 1 is always the flipped qubit 0: keys read '1x' if the first measurement gave 0, '0x' if 1.
    assert set(result.counts) == {"10", "01"}


def test_classical_control_is_rejected_clearly_where_unsupported(pcs):
    table = pcs.qdreamer.explain(QuantumTask(circuit=classically_controlled()))
    reasons = {row.resource_id: row.reason for row in table.rows}
    assert "cannot run classically controlled operations" in reasons["scripted:plain"]
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=classically_controlled(), shots=200)))
    assert set(result.counts) == {"00", "11"}


def test_nothing_that_can_run_it_says_why(pcs):
    only_plain = PilotComputeService(plugins=pcs.host)
    only_plain.create_pilot({"quantum": {"executor": "scripted", "resources": [{"name": "plain", "qubits": 5}]}})
    with pytest.raises(NoSuitableResourceError) as info:
        only_plain.submit_quantum_task(QuantumTask(circuit=classically_controlled()))
    assert "classically controlled" in info.value.rejections["scripted:plain"]
    only_plain.close()
