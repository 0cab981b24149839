"""Gate counts as an optimising transpiler runs a circuit (issue 27 item 3): QDREAMER's mitigation
pairs predict the error of the gates that run, and on IBM backends (optimization_level 1+) a gate
followed by its inverse never runs. A mirror circuit's written gates predicted a fidelity of 0.84
on fake_manila, which ran it at 0.999, and `auto` passed over the fake's pairs."""

from collections import Counter

import pytest
from qtau.mitigation.as_run import cancelled_counts, cancelled_interactions, optimises
from qtau.mitigation.routing import interactions

HEAD = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\n'
TAIL = "measure q -> c;\n"
HALF = ["u(0.3,1.1,pi/4) q[0];", "u(2.0,0.5,0.25) q[1];", "cx q[0],q[1];", "rz(0.7) q[2];", "cx q[1],q[2];"]
INVERSE = ["cx q[1],q[2];", "rz(-0.7) q[2];", "cx q[0],q[1];", "u(-2.0,-0.25,-0.5) q[1];",
           "u(-0.3,-pi/4,-1.1) q[0];"]


def program(*lines):
    return HEAD + "\n".join(lines) + "\n" + TAIL


def test_a_mirror_circuit_cancels_to_nothing():
    assert cancelled_counts(program(*HALF, *INVERSE)) == Counter()
    assert cancelled_interactions(program(*HALF, *INVERSE)) == Counter()


def test_a_circuit_without_inverse_pairs_keeps_every_gate():
    ghz = program("h q[0];", "cx q[0],q[1];", "cx q[1],q[2];")
    assert cancelled_counts(ghz) == Counter({"h": 1, "cx": 2})
    assert cancelled_interactions(ghz) == interactions(ghz)
    assert cancelled_counts(program(*HALF)) == Counter({"u": 2, "cx": 2, "rz": 1})


def test_only_true_inverses_on_the_same_qubits_cancel():
    assert cancelled_counts(program("cx q[0],q[1];", "cx q[1],q[0];")) == Counter({"cx": 2})
    assert cancelled_counts(program("rz(0.7) q[0];", "rz(0.7) q[0];")) == Counter({"rz": 2})
    assert cancelled_counts(program("x q[0];", "y q[0];")) == Counter({"x": 1, "y": 1})
    assert cancelled_counts(program("s q[0];", "sdg q[0];", "t q[1];", "tdg q[1];")) == Counter()
    # A gate between them on one of the qubits keeps the pair apart.
    assert cancelled_counts(program("cx q[0],q[1];", "h q[1];", "cx q[0],q[1];")) == Counter({"cx": 2, "h": 1})


def test_a_barrier_blocks_cancellation_and_whole_registers_count():
    assert cancelled_counts(program("h q[0];", "barrier q[0],q[1];", "h q[0];")) == Counter({"h": 2})
    assert cancelled_counts(program("h q;", "h q;")) == Counter()
    assert cancelled_counts(program("h q;", "h q[0];")) == Counter({"h": 2})  # on q[1] and q[2]
    assert cancelled_counts(program("h q;")) == Counter({"h": 3})


def test_text_that_is_no_program_gives_none():
    assert cancelled_counts("this is not OpenQASM") is None
    assert cancelled_counts(program("rz(theta) q[0];")) is None  # a free parameter has no value


@pytest.mark.parametrize(("metadata", "expected"), [
    ({"optimization_level": 1}, True), ({"optimization_level": 3}, True), ({"optimization_level": "auto"}, True),
    ({"optimization_level": 0}, False), ({}, False), ({"optimization_level": True}, False)])
def test_which_resources_optimise(metadata, expected):
    assert optimises(metadata) is expected


def test_ibm_pairs_predict_the_mirror_circuit_the_transpiler_runs():
    """fake_manila (Runtime's local mode) at optimization_level 1 runs none of a mirror circuit's
    gates; at level 0 it runs them all: the pairs' predicted bias says so."""
    pytest.importorskip("qiskit_ibm_runtime")
    from qtau import PilotComputeService, QuantumTask

    biases = {}
    for level in (0, 1):
        with PilotComputeService() as pcs:
            pcs.create_pilot({"resource_type": "quantum",
                              "quantum": {"executor": "ibmq_fake_manila", "optimization_level": level}})
            [res] = [r for p in pcs.pilots.values() for r in p.resources]
            assert res.metadata["optimization_level"] == level
            links = res.metadata["two_qubit_errors"]  # manila is a line of 5: 4 links
            assert [link[:2] for link in links] == [[0, 1], [1, 2], [2, 3], [3, 4]]
            assert all(0 < link[2] < 0.1 for link in links)
            task = QuantumTask(circuit=program(*HALF, *INVERSE), shots=4000, mitigation="auto")
            pairs = {p.technique: p for p in pcs.qdreamer.explain(task).pairs.pairs}
            biases[level] = pairs["trex"].bias
    assert biases[1] < 0.01 < biases[0], biases
