"""Progress bars over many tasks (qtau.progress): shown when asked or on a terminal, free when off."""

import subprocess
import sys

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.progress import enabled

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'


def fails():
    raise ValueError("this circuit factory fails on purpose")


@pytest.fixture
def pcs(qiskit_host):
    with PilotComputeService(ExecutionEngine.LOCAL, plugins=qiskit_host) as service:
        service.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        yield service


def test_forced_bar_counts_done_and_failed(pcs, capsys):
    handles = pcs.submit_quantum_tasks([QuantumTask(circuit=BELL, num_qubits=2, shots=50) for _ in range(9)])
    handles.append(pcs.submit_quantum_task(QuantumTask(circuit=fails, num_qubits=2, shots=50)))
    values = pcs.get_results(handles, return_exceptions=True, progress=True)
    err = capsys.readouterr().err
    assert "10/10" in err and "1 failed" in err and "0 running" in err and "tasks/s" in err
    assert sum(isinstance(v, Exception) for v in values) == 1


def test_wait_tasks_bar(pcs, capsys):
    handles = pcs.submit_quantum_tasks([QuantumTask(circuit=BELL, num_qubits=2, shots=50) for _ in range(5)])
    pcs.wait_tasks(handles, timeout=120, progress=True)
    assert "5/5" in capsys.readouterr().err


def test_no_bar_when_not_a_terminal(pcs, capsys):
    handles = pcs.submit_quantum_tasks([QuantumTask(circuit=BELL, num_qubits=2, shots=50) for _ in range(5)])
    pcs.get_results(handles)
    assert capsys.readouterr().err == ""


def test_automatic_choice(monkeypatch):
    assert enabled(None, 100) is False          # pytest's stderr is not a terminal
    assert enabled(None, 1) is False and enabled(True, 1) is True and enabled(False, 100) is False
    monkeypatch.setenv("QTAU_PROGRESS", "1")
    assert enabled(None, 100) is True and enabled(None, 1) is False
    monkeypatch.setenv("QTAU_PROGRESS", "0")
    assert enabled(None, 100) is False


def test_bad_progress_value():
    from qtau import ConfigurationError

    with pytest.raises(ConfigurationError, match="progress"):
        enabled("yes", 3)


def test_off_imports_nothing_and_polls_nothing():
    """With the bar off, a wait over many tasks is the engine's single wait: rich is never imported."""
    code = f"""
import sys
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.plugins import PluginHost
host = PluginHost(strict=True); host.register_module("qiskit", "qtau_qiskit.plugin")
with PilotComputeService(ExecutionEngine.LOCAL, plugins=host) as pcs:
    pcs.create_pilot({{"resource_type": "quantum", "quantum": {{"executor": "qiskit_local"}}}})
    hs = pcs.submit_quantum_tasks([QuantumTask(circuit={BELL!r}, num_qubits=2, shots=10) for _ in range(20)])
    calls = []  # counted from here: submission may wait for a burst's first tries (qtau.dispatch)
    wait = pcs.engine.wait
    pcs.engine.wait = lambda h, t: calls.append(len(h)) or wait(h, t)
    pcs.wait_tasks(hs)
    pcs.get_results(hs)
print(calls, "rich" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[20] False"
