"""Measurement semantics: measured subsets, mid-circuit measurement and classical control."""

import contextlib

import pytest
from qiskit import QuantumCircuit
from qtau import PilotComputeService, QuantumTask
from qtau.errors import NoSuitableResourceError
from qtau.plugins import PluginHost
from qtau_test_circuits import classically_controlled


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


# -- classical bits no measurement writes ---------------------------------------------------------
# Qiskit reads every classical bit (an unwritten one as 0); Braket and PennyLane read one bit per
# measurement. Summaries say which bits are written, so results are put back at those bits.

QASM2_SPARSE = ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg a[2];\ncreg b[3];\n'
                'x q[0];\nmeasure q[0] -> b[1];\nmeasure q[1] -> a[0];\n')
QASM3_SPARSE = ('OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] a;\nbit[3] b;\nqubit[2] q;\n'
                'x q[0];\nb[1] = measure q[0];\na[0] = measure q[1];\n')


def test_summaries_say_which_classical_bits_a_measurement_writes():
    from qiskit import qasm2
    from qtau.qasm_summary import summarize
    from qtau_qiskit.formats import summary

    for found in (summarize(QASM2_SPARSE, "2"), summarize(QASM3_SPARSE, "3"),
                  summary(qasm2.loads(QASM2_SPARSE), "qiskit")):
        assert (found.classical_bits, found.measured_bits) == (5, (0, 3)), found
    whole = summarize("OPENQASM 3.0;\nqubit[2] q;\nbit[1] x;\nbit[2] c = measure q;\n", "3")
    assert (whole.classical_bits, whole.measured_bits, whole.num_measured) == (3, (1, 2), 2)
    assert summary(measured_subset(), "qiskit").measured_bits == (0, 1)


def test_keys_read_per_measurement_are_put_back_at_their_bits():
    from qtau.circuits import spread_counts

    # bits 0 and 3 of 5 written: a key per measurement ("10": bit 3 is 1, bit 0 is 0)
    assert spread_counts({"10": 7, "01": 3}, (5, (0, 3))) == {"01000": 7, "00001": 3}
    assert spread_counts({"01000": 7}, (5, (0, 3))) == {"01000": 7}  # already every bit: as it is


def test_braket_numbers_the_written_bits_densely_and_runs_them():
    from braket.devices import LocalSimulator
    from qtau_braket.formats import for_braket, from_openqasm3
    from qtau_braket.outcomes import common_order

    text = "OPENQASM 3.0;\nbit[4] c;\nqubit[2] q;\nx q[0];\nc[3] = measure q[0];\nc[1] = measure q[1];\n"
    assert "bit[2] c;" in for_braket(text) and "c[1] = measure q[0];" in for_braket(text)
    result = LocalSimulator().run(from_openqasm3(text), shots=10).result()
    assert common_order(result.measurement_counts) == {"10": 10}  # bits 1 and 3, in bit order


#: A simulator of each kind of counts reader: every classical bit (Aer), the written ones only
#: (lightning through PennyLane, Braket's local simulator).
SIMULATORS = ("qiskit:aer_simulator", "pennylane:lightning.qubit", "braket:local_sv")


@contextlib.contextmanager
def three_simulators():
    """A service with a pilot for each of SIMULATORS."""
    host = PluginHost(strict=True)
    host.load_entry_points(allow={"qiskit", "pennylane", "braket"})
    with PilotComputeService(plugins=host) as service:
        for quantum in ({"executor": "qiskit_local", "backend": "aer_simulator"},
                        {"executor": "pennylane_lightning", "device": "lightning.qubit"},
                        {"executor": "braket_local"}):
            service.create_pilot({"quantum": quantum})
        yield service


def test_unwritten_bits_read_zero_at_their_place_on_every_kind_of_simulator():
    with three_simulators() as service:
        tasks = [QuantumTask(circuit=circuit, shots=20, resource=rid)
                 for circuit in (QASM2_SPARSE, QASM3_SPARSE) for rid in SIMULATORS]
        results = service.get_results(service.submit_quantum_tasks(tasks), timeout=300)
    # x on q[0] read into b[1] (bit 3 of a[2] b[3]); q[1] (0) into a[0] (bit 0)
    assert [(r.resource_id, dict(r.counts)) for r in results] == [
        (t.resource, {"01000": 20}) for t in tasks]


def test_a_measurement_pointed_at_another_bit_after_a_run_reads_into_its_new_bit():
    """The layout of a circuit's counts is cached per circuit object (a sampler sends one object
    many times) and must follow a mutation: the same object, same gates and length, its measurement
    moved from bit 2 to bit 0, read '100' again on Braket and PennyLane (they read only the written
    bits, which QTAU puts back at their places)."""
    from qiskit.circuit import CircuitInstruction
    from qiskit.circuit.library import Measure

    with three_simulators() as service:
        qc = QuantumCircuit(2, 3)
        qc.x(0)
        qc.measure(0, 2)

        def counts():
            tasks = [QuantumTask(circuit=qc, shots=10, resource=rid) for rid in SIMULATORS]
            return [dict(r.counts) for r in service.get_results(service.submit_quantum_tasks(tasks), timeout=300)]

        before = counts()
        qc.data[-1] = CircuitInstruction(Measure(), [qc.qubits[0]], [qc.clbits[0]])
        after = counts()
    assert before == [{"100": 10}] * 3
    assert after == [{"001": 10}] * 3
