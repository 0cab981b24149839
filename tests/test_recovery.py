"""A driver killed mid-run loses nothing: a new service on its working_directory recover()s every
task from the journal, remote jobs re-attached at the Braket stub (127.0.0.1) with no second
CreateQuantumTask, unfinished local tasks run again, finished ones read back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from qtau.errors import ConfigurationError
from qtau.plugins import PluginHost
from qtau.service import PilotComputeService
from qtau.types import QuantumTask
from qtau_braket.testing.stub_server import BraketStub

DRIVER = textwrap.dedent('''
    import json, os, sys, time
    from braket.circuits import Circuit
    from qtau.plugins import PluginHost
    from qtau.service import PilotComputeService
    from qtau.types import QuantumTask

    def slow_x0():
        """Runs long in the first driver (it is killed first); at once when recovered."""
        from qiskit import QuantumCircuit
        if os.environ.get("QTAU_TEST_SLOW"):
            time.sleep(120)
        qc = QuantumCircuit(3, 3)
        qc.x(0)
        qc.measure(range(3), range(3))
        return qc

    config, workdir = json.loads(sys.argv[1]), sys.argv[2]
    host = PluginHost(strict=True)
    for name, module in (("braket", "qtau_braket.plugin"), ("qiskit", "qtau_qiskit.plugin")):
        host.register_module(name, module)
    pcs = PilotComputeService(plugins=host, working_directory=workdir)
    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_sv1"}, **config})
    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
    done = pcs.submit_quantum_task(QuantumTask(circuit=Circuit().x(1).i(0).i(2), shots=30, resource="qiskit_local",
                                               task_id="finished-local"))
    pcs.wait_tasks([done])
    for i in range(5):
        pcs.submit_quantum_task(QuantumTask(circuit=Circuit().x(0).i(1).i(2), shots=20 + i, resource="braket_sv1",
                                            task_id=f"remote-{i}"))
    from qiskit import QuantumCircuit
    bits = QuantumCircuit(2, 3)  # c[1] is never written: Qiskit reads it as 0, Braket has no such bit
    bits.x(0)
    bits.measure(0, 2)
    bits.measure(1, 0)
    pcs.submit_quantum_task(QuantumTask(circuit=bits, shots=15, resource="braket_sv1", task_id="remote-bits"))
    pcs.submit_quantum_task(QuantumTask(circuit=slow_x0, num_qubits=3, shots=10, resource="qiskit_local",
                                        task_id="unfinished-local"))
    print("submitted", flush=True)
    time.sleep(600)
''')


@pytest.fixture
def stub():
    with BraketStub() as server:
        yield server


def host() -> PluginHost:
    found = PluginHost(strict=True)
    for name, module in (("braket", "qtau_braket.plugin"), ("qiskit", "qtau_qiskit.plugin")):
        found.register_module(name, module)
    return found


def test_a_killed_driver_is_recovered_without_a_second_create(stub, tmp_path):
    stub.hold = True  # every Braket task waits QUEUED at the provider while the driver dies
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    workdir = tmp_path / "run"
    env = {**os.environ, "QTAU_TEST_SLOW": "1", "AWS_EC2_METADATA_DISABLED": "true"}
    driver = subprocess.Popen([sys.executable, str(script), json.dumps(stub.config()), str(workdir)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            created = [t for t in stub.tasks.values() if t.status == "QUEUED"]
            if len(created) == 6:
                break
            assert driver.poll() is None, driver.stderr.read()[-2000:]
            time.sleep(0.1)
        assert len(stub.tasks) == 6, "the driver created its six Braket tasks"
        time.sleep(0.5)  # the job references are journaled durably right after each create
    finally:
        driver.send_signal(signal.SIGKILL)  # the subprocess this test started, and nothing else
        driver.wait(timeout=30)
    creates_before = stub.calls.count("POST quantum-task")

    pcs = PilotComputeService(plugins=host(), working_directory=str(workdir))
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_sv1"}, **stub.config()})
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        handles = pcs.recover()
        stub.release()
        results = pcs.get_results(handles, timeout=300)
        by_id = {r.task_id: r for r in results}
        assert set(by_id) == {"finished-local", "unfinished-local", "remote-bits", *(f"remote-{i}" for i in range(5))}
        assert by_id["finished-local"].counts == {"010": 30} and by_id["finished-local"].metadata["recovered"]
        assert by_id["unfinished-local"].counts == {"001": 10}
        for i in range(5):
            result = by_id[f"remote-{i}"]
            assert result.counts == {"001": 20 + i} and result.resource_id.startswith("braket:arn")
        # Re-attached, its keys are still Qiskit's: one character per classical bit, c[1] read as 0.
        assert by_id["remote-bits"].counts == {"100": 15}
        path = by_id["remote-bits"].conversion_path
        assert path[0] == "qiskit" and path[-1] == "braket"
        assert stub.calls.count("POST quantum-task") == creates_before == 6, "a recovered job is never created again"
        # Handed out now: a third service has nothing to recover.
    finally:
        pcs.close()
    with PilotComputeService(plugins=host(), working_directory=str(workdir)) as again:
        assert again.recover() == []


def test_recover_needs_a_working_directory():
    with PilotComputeService(plugins=host()) as pcs, pytest.raises(ConfigurationError, match="working_directory"):
        pcs.recover()


def test_a_finished_run_recovers_nothing_twice(tmp_path):
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        ref = pcs.submit_quantum_task(QuantumTask(circuit=_x0(), shots=10))
        pcs.wait_tasks([ref])  # done, but never handed out
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        [result] = pcs.get_results(pcs.recover())
        assert result.counts == {"001": 10} and result.metadata["recovered"]
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        assert pcs.recover() == []


def _x0():
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.measure(range(3), range(3))
    return qc


@pytest.mark.ray
def test_on_ray_the_tracker_actor_journals_each_job_reference(stub, tmp_path):
    """The tracker actor runs on the driver's node and writes the attempts it makes into the
    driver's journal, so a job waiting at the provider is known before any result comes back."""
    from qtau import ExecutionEngine
    from qtau.journal import Journal

    stub.hold = True
    pcs = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=host(),
                              working_directory=str(tmp_path), ray_init_options={"num_cpus": 1})
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_sv1"}, **stub.config()})
        refs = [pcs.submit_quantum_task(QuantumTask(circuit=_x0(), shots=5 + i)) for i in range(3)]
        deadline = time.monotonic() + 120
        waiting = []
        while time.monotonic() < deadline:
            pcs.journal.journal.flush()
            with Journal.open(tmp_path, readonly=True) as seen:
                waiting = [t.last_attempt.job_ref for t in seen.unfinished_remote()]
            if len(waiting) == 3:
                break
            time.sleep(0.2)
        assert len(waiting) == 3
        assert all(arn in stub.tasks for ref in waiting for arn in ref["job"]["arns"])
        stub.release()
        assert [r.counts for r in pcs.get_results(refs, timeout=120)] == [{"001": 5}, {"001": 6}, {"001": 7}]
    finally:
        pcs.close()


def test_the_same_task_submitted_twice_makes_two_braket_tasks(stub):
    """Idempotency tokens come from the task id and the attempt number: a task object submitted
    again gets new attempt numbers, so it is a new paid task, not the first one answered again."""
    with PilotComputeService(plugins=host()) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_sv1"}, **stub.config()})
        task = QuantumTask(circuit=_x0(), shots=7)
        first, second = pcs.get_results([pcs.submit_quantum_task(task), pcs.submit_quantum_task(task)], timeout=120)
    assert first.counts == second.counts == {"001": 7}
    assert len(stub.tasks) == 2, "two submissions of one task object are two paid tasks"


def test_spend_survives_a_restart(tmp_path):
    """A budget counts what earlier services on the working_directory spent (from the journal)."""
    from qtau_scripted.testing import host as scripted_host
    from qtau_scripted.testing import pilot, resource

    def service() -> PilotComputeService:
        pcs = PilotComputeService(plugins=scripted_host(), working_directory=str(tmp_path))
        pcs.create_pilot(pilot(resource("priced", qubits=3, per_task=1.0, per_shot=0.001)))
        pcs.initialize_dreamer({"budget": {"USD": 10}})
        return pcs

    with service() as first:
        first.get_result(first.submit_quantum_task(QuantumTask(circuit=_x0(), shots=300)), timeout=60)
        assert first.qdreamer.budget_info()["service"]["spent"] == pytest.approx(1.3)
    with service() as second:
        info = second.qdreamer.budget_info()["service"]
        assert info["spent"] == pytest.approx(1.3) and info["left"] == pytest.approx(8.7)
