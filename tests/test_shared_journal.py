"""One process, one journal: services of one process on one working_directory share its journal.

Real services on the LOCAL engine with qiskit_local; the other process is a real subprocess.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest
from qtau.errors import JournalLockedError
from qtau.journal import Journal
from qtau.service import PilotComputeService
from qtau.types import QuantumTask

PILOT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}}


def _x0_after(gate: threading.Event):
    def build():
        from qiskit import QuantumCircuit

        gate.wait(60)
        qc = QuantumCircuit(1, 1)
        qc.x(0)
        qc.measure(0, 0)
        return qc
    return build


def test_a_second_service_shares_the_journal_and_nothing_runs_twice(tmp_path, qiskit_host):
    gate = threading.Event()
    runs = []
    build = _x0_after(gate)

    def counted():
        runs.append(1)
        return build()

    old = PilotComputeService(plugins=qiskit_host, working_directory=str(tmp_path))
    old.create_pilot(PILOT)
    in_flight = old.submit_quantum_task(QuantumTask(circuit=counted, num_qubits=1, shots=7, task_id="slow"))
    # What a re-run notebook cell does: a new service on the same directory, the old one still open.
    new = PilotComputeService(plugins=qiskit_host, working_directory=str(tmp_path))
    new.create_pilot(PILOT)
    assert new.recover() == []  # the old service still runs "slow": it is not run again
    gate.set()
    [result] = old.get_results([in_flight])  # the old service still works and keeps its task
    assert result.counts == {"1": 7} and runs == [1]
    done = new.submit_quantum_task(QuantumTask(circuit=_x0_after(gate), num_qubits=1, shots=3))
    old.close()  # closing one service leaves the shared journal open for the other
    assert new.get_results([done])[0].counts == {"1": 3}
    new.close()
    with Journal.open(tmp_path, readonly=True) as journal:
        states = {t.task_id: t.state for t in journal.tasks()}
    assert states["slow"] == "done" and len(states) == 2 and set(states.values()) == {"done"}
    # The last close released the lock: a fresh service opens it, and there is nothing to recover.
    with PilotComputeService(plugins=qiskit_host, working_directory=str(tmp_path)) as again:
        assert again.recover() == []


def test_an_unhanded_result_of_a_closed_service_is_recovered_once(tmp_path, qiskit_host):
    gate = threading.Event()
    gate.set()
    first = PilotComputeService(plugins=qiskit_host, working_directory=str(tmp_path))
    first.create_pilot(PILOT)
    first.wait_tasks([first.submit_quantum_task(QuantumTask(circuit=_x0_after(gate), num_qubits=1, shots=5))])
    second = PilotComputeService(plugins=qiskit_host, working_directory=str(tmp_path))
    first.close()
    second.create_pilot(PILOT)
    [result] = second.get_results(second.recover())
    assert result.counts == {"1": 5}
    assert second.recover() == []
    second.close()


CHILD = textwrap.dedent('''
    import sys
    from qtau.service import PilotComputeService
    pcs = PilotComputeService(working_directory=sys.argv[1])
    print("open", flush=True)
    sys.stdin.read()
''')


def test_another_live_process_is_still_refused(tmp_path, qiskit_host):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "open", child.stderr.read()
        with pytest.raises(JournalLockedError) as info:
            PilotComputeService(plugins=qiskit_host, working_directory=str(tmp_path))
        assert info.value.pid == child.pid
    finally:
        child.stdin.close()
        child.wait(30)
