"""Hostile input of issue 23: user code that exits, circuits wider than declared, pilots pickled
with credentials. LOCAL engine, real Aer; each case asserts the specific QtauError and no leak."""

import os
import pickle
import sys

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.errors import (
    CircuitFunctionExitError,
    CircuitWidthError,
    ExecutionError,
    InvalidTaskError,
)
from qtau_test_circuits import bell

QISKIT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}}


@pytest.fixture
def pcs(qiskit_host):
    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=qiskit_host)
    service.create_pilot(QISKIT)
    yield service
    service.cancel()


def exits():
    sys.exit(3)


def wide():
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(34)
    circuit.h(range(34))
    circuit.measure_all()
    return circuit


@pytest.mark.timeout(60)
def test_sys_exit_in_a_circuit_function_fails_the_task_not_the_program(pcs):
    handle = pcs.submit_quantum_task(QuantumTask(circuit=exits, num_qubits=2, shots=10))
    with pytest.raises(CircuitFunctionExitError, match=r"exits\(\) raised SystemExit: 3") as info:
        pcs.get_result(handle, timeout=30)
    assert isinstance(info.value, ExecutionError) and isinstance(info.value, InvalidTaskError)
    assert info.value.field == "circuit" and "sys.exit" in info.value.fix


@pytest.mark.timeout(60)
def test_a_circuit_wider_than_declared_is_refused_before_any_simulator_allocates(pcs):
    # 34 qubits would need 256 GiB as a statevector: reaching the simulator would fail otherwise.
    handle = pcs.submit_quantum_task(QuantumTask(circuit=wide, num_qubits=2, shots=10))
    with pytest.raises(CircuitWidthError) as info:
        pcs.get_result(handle, timeout=30)
    message = str(info.value)
    assert "num_qubits=2" in message and "34 qubits" in message and "gates" not in message
    assert info.value.field == "num_qubits" and info.value.value == 34


@pytest.mark.timeout(60)
def test_a_circuit_narrower_than_declared_still_runs(pcs):
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell, num_qubits=3, shots=10)))
    assert sum(result.counts.values()) == 10


def test_pickled_pilots_carry_no_credentials(qiskit_host):
    """qiskit_local ignores the credentials; they stand for an IBM token and a proxy password."""
    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=qiskit_host)
    token, password = "tok-" + "a1b2c3d4e5f6" * 3, "pw-" + "zz9yy8xx7" * 2
    try:
        service.create_pilot({**QISKIT, "ibmqx_token": token,
                              "quantum": {**QISKIT["quantum"], "proxy_password": password}})
        pilots = service.get_pilots()
        blob = pickle.dumps(pilots)
        assert token.encode() not in blob and password.encode() not in blob
        assert token not in repr(pilots) and password not in repr(pilots)
        restored = pickle.loads(blob)
        assert [p.name for p in restored] == [p.name for p in pilots]
        # The live service still holds the credential its backend needs.
        result = service.get_result(service.submit_quantum_task(
            QuantumTask(circuit=bell(), num_qubits=2, shots=10)), timeout=30)
        assert sum(result.counts.values()) == 10
    finally:
        service.cancel()


@pytest.mark.parametrize("name", ["AWS_SESSION_TOKEN", "AWS_SECRET_ACCESS_KEY", "IBMQX_TOKEN"])
def test_environment_credentials_are_redacted_from_sdk_logs_and_errors(monkeypatch, caplog, name):
    import logging

    from qtau.secrets import redact

    value = "FwoGZXIvYXdzE" + name.lower().replace("_", "q") + "Zm9vYmFy"  # shaped by no pattern
    monkeypatch.setenv(name, value)
    assert value not in redact(f"the SDK said: credentials {value} rejected")
    with caplog.at_level(logging.DEBUG, logger="botocore.credentials"):
        logging.getLogger("botocore.credentials").debug("found %s in the environment", value)
    assert caplog.records and value not in caplog.text


@pytest.mark.timeout(120)
@pytest.mark.parametrize("body", ["def exits():\n    sys.exit(3)\n", "sys.exit(3)\n\ndef exits():\n    pass\n"])
def test_qtau_run_of_a_function_that_exits_fails_with_json(tmp_path, monkeypatch, capsys, body):
    import json

    from qtau.cli import main as qtau_cli

    (tmp_path / "mod.py").write_text("import sys\n\n" + body)
    monkeypatch.chdir(tmp_path)
    assert qtau_cli(["run", "mod.py:exits", "--json", "--executor", "qiskit_local"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False and document["error"]["type"] == "CircuitFunctionExitError"
    assert "SystemExit: 3" in document["error"]["message"]


def _qasm3_including(path) -> str:
    return f'OPENQASM 3.0;\ninclude "stdgates.inc";\ninclude "{path}";\nqubit[1] q;\nbit[1] c;\nh q[0];\nc[0] = measure q[0];\n'


@pytest.mark.timeout(60)
@pytest.mark.parametrize("executor", ["qiskit_local", "braket_local"])
@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "absolute_file"])
def test_a_qasm_include_of_a_file_device_or_fifo_is_refused_before_any_read(tmp_path, executor, kind):
    """The FIFO has no writer: opening it would block forever; /dev/zero would read until MemoryError."""
    from qtau.errors import QasmIncludeError

    if kind == "fifo":
        path = tmp_path / "gates.inc"
        os.mkfifo(path)
    elif kind == "dev_zero":
        path = "/dev/zero"
    else:
        path = tmp_path / "secret.inc"
        path.write_text("topsecretidentifier q;\n")
    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL)
    try:
        service.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
        text = _qasm3_including(path) if executor == "braket_local" else (
            f'OPENQASM 2.0;\ninclude "qelib1.inc";\ninclude "{path}";\nqreg q[1];\ncreg c[1];\nh q[0];\n'
            "measure q -> c;\n")
        with pytest.raises(QasmIncludeError) as info:
            service.get_result(service.submit_quantum_task(QuantumTask(circuit=text, shots=10, timeout=5)),
                               timeout=30)
        assert info.value.value == str(path) and "topsecretidentifier" not in str(info.value)
    finally:
        service.cancel()


def test_standard_includes_still_run(pcs):
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nx q[0];\nmeasure q -> c;\n'
    assert pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=text, shots=10))).counts == {"1": 10}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", ["qiskit_local", "braket_local", "pennylane_default",
                                      "pennylane_lightning", "ibmq_fake_manila"])
def test_a_billion_shots_is_refused_before_any_simulator_allocates(executor):
    from qtau.errors import NoSuitableResourceError

    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL)
    try:
        pilot = service.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
        assert all(isinstance(r.metadata.get("max_shots"), int) for r in pilot.resources)
        with pytest.raises(NoSuitableResourceError) as info:
            service.submit_quantum_task(QuantumTask(circuit=bell(), shots=10**9))
        assert info.value.rejections and all("maximum" in why for why in info.value.rejections.values())
    finally:
        service.cancel()


def _gate_bomb(depth: int) -> str:
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', "gate g0 a { x a; }"]
    lines += [f"gate g{i} a {{ g{i - 1} a; g{i - 1} a; }}" for i in range(1, depth)]
    return "\n".join([*lines, "qreg q[1];", "creg c[1];", f"g{depth - 1} q[0];", "measure q -> c;", ""])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("executor", ["qiskit_local", "braket_local", "pennylane_default"])
def test_a_nested_gate_bomb_is_refused_before_any_sdk_expands_it(executor):
    from qtau.errors import QasmLimitError

    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL)
    try:
        service.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
        with pytest.raises(QasmLimitError, match="expand to") as info:
            service.get_result(service.submit_quantum_task(QuantumTask(circuit=_gate_bomb(30), shots=10)),
                               timeout=30)
        assert info.value.value >= 2**29 and info.value.field == "circuit"
    finally:
        service.cancel()


@pytest.mark.timeout(30)
def test_many_comment_blocks_before_text_that_is_not_openqasm_are_refused_at_once(qiskit_host):
    from qtau.circuits import detect_format

    # The header is found after any comments; a block must end at its first `*/`, or 40 blocks
    # before a non-program take 2**39 tries of where each ends.
    text = "/**/" * 40 + "not a program"
    with pytest.raises(InvalidTaskError, match="must be OpenQASM 2 or 3") as info:
        detect_format(qiskit_host, text)
    assert info.value.field == "circuit"
    assert detect_format(qiskit_host, "/* a ** b */ // c\n/**/OPENQASM 3.0;\nqubit q;\n") == "openqasm3"


def test_nested_gates_under_the_limit_still_run(pcs):
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=_gate_bomb(4), shots=10)))
    assert result.counts == {"0": 10}  # 8 X gates


def test_a_sigterm_turned_into_system_exit_while_the_function_runs_is_not_the_tasks_exit():
    """A worker being stopped (Ray removing its node) gets SIGTERM, which Ray's workers turn into
    SystemExit wherever their main thread is: in a running circuit function, that exit is not the
    function's, so it propagates (the engine retries the task elsewhere) instead of failing the task
    as bad input. The handler here is a real SIGTERM handler like Ray's; the function's own
    sys.exit() under the same handler still fails only the task."""
    import signal
    import time

    from qtau.circuits import _call_factory

    def handler(signum, frame):
        raise SystemExit(1)

    def stopped_while_running():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler runs here, in this thread: SystemExit interrupts the sleep

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        started = time.monotonic()
        with pytest.raises(SystemExit) as stopped:
            _call_factory(QuantumTask(circuit=stopped_while_running, num_qubits=2), stopped_while_running)
        assert not isinstance(stopped.value, CircuitFunctionExitError) and time.monotonic() - started < 4
        with pytest.raises(CircuitFunctionExitError, match=r"raised SystemExit: 3"):
            _call_factory(QuantumTask(circuit=exits, num_qubits=2), exits)
    finally:
        signal.signal(signal.SIGTERM, previous)
