"""OpenQASM 3 with mid-circuit measurement, conditions on measured bits and resets after use runs
on braket_local and braket_local_dm as a program (`qtau_braket.programs`).

A Braket Circuit cannot hold these, so they were refused (QDREAMER: "cannot run classically
controlled operations" / "cannot run mid-circuit measurement"), though Braket's LocalSimulator runs
them given the program itself; `if (c[0] == 1)` ran nowhere in QTAU (Qiskit's reader refuses it).
References: the LocalSimulator on the program itself (Braket's built-in gates, no include), and
Qiskit Aer through QTAU's qiskit_local where Qiskit reads the program. Real SDKs throughout.
"""

from __future__ import annotations

import math

import pytest
from braket.circuits import Circuit
from braket.devices import LocalSimulator
from braket.ir.openqasm import Program
from qtau.errors import CircuitConversionError, NoSuitableResourceError
from qtau.types import QuantumTask
from qtau_braket.formats import from_openqasm3
from qtau_braket.outcomes import common_order
from qtau_braket.programs import BraketProgram

HEADER = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'
LOCAL = ("braket:local_sv", "braket:local_dm")

#: Deterministic programs, written with gates Braket and stdgates.inc share (x, h, reset).
DETERMINISTIC = {
    # Qiskit's reader refuses `bit == int`: this ran nowhere in QTAU.
    "if_bit_eq_int": "qubit[2] q;\nbit[2] c;\nx q[0];\nc[0] = measure q[0];\nif (c[0] == 1) {\n  x q[1];\n}\n"
                     "c[1] = measure q[1];\n",
    "if_bool": "qubit[2] q;\nbit[2] c;\nx q[0];\nc[0] = measure q[0];\nif (c[0]) {\n  x q[1];\n}\nc[1] = measure q[1];\n",
    "if_else": "qubit[2] q;\nbit[2] c;\nc[0] = measure q[0];\nif (c[0]) {\n  x q[1];\n} else {\n  x q[0];\n}\n"
               "c[1] = measure q[1];\n",
    "measure_reset_measure": "qubit[1] q;\nbit[2] c;\nx q[0];\nc[0] = measure q[0];\nreset q[0];\nc[1] = measure q[0];\n",
    "reset_after_use": "qubit[2] q;\nbit[2] c;\nx q[0];\nx q[1];\nreset q[0];\nc = measure q;\n",
    # c[0] is written twice: the second measurement (of q[0] flipped back to 0) is what it holds.
    "one_bit_measured_twice": "qubit[2] q;\nbit[2] c;\nx q[0];\nc[0] = measure q[0];\nif (c[0]) {\n  x q[1];\n}\n"
                              "x q[0];\nc[0] = measure q[0];\nc[1] = measure q[1];\n",
    "measured_qubit_used_again": "qubit[2] q;\nbit[3] c;\nx q[0];\nc[0] = measure q[0];\nx q[0];\nc[1] = measure q[0];\n"
                                 "x q[1];\nc[2] = measure q[1];\n",
}
#: Qiskit's reader refuses these; the others it reads.
NOT_FOR_QISKIT = {"if_bit_eq_int"}


def braket_direct(body: str, shots: int = 100) -> dict[str, int]:
    """Braket's LocalSimulator on the program itself, bit 0 rightmost."""
    result = LocalSimulator().run(Program(source="OPENQASM 3.0;\n" + body), shots=shots).result()
    return common_order(result.measurement_counts)


@pytest.fixture(scope="module")
def service():
    from qtau.service import PilotComputeService

    pcs = PilotComputeService(execution_engine="local")
    for quantum in ({"executor": "braket_local"}, {"executor": "braket_local_dm"},
                    {"executor": "braket_local_dm", "noise": {"depolarizing_1q": 0.01}}):
        pcs.create_pilot({"resource_type": "quantum", "quantum": quantum})
    yield pcs
    pcs.close()


@pytest.fixture(scope="module")
def aer_service():
    """Qiskit Aer through QTAU, the reference for programs Qiskit reads."""
    pytest.importorskip("qtau_qiskit")
    from qtau.service import PilotComputeService

    pcs = PilotComputeService(execution_engine="local")
    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
    yield pcs
    pcs.close()


def run(service, circuit, resource="braket:local_sv", shots=100):
    return service.get_result(service.submit_quantum_task(QuantumTask(circuit=circuit, shots=shots, resource=resource)),
                              timeout=120)


@pytest.mark.parametrize("resource", LOCAL)
@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_a_program_that_needs_it_runs_as_a_program_with_braket_s_answer(service, name, resource):
    body = DETERMINISTIC[name]
    expected = braket_direct(body)
    assert len(expected) == 1
    result = run(service, HEADER + body, resource)
    assert result.get_counts() == expected
    assert "program_path" in result.metadata


@pytest.mark.parametrize("name", sorted(set(DETERMINISTIC) - NOT_FOR_QISKIT))
def test_the_program_path_agrees_with_aer(service, aer_service, name):
    text = HEADER + DETERMINISTIC[name]
    expected = run(aer_service, text, "qiskit:aer_simulator").get_counts()
    assert len(expected) == 1
    assert run(service, text).get_counts() == expected


def test_a_feed_forward_program_is_placed_on_braket_local(service):
    text = HEADER + DETERMINISTIC["if_bit_eq_int"]
    rows = {row.resource_id: row for row in service.qdreamer.explain(QuantumTask(circuit=text, shots=50)).rows}
    assert rows["braket:local_sv"].feasible and rows["braket:local_dm"].feasible
    # A noise model applies to Braket Circuits only: a noisy simulator keeps its refusal.
    assert "cannot run classically controlled operations" in rows["braket:local_dm_noisy"].reason
    with pytest.raises(NoSuitableResourceError, match="classically controlled"):
        service.submit_quantum_task(QuantumTask(circuit=text, shots=50, resource="braket:local_dm_noisy"))
    assert run(service, text, resource=None).get_counts() == {"11": 100}


def _within(counts: dict[str, int], probabilities: dict[str, float], shots: int) -> None:
    """Every outcome's count within 5 standard deviations of its probability; nothing else seen."""
    assert set(counts) <= {k for k, p in probabilities.items() if p > 0}, counts
    for key, p in probabilities.items():
        assert abs(counts.get(key, 0) - p * shots) <= 5 * math.sqrt(shots * p * (1 - p)) + 1, (key, counts)


@pytest.mark.parametrize("resource", LOCAL)
def test_a_random_feed_forward_outcome_is_sampled_by_branch(service, resource):
    """h, measure, conditional x: 00 and 11 half each (the hunt's 11_if_bit), 10 and 01 never."""
    body = "qubit[2] q;\nbit[2] c;\nh q[0];\nc[0] = measure q[0];\nif (c[0] == 1) {\n  x q[1];\n}\nc[1] = measure q[1];\n"
    shots = 2000
    _within(braket_direct(body, shots), {"00": 0.5, "11": 0.5}, shots)
    _within(run(service, HEADER + body, resource, shots).get_counts(), {"00": 0.5, "11": 0.5}, shots)


#: Controls not next to their targets, in a feed-forward program: Braket's simulator applies
#: `ctrl @` to the wrong amplitudes there (as on the Circuit path, qtau_braket.controls).
FAR_CONTROLS = ("qubit[4] q;\nbit[4] c;\nh q[0];\nh q[3];\nry(0.8) q[1];\nc[0] = measure q[0];\n"
                "if (c[0]) {\n  ctrl @ ry(1.2) q[3], q[0];\n  ctrl @ x q[3], q[1];\n}\ncx q[1], q[2];\n"
                "negctrl @ h q[2], q[0];\nc[1] = measure q[1];\nc[2] = measure q[2];\nc[3] = measure q[3];\n")


def test_controls_far_from_their_targets_agree_with_aer(service, aer_service):
    shots = 4000
    ours = run(service, HEADER + FAR_CONTROLS, shots=shots).get_counts()
    reference = run(aer_service, HEADER + FAR_CONTROLS, "qiskit:aer_simulator", shots=shots).get_counts()
    distance = sum(abs(ours.get(k, 0) - reference.get(k, 0)) for k in set(ours) | set(reference)) / (2 * shots)
    assert distance < 0.05, (ours, reference)


def test_the_program_path_writes_controlled_gates_as_unitaries():
    """The state the program path leaves equals the Circuit path's (controlled gates as unitaries,
    qtau_braket.controls) on random 5-qubit programs of `ctrl @`, `negctrl @`, `inv @`, `pow @`."""
    import random

    import numpy as np
    from qtau_braket.controls import explicit_controls
    from qtau_braket.programs import program_simulator

    rng = random.Random(7)
    ours, circuits = program_simulator("braket_sv"), LocalSimulator()
    for _ in range(12):
        lines = ["OPENQASM 3.0;", "qubit[5] q;"]
        for _ in range(10):
            a, b, c = rng.sample(range(5), 3)
            lines.append(rng.choice([f"h q[{a}];\ncnot q[{a}], q[{b}];", f"ry({rng.uniform(0, 3):.3f}) q[{a}];",
                                     f"ctrl @ ry(1.1) q[{a}], q[{b}];", f"negctrl @ h q[{a}], q[{b}];",
                                     f"ctrl(2) @ rx(0.4) q[{a}], q[{b}], q[{c}];", f"inv @ ctrl @ U(0.3, 0.2, 0.1) q[{a}], q[{b}];",
                                     f"pow(0.5) @ ctrl @ x q[{a}], q[{b}];"]))
        text = "\n".join(lines) + "\n"
        state = ours.run(Program(source=text + "#pragma braket result state_vector\n"), shots=0).result().values[0]
        circuit = explicit_controls(from_openqasm3(text))
        circuit.state_vector()
        reference = circuits.run(circuit, shots=0).result().values[0]
        assert abs(np.vdot(np.asarray(state), np.asarray(reference))) > 1 - 1e-9, text


def test_a_qiskit_circuit_with_feed_forward_runs_on_braket_local(service, aer_service):
    qiskit = pytest.importorskip("qiskit")
    qc = qiskit.QuantumCircuit(3, 3)
    qc.x(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(2)
    qc.cx(0, 1)  # the measured qubit used again
    qc.measure(1, 1)
    qc.measure(2, 2)
    expected = run(aer_service, qc, "qiskit:aer_simulator").get_counts()
    assert expected == {"111": 100}
    assert run(service, qc).get_counts() == run(service, qc, "braket:local_dm").get_counts() == expected


def test_unwritten_bits_and_single_bits_keep_qtau_s_keys(service, aer_service):
    partial = HEADER + "qubit[3] q;\nbit[3] c;\nx q[0];\nc[0] = measure q[0];\nif (c[0]) {\n  x q[2];\n}\nc[2] = measure q[2];\n"
    singles = HEADER + "qubit[2] q;\nbit b0;\nbit b1;\nx q[0];\nb0 = measure q[0];\nif (b0) {\n  x q[1];\n}\nb1 = measure q[1];\n"
    for text, expected in ((partial, {"101": 100}), (singles, {"11": 100})):
        assert run(aer_service, text, "qiskit:aer_simulator").get_counts() == expected
        assert run(service, text).get_counts() == expected


def test_an_unmeasured_program_with_a_reset_reads_every_declared_qubit(service):
    text = HEADER + "qubit[3] q;\nx q[2];\nx q[0];\nreset q[0];\n"
    assert run(service, text).get_counts() == {"100": 100}


def test_what_the_program_path_cannot_run_is_refused_naming_the_fix():
    # Braket's simulator fails on a condition on several bits (`c[0:1] == 1`, `c == 1`).
    text = HEADER + "qubit[3] q;\nbit[3] c;\nx q[0];\nc[0] = measure q[0];\nc[1] = measure q[1];\nif (c[0:1] == 1) {\n" \
                    "  x q[2];\n}\nc[2] = measure q[2];\n"
    with pytest.raises(CircuitConversionError, match="cannot run this program with classical control") as caught:
        from_openqasm3(text)
    assert caught.value.field == "circuit" and "Qiskit Aer" in caught.value.fix
    # Result types are dropped by Braket's branched runs: refused rather than lost.
    pragma = HEADER + DETERMINISTIC["if_bool"] + "#pragma braket result probability q[0]\n"
    with pytest.raises(CircuitConversionError, match="no result types"):
        from_openqasm3(pragma)


def test_everything_else_keeps_the_circuit_path():
    plain = HEADER + "qubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nbox {\n  x q[0];\n}\nc = measure q;\n"
    assert isinstance(from_openqasm3(plain), Circuit)
    program = from_openqasm3(HEADER + DETERMINISTIC["if_bool"])
    assert isinstance(program, BraketProgram) and program.needs == ("classical control",)
    assert from_openqasm3(HEADER + DETERMINISTIC["measure_reset_measure"]).needs == ("mid-circuit measurement",
                                                                                   "reset after use")
