"""A timeout ends the work of a LOCAL task, not only the waiting (issue 23, item 2).

Each case runs with timeout=2 and asserts on outcomes only: a specific QtauError, no marker file
written after the timeout, no child process of ours left running, and the service still usable.
No timed assertions; waits are generous.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.errors import QasmIncludeError, QasmLimitError, TaskTimeoutError

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method")


def _sleep_then_mark(marker: Path):
    def circuit():
        time.sleep(8)
        marker.write_text("ran past its timeout")
        raise AssertionError("unreachable within the timeout")
    return circuit


def _bell():
    from qiskit import QuantumCircuit
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return qc


def _no_children_left() -> bool:
    for _ in range(100):
        if not [p for p in multiprocessing.active_children() if p.name.startswith("qtau-task-")]:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def pcs(tmp_path):
    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, working_directory=str(tmp_path))
    service.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
    yield service
    service.cancel()


def test_sleeping_circuit_function_is_ended_at_its_timeout(pcs, tmp_path):
    marker = tmp_path / "marker"
    handle = pcs.submit_quantum_task(QuantumTask(_sleep_then_mark(marker), num_qubits=2, shots=10,
                                                 timeout=2))
    with pytest.raises(TaskTimeoutError) as caught:
        pcs.get_result(handle)
    assert caught.value.field == "timeout" and caught.value.value == 2
    assert _no_children_left()
    time.sleep(8)  # long past when the function would have written the marker
    assert not marker.exists()
    ok = pcs.get_result(pcs.submit_quantum_task(QuantumTask(_bell, num_qubits=2, shots=20, timeout=60)))
    assert sum(ok.counts.values()) == 20


def test_task_with_timeout_returns_its_result_from_its_process(pcs):
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(_bell, num_qubits=2, shots=50, timeout=60)))
    assert set(result.counts) <= {"00", "11"} and sum(result.counts.values()) == 50


def _doubling_gates(n: int, modifier: str = "") -> str:
    lines = ['OPENQASM 3.0;', 'include "stdgates.inc";', 'gate g0 a { x a; }']
    lines += [f"gate g{i} a {{ {modifier}g{i - 1} a; {modifier}g{i - 1} a; }}" for i in range(1, n)]
    lines += ["qubit[1] q;", f"g{n - 1} q[0];", "bit[1] c;", "c[0] = measure q[0];"]
    return "\n".join(lines)


@pytest.fixture
def fifo(tmp_path):
    import os
    path = tmp_path / "fifo.inc"
    os.mkfifo(path)
    return str(path)


@pytest.mark.parametrize("header", ['OPENQASM 2.0;\ninclude "qelib1.inc";', 'OPENQASM 3.0;'])
@pytest.mark.parametrize("include", ['include "{fifo}";', 'include "/dev/zero";',
                                     "include '{fifo}';", 'include "{slashes}";'])
def test_hostile_includes_are_refused_before_any_sdk_opens_them(pcs, fifo, header, include):
    """A FIFO, a device, a single-quoted path and a path with `//` (once mistaken for a comment)."""
    slashes = fifo.replace("/fifo.inc", "//fifo.inc")
    text = f"{header}\n{include.format(fifo=fifo, slashes=slashes)}\nqreg q[1];\n"
    with pytest.raises(QasmIncludeError) as caught:  # at submission, where the mistake is made
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(text, num_qubits=1, shots=10, timeout=2)))
    assert caught.value.field == "circuit"
    assert _no_children_left()
    ok = pcs.get_result(pcs.submit_quantum_task(QuantumTask(_bell, num_qubits=2, shots=20, timeout=60)))
    assert sum(ok.counts.values()) == 20


@pytest.mark.parametrize("modifier", ["", "inv @ ", "pow(1) @ "])
def test_thirty_doubling_nested_gates_are_refused_by_their_expanded_size(pcs, modifier):
    task = QuantumTask(_doubling_gates(30, modifier), num_qubits=1, shots=10, timeout=2)
    with pytest.raises(QasmLimitError) as caught:
        pcs.get_result(pcs.submit_quantum_task(task))
    assert caught.value.value >= 2**29
    assert _no_children_left()


def test_a_commented_out_include_and_standard_libraries_are_accepted(pcs):
    text = ('OPENQASM 2.0;\n// include "mine.inc";\ninclude "qelib1.inc";\n'
            'qreg q[1];\ncreg c[1];\nx q[0];\nmeasure q[0] -> c[0];\n')
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(text, num_qubits=1, shots=10, timeout=60)))
    assert result.counts == {"1": 10}


@pytest.mark.ray
def test_on_ray_a_sleeping_circuit_function_never_writes_its_marker(tmp_path, qiskit_host):
    """The Ray worker runs the task in a child it kills at the timeout: the Ray worker process,
    which later tasks reuse, keeps no thread of the task."""
    import ray
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        service = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=qiskit_host)
        service.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        marker = tmp_path / "marker"
        handle = service.submit_quantum_task(QuantumTask(_sleep_then_mark(marker), num_qubits=2,
                                                         shots=10, timeout=2))
        with pytest.raises(TaskTimeoutError):
            service.get_result(handle)
        time.sleep(8)
        assert not marker.exists()
        ok = service.get_result(service.submit_quantum_task(QuantumTask(_bell, num_qubits=2, shots=20,
                                                                        timeout=60)))
        assert sum(ok.counts.values()) == 20
        service.cancel()
    finally:
        ray.shutdown()
