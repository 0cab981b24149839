"""A timeout ends the work of a task, not only the waiting (issue 23, item 2).

Each case runs with timeout=2 and asserts on outcomes only: a specific QtauError, no marker file
written after the timeout, no child process of ours left running, and the service still usable.
No timed assertions; waits are generous. Tasks run in children of QTAU's fork server
(`qtau.engines.fork_server`); `qtau_hanging_plugin` (in tests/) is a real plugin that hangs, exits
or leaks its token. Hostile OpenQASM (includes of FIFOs and devices however the path is written,
gates whose expansion doubles thirty times, plainly or through modifiers) is refused at submission,
before any SDK opens or expands it; a commented-out include is not an include.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.engines import fork_server
from qtau.engines.isolation import TaskNotIsolatedWarning
from qtau.errors import (
    CircuitFunctionExitError,
    ExecutionError,
    InvalidTaskError,
    QasmIncludeError,
    QasmLimitError,
    QtauError,
    TaskTimeoutError,
)
from qtau.plugins import PluginHost
from qtau_test_circuits import bell

pytestmark = pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="needs the forkserver start method")


#: The circuit function below writes its marker MARK_AFTER_S after it starts, and a timeout of 2 s
#: ends it first. The tests look for the marker WAIT_PAST_TIMEOUT_S after the timeout: 2 + 5 - 4 = 3 s
#: after a function that the timeout failed to end would have written it.
MARK_AFTER_S = 4
WAIT_PAST_TIMEOUT_S = 5


def _sleep_then_mark(marker: Path):
    def circuit():
        time.sleep(MARK_AFTER_S)
        marker.write_text("ran past its timeout")
        raise AssertionError("unreachable within the timeout")
    return circuit


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
    time.sleep(WAIT_PAST_TIMEOUT_S)  # past when the function would have written the marker
    assert not marker.exists()
    ok = pcs.get_result(pcs.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=20, timeout=60)))
    assert sum(ok.counts.values()) == 20


def test_task_with_timeout_returns_its_result_from_its_process(pcs):
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=50, timeout=60)))
    assert set(result.counts) <= {"00", "11"} and sum(result.counts.values()) == 50


def _doubling_gates(n: int, modifier: str = "") -> str:
    lines = ['OPENQASM 3.0;', 'include "stdgates.inc";', 'gate g0 a { x a; }']
    lines += [f"gate g{i} a {{ {modifier}g{i - 1} a; {modifier}g{i - 1} a; }}" for i in range(1, n)]
    lines += ["qubit[1] q;", f"g{n - 1} q[0];", "bit[1] c;", "c[0] = measure q[0];"]
    return "\n".join(lines)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo.inc"
    os.mkfifo(path)
    return str(path)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("header", ['OPENQASM 2.0;\ninclude "qelib1.inc";', 'OPENQASM 3.0;'])
@pytest.mark.parametrize("include", ['include "{fifo}";', 'include "/dev/zero";',
                                     "include '{fifo}';", 'include "{slashes}";'])
def test_hostile_includes_are_refused_before_any_sdk_opens_them(pcs, fifo, header, include):
    """A FIFO (reading it would block for ever), a device (reading it never ends), a single-quoted
    path (OpenQASM 3 allows it) and a path with `//` (once mistaken for a comment)."""
    slashes = fifo.replace("/fifo.inc", "//fifo.inc")
    text = f"{header}\n{include.format(fifo=fifo, slashes=slashes)}\nqreg q[1];\n"
    with pytest.raises(QasmIncludeError) as caught:  # at submission, where the mistake is made
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(text, num_qubits=1, shots=10, timeout=2)))
    assert caught.value.field == "circuit"
    assert _no_children_left()
    ok = pcs.get_result(pcs.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=20, timeout=60)))
    assert sum(ok.counts.values()) == 20


@pytest.mark.timeout(60)
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
def test_on_ray_a_sleeping_circuit_function_never_writes_its_marker(tmp_path, monkeypatch):
    """The Ray worker runs the task in a process it kills at the timeout: the Ray worker process,
    which later tasks reuse, keeps no thread of the task. Secrets reach the Ray worker and the
    task's process (through qtau.packing) and come back out of neither."""
    import ray
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        host = PluginHost(strict=True)
        host.register_module("hanging", "qtau_hanging_plugin")
        host.register_module("qiskit", "qtau_qiskit.plugin")
        service = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=host)
        service.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        service.create_pilot({"resource_type": "quantum", "quantum": {"executor": "leaky_local",
                                                                      "api_token": TOKEN}})
        marker = tmp_path / "marker"
        handle = service.submit_quantum_task(QuantumTask(_sleep_then_mark(marker), num_qubits=2,
                                                         shots=10, timeout=2, resource="qiskit_local"))
        with pytest.raises(TaskTimeoutError):
            service.get_result(handle)
        for timeout in (None, 30):  # in the Ray worker, then in the task's process inside it
            with pytest.raises(QtauError) as caught:
                service.get_result(service.submit_quantum_task(QuantumTask(
                    bell, num_qubits=2, shots=10, timeout=timeout, resource="leaky_local")))
            assert "refused the circuit" in str(caught.value)  # the plugin revealed its token
            assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value.value)
        time.sleep(WAIT_PAST_TIMEOUT_S)
        assert not marker.exists()
        ok = service.get_result(service.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=20,
                                                                        timeout=60, resource="qiskit_local")))
        assert sum(ok.counts.values()) == 20
        service.cancel()
    finally:
        ray.shutdown()


# -- a plugin that hangs, exits or leaks; circuit functions that exit or cannot be pickled ----------


@pytest.fixture
def hanging(tmp_path):
    """A service with the hanging test plugin (and qiskit, for the circuits' format)."""
    host = PluginHost(strict=True)
    host.register_module("hanging", "qtau_hanging_plugin")
    host.register_module("qiskit", "qtau_qiskit.plugin")
    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=host)
    yield service
    service.cancel()


def _gone(pid: int) -> bool:
    """Whether process `pid` no longer exists (the fork server reaps its children)."""
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _pid_from(path: Path) -> int:
    for _ in range(100):  # written just before the hang; the error may arrive first only by a hair
        if path.exists() and path.read_text():
            return int(path.read_text())
        time.sleep(0.1)
    raise AssertionError(f"{path} was never written")


def test_a_conversion_that_never_returns_is_ended_with_its_process(hanging, tmp_path):
    """Conversion is not timed inside the task's process: the parent kills the process."""
    hanging.create_pilot({"resource_type": "quantum", "quantum": {"executor": "converting_local"}})
    pid_file = tmp_path / "pid"

    def circuit():
        qc = bell()
        qc.metadata = {"pid_file": str(pid_file)}
        return qc

    handle = hanging.submit_quantum_task(QuantumTask(circuit, num_qubits=2, shots=10, timeout=2,
                                                     resource="converting_local"))
    with pytest.raises(TaskTimeoutError) as caught:
        hanging.get_result(handle)
    err = caught.value
    assert (err.field, err.value) == ("timeout", 2) and "timeout" in err.fix and "process was ended" in str(err)
    assert _gone(_pid_from(pid_file))
    assert _no_children_left()


def test_a_run_that_never_returns_fails_the_task_and_its_process_ends(hanging, tmp_path):
    """The run is timed inside the task's process (the attempt fails with TaskTimeoutError); the
    process then ends although the plugin's thread still waits."""
    pid_file = tmp_path / "pid"
    hanging.create_pilot({"resource_type": "quantum", "quantum": {"executor": "hanging_local",
                                                                  "pid_file": str(pid_file)}})
    with pytest.raises(ExecutionError) as caught:
        hanging.get_result(hanging.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=10, timeout=2)))
    [attempt] = caught.value.attempts
    assert attempt.error_type == "TaskTimeoutError" and attempt.resource_id == "hanging:hanging_local"
    assert _gone(_pid_from(pid_file))
    assert _no_children_left()


def _exits():
    sys.exit(3)


def test_sys_exit_in_a_circuit_function_under_a_timeout_fails_the_task_only(pcs):
    with pytest.raises(CircuitFunctionExitError) as caught:  # a QtauError, never SystemExit
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(_exits, num_qubits=2, shots=10, timeout=5)))
    assert caught.value.field == "circuit" and "_exits" in str(caught.value)
    ok = pcs.get_result(pcs.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=20, timeout=60)))
    assert sum(ok.counts.values()) == 20


def test_sys_exit_in_a_plugin_under_a_timeout_fails_the_task_only(hanging):
    hanging.create_pilot({"resource_type": "quantum", "quantum": {"executor": "exiting_local"}})
    with pytest.raises(QtauError) as caught:
        hanging.get_result(hanging.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=10, timeout=5)))
    assert "SystemExit" in str(caught.value)
    assert _no_children_left()


def test_an_unpicklable_circuit_function_runs_on_a_thread_with_a_warning(pcs):
    """A closure over a lock cannot be pickled even by cloudpickle: the task still runs (refusing
    it would refuse valid input), on a thread, and the warning says its timeout stops only the
    waiting."""
    lock = threading.Lock()

    def circuit():
        with lock:
            return bell()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit, num_qubits=2, shots=30, timeout=60)))
    assert sum(result.counts.values()) == 30
    [warning] = [w for w in caught if issubclass(w.category, TaskNotIsolatedWarning)]
    text = str(warning.message)
    assert "cannot be pickled" in text and "stops only the waiting" in text and "lock" in text


_BY_PATH = """
def circuit():
    from qtau_test_circuits import bell
    return bell()
"""


def test_a_function_only_this_process_can_import_runs_on_a_thread_with_a_warning(pcs, tmp_path):
    """A module loaded from a path that is not on sys.path is pickled by reference; the task's
    process cannot import it, so the task runs here, on a thread, with the warning."""
    import importlib.util

    path = tmp_path / "bypath_circuits.py"
    path.write_text(_BY_PATH)
    spec = importlib.util.spec_from_file_location("bypath_circuits", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bypath_circuits"] = module
    try:
        spec.loader.exec_module(module)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(module.circuit, num_qubits=2, shots=30,
                                                                        timeout=60)))
    finally:
        del sys.modules["bypath_circuits"]
    assert sum(result.counts.values()) == 30
    [warning] = [w for w in caught if issubclass(w.category, TaskNotIsolatedWarning)]
    assert "could not rebuild" in str(warning.message) and "bypath_circuits" in str(warning.message)


def _starts_a_process():
    child = multiprocessing.get_context("fork").Process(target=int)
    child.start()
    child.join()
    assert child.exitcode == 0
    return bell()


def test_a_circuit_function_may_start_processes_of_its_own(pcs):
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(_starts_a_process, num_qubits=2, shots=30,
                                                                timeout=60)))
    assert sum(result.counts.values()) == 30


def test_closures_and_lambdas_run_in_the_task_process(pcs):
    shots = 40

    def closure():
        qc = bell()
        qc.x(0)  # after measurement: counts unchanged; proves this closure's own body ran
        return qc

    results = pcs.get_results([
        pcs.submit_quantum_task(QuantumTask(closure, num_qubits=2, shots=shots, timeout=60)),
        pcs.submit_quantum_task(QuantumTask(lambda: bell(), num_qubits=2, shots=shots, timeout=60)),
    ])
    assert all(sum(r.counts.values()) == shots and set(r.counts) <= {"00", "11"} for r in results)


def test_the_fork_server_runs_one_thread_and_has_the_sdk_imported(pcs):
    """Children are forked from a process with one thread (no lock can be held by another), which
    has imported Qiskit and Aer once, so children do not."""
    pcs.get_result(pcs.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=10, timeout=60)))
    assert fork_server.servers.wait_warm()  # a server with more imports may be starting beside
    pcs.get_result(pcs.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=10, timeout=60)))
    pid = fork_server.servers.pid()
    status = Path(f"/proc/{pid}/status").read_text()
    assert status.split("Threads:")[1].split()[0] == "1"
    assert {"qiskit", "qiskit_aer", "qtau.engines.isolation"} <= fork_server.servers.modules


_SCRIPT = """
from pathlib import Path
Path({log!r}).open("a").write("module level ran\\n")
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
def circuit():
    from qtau_test_circuits import bell
    return bell()
if __name__ == "__main__":
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL)
    pcs.create_pilot({{"resource_type": "quantum", "quantum": {{"executor": "qiskit_local"}}}})
    print(sum(pcs.get_result(pcs.submit_quantum_task(
        QuantumTask(circuit, num_qubits=2, shots=25, timeout=60))).counts.values()))
    pcs.cancel()
"""


def test_a_script_is_not_run_again_in_the_task_process(tmp_path):
    """The forkserver and spawn start methods re-import the program's `__main__` in every child;
    QTAU's fork server does not (a `__main__` circuit function travels by value)."""
    log = tmp_path / "log"
    script = tmp_path / "prog.py"
    script.write_text(_SCRIPT.format(log=str(log)))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["25"]
    assert log.read_text() == "module level ran\n"


# -- secrets -------------------------------------------------------------------------------------


TOKEN = "tok-3f9c2a7e5d1b4c8a"


def test_an_error_holding_the_task_secret_comes_back_redacted(hanging):
    """The plugin puts its token in an InvalidTaskError's `value` and `response` (QtauError redacts
    the message and a string value itself, not other attributes): the error from the task's
    process holds it, so it is replaced."""
    hanging.create_pilot({"resource_type": "quantum", "quantum": {"executor": "leaky_local",
                                                                  "api_token": TOKEN}})
    with pytest.raises(QtauError) as caught:
        hanging.get_result(hanging.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=10, timeout=30)))
    err = caught.value
    assert TOKEN not in str(err) and TOKEN not in repr(err.__dict__)
    assert TOKEN.encode() not in pickle.dumps(err)
    assert isinstance(err, InvalidTaskError) and err.field == "circuit"  # the same error, masked
    assert "refused the circuit" in str(err) and "redacted" in str(err) and err.response == "***"


def test_the_stress_of_timed_tasks_among_busy_threads_does_not_stall(tmp_path):
    """50 timed tasks, each in its own process, while the parent is busy: untimed Aer tasks on 4
    OpenMP threads, a journal writing every task, and a thread logging through a handler (the
    locks a raw fork would copy held). A stall shows as pytest-faulthandler's traceback dump."""
    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, working_directory=str(tmp_path),
                                  coalesce=False)
    service.create_pilot({"resource_type": "quantum", "quantum": {
        "executor": "qiskit_local", "backend_options": {"max_parallel_threads": 4}}})
    logger = logging.getLogger("qtau.test.stress")
    logger.addHandler(logging.StreamHandler(open(os.devnull, "w")))  # noqa: SIM115 (closed below)
    logger.setLevel(logging.DEBUG)
    stop = threading.Event()

    def chatter():
        while not stop.is_set():
            logger.debug("busy %s", time.time())

    def wide():
        from qiskit import QuantumCircuit
        qc = QuantumCircuit(16)
        for layer in range(4):
            for q in range(16):
                qc.h(q) if layer % 2 == 0 else qc.rx(0.3 * q, q)
            for q in range(15):
                qc.cx(q, q + 1)
        qc.measure_all()
        return qc

    talker = threading.Thread(target=chatter, daemon=True)
    talker.start()
    try:
        timed, untimed = [], []
        for i in range(50):
            timed.append(service.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=20 + i, timeout=120)))
            if i % 5 == 0:
                untimed.append(service.submit_quantum_task(QuantumTask(wide, num_qubits=16, shots=50)))
        results = service.get_results(timed)
        wides = service.get_results(untimed)
    finally:
        stop.set()
        talker.join()
        for handler in logger.handlers:
            handler.stream.close()
            logger.removeHandler(handler)
        service.cancel()
    assert [sum(r.counts.values()) for r in results] == [20 + i for i in range(50)]
    assert all(set(r.counts) <= {"00", "11"} for r in results)
    assert all(sum(r.counts.values()) == 50 for r in wides)
    assert _no_children_left()


def test_a_plain_pickle_of_a_secret_withholds_its_value():
    """`pickle.dumps(pcs.get_pilots())` and the like: the bytes never hold the value; what they
    rebuild refuses to reveal one, with a QtauError saying how to get it back."""
    from qtau import Secret
    from qtau.errors import SecretWithheldError

    config = {"api_token": Secret(TOKEN), "nested": [{"password": Secret(TOKEN + "-2")}]}
    blob = pickle.dumps(config)
    assert TOKEN.encode() not in blob
    back = pickle.loads(blob)
    assert back["api_token"].withheld and repr(back["api_token"]) == repr(config["api_token"])
    with pytest.raises(SecretWithheldError) as caught:
        back["api_token"].reveal()
    assert isinstance(caught.value, QtauError) and caught.value.field == "secret" and caught.value.fix


def test_qtau_transport_carries_secret_values_and_copies_keep_them():
    """`qtau.packing.pack` (Ray payloads, a task's own process) carries the value; only inside it."""
    import copy

    from qtau import Secret, packing

    config = {"api_token": Secret(TOKEN)}
    blob = packing.pack(config)
    assert TOKEN.encode() in blob and packing.unpack(blob)["api_token"].reveal() == TOKEN
    assert TOKEN.encode() not in pickle.dumps(config)  # the transport ended with pack
    assert copy.deepcopy(config)["api_token"].reveal() == TOKEN
    assert copy.copy(config["api_token"]).reveal() == TOKEN


def test_a_task_process_gets_the_secret_values(hanging):
    """The plugin reveals its token inside the task's process (else SecretWithheldError would fail
    the attempt, an AuthenticationError, not the InvalidTaskError the plugin raises after reading)."""
    hanging.create_pilot({"resource_type": "quantum", "quantum": {"executor": "leaky_local",
                                                                  "api_token": TOKEN}})
    with pytest.raises(QtauError) as caught:
        hanging.get_result(hanging.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=10, timeout=30)))
    assert isinstance(caught.value, InvalidTaskError) and "SecretWithheld" not in str(caught.value)
