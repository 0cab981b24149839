"""QuantumTask validation, gate aliases, error structure and pickling, secret redaction."""

import logging
import pickle

import pytest
from qtau import ExecutionError, InvalidTaskError, QuantumTask, Secret
from qtau.errors import AuthenticationError, NoSuitableResourceError
from qtau.gates import normalize_gates
from qtau.packing import pack, unpack
from qtau.types import Attempt, CircuitSummary, NoiseProfile, Result


@pytest.mark.parametrize("shots", [0, -5, 1.5, True, "100"])
def test_bad_shots_name_the_field(shots):
    with pytest.raises(InvalidTaskError) as info:
        QuantumTask(circuit="OPENQASM 2.0;", shots=shots)
    assert info.value.field == "shots" and "positive integer" in str(info.value)


@pytest.mark.parametrize("field,value", [("num_qubits", 0), ("min_fidelity", 1.5), ("max_cost", -1), ("deadline", "soon")])
def test_bad_constraints_name_the_field(field, value):
    with pytest.raises(InvalidTaskError) as info:
        QuantumTask(circuit="OPENQASM 2.0;", **{field: value})
    assert info.value.field == field


def test_missing_circuit_is_rejected():
    with pytest.raises(InvalidTaskError, match="needs a circuit"):
        QuantumTask(circuit=None)


def test_gate_aliases_are_normalised():
    task = QuantumTask(circuit="OPENQASM 2.0;", gate_set=["H", "CNOT", "cx", "Toffoli", "measure"])
    assert task.gate_set == ("ccx", "cx", "h", "measure")
    assert normalize_gates(["u3", "cphase"]) == ("cp", "u")


def test_errors_pickle_with_their_fields():
    attempt = Attempt("a:b", False, 1.0, 2.0, "RuntimeError", "down")
    err = pickle.loads(pickle.dumps(ExecutionError("all failed", attempts=(attempt,), task_id="t1", fix="retry")))
    assert err.task_id == "t1" and err.attempts == (attempt,) and "attempt 1: a:b: RuntimeError: down" in str(err)
    nsr = pickle.loads(pickle.dumps(NoSuitableResourceError("none", rejections={"x:y": "too small"})))
    assert nsr.rejections == {"x:y": "too small"} and "x:y: too small" in str(nsr)


def test_secrets_never_show_in_reprs_errors_or_logs(caplog):
    token = "tok-" + "9" * 40
    secret = Secret(token)
    assert token not in repr(secret) and token not in str({"ibmqx_token": secret})
    assert token not in str(AuthenticationError(f"IBM refused token {token}"))
    assert token.encode() not in pickle.dumps(secret) and pickle.loads(pickle.dumps(secret)).withheld
    assert unpack(pack(secret)).reveal() == token  # only QTAU's transport carries the value
    logger = logging.getLogger("qtau")
    import qtau.service  # noqa: F401  (installs the redacting filter on the qtau logger)

    with caplog.at_level(logging.WARNING, logger="qtau"):
        logger.warning("login with %s", token)
    assert token not in caplog.text and "***" in caplog.text


def test_fidelity_estimate_applies_gate_and_readout_errors():
    noise = NoiseProfile("r", one_qubit_error=0.01, two_qubit_error=0.1, readout_error=0.02)
    summary = CircuitSummary(num_qubits=2, gate_counts={"h": 1, "cx": 1, "measure": 2}, num_measured=2)
    assert noise.estimate_fidelity(summary) == pytest.approx(0.99 * 0.9 * 0.98**2)


def test_result_counts_and_probabilities():
    result = Result(task_id="t", resource_id="r", executor="e", shots=4, counts={"00": 3, "11": 1})
    assert result.get_counts() == {"00": 3, "11": 1}
    assert result.get_probabilities() == {"00": 0.75, "11": 0.25}


def test_braket_openqasm3_dialect_gets_standard_gates():
    from qtau.qasm3 import with_standard_gates

    braket = "OPENQASM 3.0;\nbit[2] b;\nqubit[2] q;\nh q[0];\ncnot q[0], q[1];\nb[0] = measure q[0];\n"
    fixed = with_standard_gates(braket)
    assert fixed.splitlines()[0].startswith('OPENQASM 3.0; include "stdgates.inc"; gate cnot')
    assert fixed.splitlines()[1:] == braket.splitlines()[1:]  # parse errors keep the user's line numbers
    assert "gate cnot a, b { cx a, b; }" in fixed and "gate si" not in fixed
    standard = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nh q[0];\n'
    assert with_standard_gates(standard) == standard


@pytest.mark.parametrize("text", [
    "OPENQASM 3.0;\ngate h a { U(pi/2, 0, pi) a; }\ngate cx a, b { ctrl @ U(pi, 0, pi) a, b; }\n"
    "qubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n",
    "OPENQASM 3.0;\nqubit[2] q;\nbit[2] s;\nU(pi, 0, pi) q[1];\ns = measure q;\n",
], ids=["own_h_and_cx", "register_named_s"])
def test_a_program_declaring_a_standard_name_gets_no_include(text):
    """Valid OpenQASM 3 without the include that declares a name stdgates.inc defines: the added
    include made Qiskit's importer refuse it ("'h' is already defined" at a line the user never
    wrote); Qiskit reads it as written, and runs it."""
    from qtau.qasm3 import with_standard_gates

    assert with_standard_gates(text) == text
    qasm3 = pytest.importorskip("qiskit.qasm3")
    assert qasm3.loads(with_standard_gates(text)).num_qubits == 2


@pytest.mark.parametrize("noise,field", [
    ({"depolarizing_3q": 0.1}, "quantum.noise.depolarizing_3q"),
    ({"readout": 1.5}, "quantum.noise.readout"),
    ({"readout": True}, "quantum.noise.readout"),
    ([0.1], "quantum.noise"),
])
def test_noise_settings_name_the_bad_field(noise, field):
    from qtau.errors import ConfigurationError
    from qtau.noise import parse_noise

    with pytest.raises(ConfigurationError) as info:
        parse_noise(noise)
    assert info.value.field == field


def test_noise_settings_become_the_profile_qdreamer_ranks_with():
    from qtau.noise import noise_profile, parse_noise

    settings = parse_noise({"depolarizing_2q": 0.02, "readout": 0.01})
    profile = noise_profile("sim:noisy", settings, "test")
    assert (profile.one_qubit_error, profile.two_qubit_error, profile.readout_error) == (0.0, 0.02, 0.01)
    assert parse_noise(None) == {} and parse_noise({}) == {}


def _fields(task: QuantumTask) -> dict:
    import attrs

    return {f.name: getattr(task, f.name) for f in attrs.fields(QuantumTask)}


def test_a_task_pickles_to_the_same_task_every_field_set_or_not():
    """QuantumTask pickles only the fields that differ from their defaults (`__reduce__`); every
    field comes back equal, set or left at its default, and of the same type."""
    import numpy as np

    plain = QuantumTask(circuit="OPENQASM 2.0;")
    full = QuantumTask(circuit="OPENQASM 2.0;", num_qubits=3, gate_set=["cnot", "h"],
                       resource_config={"num_qpus": 1}, shots=np.int64(1000), args=(1, 2), kwargs={"theta": 0.5},
                       max_cost=np.float64(2.5), min_fidelity=0.9, deadline=60.0, timeout=5.0, policy="cost",
                       circuit_format="openqasm2", resource="qiskit:aer_simulator", observables=["ZZI"],
                       cut=False, mitigation="readout")
    for task in (plain, full, QuantumTask(circuit="x", split=True, cut={"max_width": 2})):
        back = pickle.loads(pickle.dumps(task))
        assert _fields(back) == _fields(task)
        assert {n: type(v) for n, v in _fields(back).items()} == {n: type(v) for n, v in _fields(task).items()}



def test_unpickled_tasks_do_not_share_their_default_dicts():
    one, two = (pickle.loads(pickle.dumps(QuantumTask(circuit="x"))) for _ in range(2))
    one.kwargs["added"] = 1
    one.resource_config["num_qpus"] = 1
    assert two.kwargs == {} and two.resource_config == {} and QuantumTask(circuit="y").kwargs == {}


def test_a_task_pickled_by_attrs_state_still_loads():
    """Journals written before QTAU pickled tasks field by field hold attrs' own pickle (the class,
    then its full state): recovery must still read them."""
    import attrs

    task = QuantumTask(circuit="OPENQASM 2.0;", shots=7, kwargs={"a": 1})
    state = {f.name: getattr(task, f.name) for f in attrs.fields(QuantumTask)}
    old = pickle.loads(pickle.dumps(_OldPickle(state)))
    assert _fields(old) == _fields(task)


class _OldPickle:
    """Pickles as attrs' generated state did: QuantumTask's class, no arguments, then its state."""

    def __init__(self, state: dict) -> None:
        self.state = state

    def __reduce__(self):
        return (object.__new__, (QuantumTask,), self.state)


def test_a_default_task_pickles_shorter_than_its_full_state():
    import attrs

    task = QuantumTask(circuit="OPENQASM 2.0;")
    state = {f.name: getattr(task, f.name) for f in attrs.fields(QuantumTask)}
    assert len(pickle.dumps(task)) < len(pickle.dumps(state)) / 2


def test_defined_gates_parameters_keep_their_declared_order_through_qiskits_importer():
    """qiskit-qasm3-import 0.6 binds a defined gate's parameters alphabetically: `gate g(b, a)`
    applied as g(0, pi) ran rx(0). The names are rewritten so their order is the declared one; a
    gate call inside the body (`x q;` beside a parameter named x) keeps its name."""
    from qtau.qasm3 import ordered_gate_parameters, readable_by_qiskit

    text = ('OPENQASM 3.0;\ninclude "stdgates.inc";\ngate g(b, a) q0 { rx(a) q0; }\n'
            "gate h2(x, c) q0 { rx(x * 2 + c) q0; x q0; }\nqubit[2] q;\ng(0, pi) q[0];\nh2(pi / 2, 0) q[1];\n")
    rewritten = ordered_gate_parameters(text)
    assert "gate g(_qtau_p00, _qtau_p01) q0 { rx(_qtau_p01) q0; }" in rewritten
    assert "gate h2(_qtau_p00, _qtau_p01) q0 { rx(_qtau_p00 * 2 + _qtau_p01) q0; x q0; }" in rewritten
    assert rewritten.count("\n") == text.count("\n")  # parse errors keep the user's line numbers
    in_order = 'OPENQASM 3.0;\ngate g(a, b) q0 { rx(a) q0; }\nqubit[1] q;\ng(pi, 0) q[0];\n'
    assert ordered_gate_parameters(in_order) == in_order
    qasm3 = pytest.importorskip("qiskit.qasm3")
    quantum_info = pytest.importorskip("qiskit.quantum_info")
    probabilities = quantum_info.Statevector(qasm3.loads(readable_by_qiskit(text))).probabilities_dict(decimals=9)
    # g(0, pi) is rx(pi) on q0: 1; h2(pi/2, 0) is rx(pi) then x on q1: 0.
    assert probabilities == pytest.approx({"01": 1.0})
