"""Core's OpenQASM reader: the built-ins and definitions read as the OpenQASM 2 and 3 specs say.

Each test pins one reading a mutation of `qtau.qasm_summary` would change (issue 21): a second
register's offset, controls added by `ctrl @`, the width of physical qubits, a body repeating a
gate, and the built-ins (`barrier`, `reset`, `delay`, `opaque`, `if`, `gphase`) that once got
valid programs refused. No SDK is imported: core reads OpenQASM itself.
"""

from __future__ import annotations

import pytest
from qtau.errors import InvalidTaskError
from qtau.qasm_summary import controlled, controls, summarize

HEAD2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
HEAD3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def test_a_qasm2_barrier_needs_no_definition_and_is_no_gate():
    """Qiskit's `qasm2.dumps` and every MQT Bench circuit write barriers: they were all refused."""
    text = HEAD2 + "qreg q[3];\ncreg c[3];\nh q[0];\nbarrier q[0],q[1],q[2];\nbarrier q;\ncx q[0],q[1];\nmeasure q -> c;\n"
    summary = summarize(text, "2")
    assert summary.gate_counts == {"h": 1, "cx": 1}
    assert summary.num_qubits == 3 and summary.num_measured == 3
    assert not summary.mid_circuit_measurement


def test_a_barrier_after_measurement_is_no_mid_circuit_operation():
    text = HEAD2 + "qreg q[2];\ncreg c[2];\nh q[0];\nmeasure q[0] -> c[0];\nbarrier q;\nmeasure q[1] -> c[1];\n"
    assert not summarize(text, "2").mid_circuit_measurement


def test_an_undefined_qasm2_gate_is_still_refused_by_name():
    with pytest.raises(InvalidTaskError, match="'foo'.*not defined") as info:
        summarize(HEAD2 + "qreg q[1];\nfoo q[0];\n", "2")
    assert info.value.field == "circuit" and info.value.value == "foo"


def test_a_second_register_starts_after_the_first():
    """Measuring `a[0]` and then acting on `b[0]` is no mid-circuit measurement: they are qubits 0 and 1."""
    for text, version in (
        (HEAD2 + "qreg a[1];\nqreg b[1];\ncreg c[2];\nmeasure a[0] -> c[0];\nx b[0];\nmeasure b[0] -> c[1];\n", "2"),
        (HEAD3 + "qubit[1] a;\nqubit[1] b;\nbit[2] c;\nc[0] = measure a[0];\nx b[0];\nc[1] = measure b[0];\n", "3"),
    ):
        summary = summarize(text, version)
        assert summary.num_qubits == 2
        assert summary.num_measured == 2
        assert not summary.mid_circuit_measurement, version


def test_register_indices_and_whole_registers_map_to_their_own_qubits():
    """`b[1]` is qubit 2 after `qreg a[1]; qreg b[2];`, and `b` is qubits 1 and 2."""
    text = HEAD2 + "qreg a[1];\nqreg b[2];\ncreg c[1];\ncreg d[2];\nmeasure a[0] -> c[0];\nx b[1];\nmeasure b -> d;\n"
    summary = summarize(text, "2")
    assert summary.num_measured == 3 and not summary.mid_circuit_measurement
    assert summarize(text.replace("x b[1]", "x a[0]"), "2").mid_circuit_measurement


def test_the_same_qubit_measured_then_used_is_mid_circuit():
    text = HEAD2 + "qreg a[1];\nqreg b[2];\ncreg c[3];\nmeasure b[1] -> c[0];\nx b[1];\n"
    assert summarize(text, "2").mid_circuit_measurement


@pytest.mark.parametrize(("statement", "expected"), [
    ("ctrl @ x q[0], q[1];", {"cx": 1}),
    ("ctrl @ ctrl @ x q[0], q[1], q[2];", {"ccx": 1}),
    ("ctrl(2) @ x q[0], q[1], q[2];", {"ccx": 1}),
    ("negctrl @ rz(0.5) q[0], q[1];", {"crz": 1}),
    ("inv @ ctrl @ h q[0], q[1];", {"ch": 1}),
    ("ctrl @ swap q[0], q[1], q[2];", {"cswap": 1}),
    ("ctrl @ ccx q[0], q[1], q[2], q[3];", {"ccx": 4, "cx": 1}),
    ("ctrl @ gphase(0.3) q[0];", {"p": 1}),
    ("gphase(0.3);", {}),
])
def test_control_modifiers_add_controls(statement, expected):
    summary = summarize(HEAD3 + "qubit[4] q;\n" + statement + "\n", "3")
    assert summary.gate_counts == expected


def test_controls_and_controlled_directly():
    assert controls("ctrl @ negctrl(3) @ inv @ ") == 4
    assert controlled("x", 0) == {"x": 1}
    assert controlled("x", 2) == {"ccx": 1}
    assert controlled("rz", 3) == {"ccx": 4, "crz": 1}
    assert controlled("magic", 1) == {"cmagic": 1}  # no definition: stays its own (refused) gate
    assert controlled("barrier", 2) == {"barrier": 1}  # directives take no controls
    assert controlled("cx", 0) == {"cx": 1}


def test_physical_qubits_count_to_the_highest_index():
    summary = summarize("OPENQASM 3.0;\nh $0;\ncx $0, $1;\nmeasure $1;\n", "3")
    assert summary.num_qubits == 2
    assert summary.num_measured == 1
    assert summarize("OPENQASM 3.0;\nx $4;\n", "3").num_qubits == 5


def test_a_defined_gate_counts_its_whole_body_at_every_use():
    for text, version in (
        (HEAD2 + "gate twice a, b { cx a, b; h b; cx a, b; }\nqreg q[2];\ntwice q[0], q[1];\ntwice q[1], q[0];\n", "2"),
        (HEAD3 + "gate twice a, b { cx a, b; h b; cx a, b; }\nqubit[2] q;\ntwice q[0], q[1];\ntwice q[1], q[0];\n", "3"),
    ):
        assert summarize(text, version).gate_counts == {"cx": 4, "h": 2}, version


def test_a_definition_using_a_definition_and_modifiers_counts_standard_gates():
    text = (HEAD3 + "gate inner a, b { cx a, b; cx b, a; }\n"
            "gate outer a, b, c { inner a, b; ctrl @ x b, c; barrier a; }\n"
            "qubit[3] q;\nouter q[0], q[1], q[2];\nctrl @ inner q[2], q[0], q[1];\n")
    assert summarize(text, "3").gate_counts == {"cx": 3, "ccx": 2}


def test_an_opaque_gate_has_no_definition_and_counts_by_name():
    text = HEAD2 + "opaque magic(t) a;\ngate nop a { }\nqreg q[1];\nmagic(0.1) q[0];\nnop q[0];\nh q[0];\n"
    assert summarize(text, "2").gate_counts == {"magic": 1, "h": 1}


def test_reset_and_delay_are_read_as_operations():
    text = (HEAD3 + "qubit[2] q;\nbit[2] c;\nreset q;\nh q[0];\ndelay[100ns] q[0];\n"
            "c[0] = measure q[0];\nreset q[0];\nc[1] = measure q[1];\n")
    summary = summarize(text, "3")
    assert summary.gate_counts == {"reset": 1, "h": 1, "delay": 1}  # the first reset: fresh qubits
    assert summary.mid_circuit_measurement  # the measured qubit is reset and reused
    text2 = HEAD2 + "qreg q[1];\ncreg c[1];\nreset q[0];\nx q[0];\nmeasure q[0] -> c[0];\n"
    assert summarize(text2, "2").gate_counts == {"x": 1}


def test_a_reset_counts_only_after_its_qubit_is_used():
    """Every qubit starts in |0>: a reset before a qubit's first use does nothing (Qiskit's
    `initialize` and the OpenQASM of such circuits begin with one per qubit), and counting it sent
    such circuits away from resources that cannot reset mid-circuit. A reset after a gate or a
    measurement on its qubit is counted; one over a register counts if any of its qubits was used."""
    fresh = HEAD2 + "qreg q[2];\ncreg c[2];\nreset q[0];\nreset q[1];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n"
    assert summarize(fresh, "2").gate_counts == {"h": 1, "cx": 1}
    used = HEAD2 + "qreg q[2];\ncreg c[2];\nx q[0];\nreset q[1];\nreset q[0];\nmeasure q -> c;\n"
    assert summarize(used, "2").gate_counts == {"x": 1, "reset": 1}
    assert not summarize(used, "2").mid_circuit_measurement
    whole = HEAD3 + "qubit[2] q;\nbit[2] c;\nx q[1];\nreset q;\nc = measure q;\n"
    assert summarize(whole, "3").gate_counts == {"x": 1, "reset": 1}


def test_if_is_classical_control_in_both_dialects():
    two = summarize(HEAD2 + "qreg q[2];\ncreg c[1];\nmeasure q[0] -> c[0];\nif(c==1) x q[1];\n", "2")
    assert two.classical_control and two.gate_counts == {"x": 1} and not two.mid_circuit_measurement
    three = summarize(HEAD3 + "qubit[2] q;\nbit[1] c;\nc[0] = measure q[0];\n"
                      "if ((c[0] & 1) == 1) { x q[1]; } else { z q[1]; }\n", "3")
    assert three.classical_control and three.gate_counts == {"x": 1, "z": 1}


def test_classical_declarations_and_assignments_are_no_gates():
    text = HEAD3 + "qubit[1] q;\nbit[1] c;\nint[8] n = 3;\nangle a = pi/2;\nn += 1;\nc[0] = measure q[0];\nrx(a) q[0];\n"
    assert summarize(text, "3").gate_counts == {"rx": 1}


def test_qiskit_qasm_exports_of_composite_gates_read_as_their_bodies():
    """What `qasm2.dumps`/`qasm3.dumps` write for QFTGate and `to_gate()` (text copied from Qiskit 2.3)."""
    qasm2 = (HEAD2 + "gate qft q0,q1 { h q1; cp(pi/2) q1,q0; h q0; swap q0,q1; }\n"
             "gate bellprep q0,q1 { h q0; cx q0,q1; }\nqreg q[2];\ncreg c[2];\nqft q[0],q[1];\n"
             "barrier q[0],q[1];\nbellprep q[0],q[1];\nmeasure q[0] -> c[0];\nmeasure q[1] -> c[1];\n")
    assert summarize(qasm2, "2").gate_counts == {"h": 3, "cp": 1, "swap": 1, "cx": 1}
    qasm3 = (HEAD3 + "gate qft _gate_q_0, _gate_q_1 {\n  h _gate_q_1;\n  cp(pi/2) _gate_q_1, _gate_q_0;\n"
             "  h _gate_q_0;\n  swap _gate_q_0, _gate_q_1;\n}\nbit[2] c;\nqubit[2] q;\nqft q[0], q[1];\n"
             "c[0] = measure q[0];\nc[1] = measure q[1];\n")
    summary = summarize(qasm3, "3")
    assert summary.gate_counts == {"h": 2, "cp": 1, "swap": 1} and summary.num_measured == 2


def test_a_definition_without_a_name_is_left_to_the_plugins():
    """Core's reader raises ValueError for what it cannot read; QDREAMER then asks the plugins,
    whose parser names the error (see qtau.circuits.Circuits.summary)."""
    with pytest.raises(ValueError, match="without a name"):
        summarize(HEAD2 + "qreg q[1];\ngate { x a; }\n", "2")
