"""Unitary folding and twirling of OpenQASM 2 (issue 27 item 1): a folded circuit is the same
unitary with (reached scale) x as many gates; inverses of every qelib1 gate and of defined gates;
what folding refuses, and the task settings' validation. Qiskit reads the programs back."""

import pytest
from qtau import QuantumTask
from qtau.errors import InvalidTaskError, MitigationError
from qtau.mitigation.calibration import CalibrationStore
from qtau.mitigation.folding import fold
from qtau.mitigation.plan import build
from qtau.mitigation.qasm_program import Program
from qtau.mitigation_options import Mitigation, parse_mitigation

qiskit = pytest.importorskip("qiskit")
from qiskit import qasm2  # noqa: E402
from qiskit.quantum_info import Operator  # noqa: E402

PROGRAM = """OPENQASM 2.0;
include "qelib1.inc";
gate mix(a) x, y { h x; cx x, y; rz(a) y; s x; }
qreg q[2];
qreg r[1];
creg c[3];
h q[0];
u2(0.3, -0.2) q[1];
u3(0.1, 0.2, 0.3) r[0];
mix(0.4) q[1], r[0];
t q[0]; sx q[1]; crz(0.7) q[0], r[0];
cu1(0.2) q[1], q[0];
rzz(0.5) q[0], q[1];
ccx q[0], q[1], r[0];
barrier q;
p(1.1) r[0];
measure q[0] -> c[0];
measure q[1] -> c[1];
measure r[0] -> c[2];
"""


def unitary(text):
    circuit = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    circuit.remove_final_measurements()
    return Operator(circuit)


def gate_count(text):
    circuit = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    return sum(n for name, n in circuit.count_ops().items() if name not in ("barrier", "measure"))


@pytest.mark.parametrize("method", ["global", "local"])
@pytest.mark.parametrize("scale", [1, 2, 3, 3.5, 5])
def test_folding_keeps_the_unitary_and_scales_the_gates(method, scale):
    prog = Program.parse(PROGRAM)
    folded = fold(prog, scale, method)
    text = folded.text(prog)
    assert unitary(text).equiv(unitary(PROGRAM))
    assert gate_count(text) == pytest.approx(folded.scale * gate_count(PROGRAM))
    assert abs(folded.scale - scale) <= 2 / len(prog.gates())
    if scale in (1, 3, 5):
        assert folded.scale == scale


#: Every gate qelib1.inc defines (Qiskit's copy): (parameters, qubits).
QELIB1_GATES = {
    "u3": (3, 1), "u2": (2, 1), "u1": (1, 1), "cx": (0, 2), "id": (0, 1), "u0": (1, 1), "u": (3, 1),
    "p": (1, 1), "x": (0, 1), "y": (0, 1), "z": (0, 1), "h": (0, 1), "s": (0, 1), "sdg": (0, 1),
    "t": (0, 1), "tdg": (0, 1), "rx": (1, 1), "ry": (1, 1), "rz": (1, 1), "sx": (0, 1), "sxdg": (0, 1),
    "cz": (0, 2), "cy": (0, 2), "swap": (0, 2), "ch": (0, 2), "ccx": (0, 3), "cswap": (0, 3),
    "crx": (1, 2), "cry": (1, 2), "crz": (1, 2), "cu1": (1, 2), "cp": (1, 2), "cu3": (3, 2), "csx": (0, 2),
    "cu": (4, 2), "rxx": (1, 2), "rzz": (1, 2), "rccx": (0, 3), "rc3x": (0, 4), "c3x": (0, 4),
    "c3sqrtx": (0, 4), "c4x": (0, 5),
}


def test_the_table_names_every_gate_of_qiskits_qelib1():
    import pathlib

    text = (pathlib.Path(qiskit.__file__).parent / "qasm" / "libs" / "qelib1.inc").read_text()
    assert {line.split()[1].split("(")[0] for line in text.splitlines() if line.startswith("gate ")} == set(QELIB1_GATES)


@pytest.mark.parametrize("gate", sorted(QELIB1_GATES))
@pytest.mark.parametrize("method", ["global", "local"])
def test_every_qelib1_gate_folds_to_the_same_unitary(gate, method):
    """MQT Bench's modular adder (rccx) and random circuits (c3sqrtx, rc3x, csx) were refused by
    ZNE: those gates' inverses are no gate of the library, and are now their definitions inverted."""
    params, qubits = QELIB1_GATES[gate]
    angles = f"({', '.join(str(0.3 + 0.4 * i) for i in range(params))})" if params else ""
    angles = "(1)" if gate == "u0" else angles  # u0's parameter counts identity periods
    spread = "".join(f"h q[{i}];\nt q[{i}];\n" for i in range(qubits))  # no basis state: a phase shows
    text = (f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{qubits}];\ncreg c[{qubits}];\n{spread}'
            f"{gate}{angles} {', '.join(f'q[{i}]' for i in range(qubits))};\nmeasure q -> c;\n")
    prog = Program.parse(text)
    folded = fold(prog, 3, method)
    assert unitary(folded.text(prog)).equiv(unitary(text))


def test_measurements_map_bits_to_the_qubits_they_read():
    prog = Program.parse(PROGRAM)
    assert prog.qubit_of_bit() == [0, 1, 2]
    assert prog.num_qubits == 3 and prog.num_clbits == 3


def test_twirl_flips_the_chosen_bits_before_measuring():
    prog = Program.parse(PROGRAM)
    text = prog.text(prog.body, frozenset({2}))
    circuit = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    assert circuit.count_ops()["x"] == 1
    assert "x r[0];\nmeasure r[0] -> c[2];" in text


def test_a_circuit_without_measurements_is_measured_whole():
    prog = Program.parse('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0],q[1];\n')
    prog = prog.ensure_measured()
    assert prog.qubit_of_bit() == [0, 1]
    assert "creg meas[2];" in prog.text(prog.body)


@pytest.mark.parametrize("statement", ["reset q[0];", "if(c==1) x q[0];"])
def test_non_unitary_circuits_are_not_folded(statement):
    text = f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nh q[0];\n{statement}\nmeasure q[0] -> c[0];\n'
    with pytest.raises(MitigationError) as err:
        fold(Program.parse(text), 3)
    assert err.value.field == "mitigation" and "mitigation='readout'" in err.value.fix


def test_mid_circuit_measurement_is_not_folded():
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[2];\nmeasure q[0] -> c[0];\nh q[0];\nmeasure q[0] -> c[1];\n'
    with pytest.raises(MitigationError):
        fold(Program.parse(text), 3)


def test_an_opaque_gate_cannot_be_inverted():
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nopaque magic q;\nqreg q[1];\ncreg c[1];\nmagic q[0];\nmeasure q[0] -> c[0];\n'
    with pytest.raises(MitigationError, match="magic"):
        fold(Program.parse(text), 3)


def test_a_cached_calibration_is_not_run_again():
    store = CalibrationStore()
    m = parse_mitigation("readout")
    first, recipe = build(m, PROGRAM, 100, ["res", "stamp"], store)
    assert len(first) == 3 and recipe["calibration"]["fresh"]
    from qtau.mitigation.plan import finish

    finish(recipe, [{"000": 100}, {"000": 98, "001": 2}, {"111": 97, "011": 3}], store)
    again, recipe = build(m, PROGRAM, 100, ["res", "stamp"], store)
    assert len(again) == 1 and not recipe["calibration"]["fresh"]
    other, _ = build(m, PROGRAM, 100, ["res", "new calibration"], store)
    assert len(other) == 3  # the resource recalibrated: new circuits run


# -- the task setting ------------------------------------------------------------------------


@pytest.mark.parametrize("value, technique", [
    ("none", "none"), ("auto", "auto"), ("readout", "readout"), ("ZNE", "zne"), ("readout+zne", "zne+readout"),
    ("zne+trex", "zne+trex"), (None, "none"), ({"technique": "trex", "twirls": 4, "seed": 3}, "trex"),
    ({"scale_factors": [1, 2, 3], "fit": "linear", "folding": "local"}, "zne"),
])
def test_valid_settings_are_accepted(value, technique):
    task = QuantumTask(circuit=PROGRAM, mitigation=value)
    assert isinstance(task.mitigation, Mitigation)
    assert task.mitigation.technique == technique


def test_the_default_is_no_mitigation():
    assert not QuantumTask(circuit=PROGRAM).mitigation.active


@pytest.mark.parametrize("value, field", [
    ("zen", "mitigation"), (3, "mitigation"), ({"technique": "pec"}, "mitigation"),
    ({"scale": [1, 3]}, "mitigation.scale"), ({"scale_factors": [2, 3]}, "mitigation.scale_factors"),
    ({"scale_factors": [1, 1]}, "mitigation.scale_factors"), ({"scale_factors": [1, float("nan")]}, "mitigation.scale_factors"),
    ({"scale_factors": "1,3"}, "mitigation.scale_factors"), ({"scale_factors": [1, True]}, "mitigation.scale_factors"),
    ({"fit": "cubic"}, "mitigation.fit"), ({"folding": "random"}, "mitigation.folding"),
    ({"twirls": 0}, "mitigation.twirls"), ({"seed": "7"}, "mitigation.seed"), ({"choices": ["auto"]}, "mitigation.choices"),
])
def test_bad_settings_name_field_value_and_fix(value, field):
    with pytest.raises(MitigationError) as err:
        QuantumTask(circuit=PROGRAM, mitigation=value)
    assert isinstance(err.value, InvalidTaskError)
    assert err.value.field == field and err.value.fix


def test_split_and_mitigation_do_not_mix():
    with pytest.raises(InvalidTaskError) as err:
        QuantumTask(circuit=PROGRAM, split=True, mitigation="zne")
    assert err.value.field == "split" and "mitigation='none'" in err.value.fix
    assert QuantumTask(circuit=PROGRAM, split=True, mitigation="none").split


def test_the_calibration_stamp_follows_the_resource():
    from qtau.mitigation.calibration import stamp
    from qtau.types import Resource

    fake = Resource("ibmq:fake_x", "ibmq", "ibmq_fake_x", "simulator", 5, metadata={"calibrated": "2024-01-02"})
    assert stamp(fake, {}) == "calibrated=2024-01-02"
    later = Resource("ibmq:fake_x", "ibmq", "ibmq_fake_x", "simulator", 5, metadata={"calibrated": "2024-01-03"})
    assert stamp(later, {}) != stamp(fake, {})
    aer = Resource("qiskit:aer", "qiskit", "qiskit_local", "simulator", 5)
    assert stamp(aer, {"noise": {"readout": 0.1}}) != stamp(aer, {"noise": {"readout": 0.2}})
