"""A process's first call of an executor and circuit format runs one task alone (`qtau.attempt.cold`,
`qtau.worker.run_batch`): it pays for creating the executor and the conversion path, and the
batch's other tasks follow in a call of their own, from which QDREAMER learns the simulator's
speed. Without this a warm-up burst left every simulator's model "still learning" (each one's
tasks all ran in the call that imported its SDK) and the first real burst went to whichever
simulator happened to be trusted, not the fastest.

Runs on the scripted plugin's local simulator (BasicSimulator behind it) and real services, so
nothing here is mocked.
"""

from __future__ import annotations

import time

import pytest
from qiskit import qasm2
from qtau import ExecutionEngine, PilotComputeService, QuantumTask, worker
from qtau.attempt import close_executors
from qtau.dreamer.runtime_model import EXPLORE_TRIES, RuntimeModels
from qtau.payloads import BatchPayload, Placement, TaskFailure, TaskPayload
from qtau.types import Result
from qtau_scripted import state
from qtau_scripted.testing import host, pilot, resource
from qtau_test_circuits import bell

pytestmark = pytest.mark.usefixtures("clean_script")


@pytest.fixture()
def cold_process():
    """No executor made and no call completed in this process, before and after the test."""
    close_executors()
    yield
    close_executors()


@pytest.fixture()
def simulator(cold_process):
    plugins = host()
    config = {"executor": "scripted", "resources": [resource("sim", kind="simulator")]}
    [found] = plugins.resources("scripted", config)
    return plugins, Placement(found, config)


def payload(plugins, placement, circuit=None, task_id=None, num_qubits=None) -> TaskPayload:
    task = QuantumTask(circuit=bell() if circuit is None else circuit, shots=20, num_qubits=num_qubits,
                       **({"task_id": task_id} if task_id else {}))
    return TaskPayload(plugins.spec(), task, (placement,), time.time())


def batch(plugins, placement, n: int, **kwargs) -> BatchPayload:
    return BatchPayload(tuple(payload(plugins, placement, **kwargs) for _ in range(n)))


def test_a_cold_executors_first_batch_runs_one_task_alone_then_the_rest_in_one_call(simulator):
    plugins, placement = simulator
    entries = worker.run_batch(batch(plugins, placement, 5))
    assert all(isinstance(e, Result) and sum(e.counts.values()) == 20 for e in entries)
    assert [n for _, n in state.batches] == [1, 4]
    assert [e.attempts[-1].cold for e in entries] == [True, False, False, False, False]
    # The rest's call is timed from after the first: its time holds none of the executor's creation.
    assert entries[0].attempts[-1].ended_at <= min(e.attempts[-1].started_at for e in entries[1:])
    assert len({e.attempts[-1].started_at for e in entries[1:]}) == 1  # one call, one observation

    again = worker.run_batch(batch(plugins, placement, 3))
    assert [n for _, n in state.batches] == [1, 4, 3]  # warm now: one call
    assert not any(e.attempts[-1].cold for e in again)


def test_a_seeded_simulators_first_batch_is_one_call_so_a_seeded_run_repeats(cold_process):
    """Aer seeds a call's circuits by their place in it (seed_simulator + i): split, the first run
    of a process would differ from the next."""
    plugins = host()
    config = {"executor": "scripted", "resources": [resource("sim", kind="simulator")], "seed_simulator": 7}
    [found] = plugins.resources("scripted", config)
    entries = worker.run_batch(batch(plugins, Placement(found, config), 4))
    assert [n for _, n in state.batches] == [4]
    assert all(e.attempts[-1].cold for e in entries)


def test_a_first_batch_whose_first_task_is_bad_splits_at_its_first_good_one(simulator):
    plugins, placement = simulator
    members = (payload(plugins, placement, num_qubits=1),) + batch(plugins, placement, 3).members
    entries = worker.run_batch(BatchPayload(members))
    assert isinstance(entries[0], TaskFailure) and "num_qubits" in str(entries[0].error)
    assert [n for _, n in state.batches] == [1, 2]
    assert [e.attempts[-1].cold for e in entries[1:]] == [True, False, False]


def test_a_batch_of_one_and_a_task_alone_are_cold_only_on_the_first_call(simulator):
    plugins, placement = simulator
    [first] = worker.run_batch(batch(plugins, placement, 1))
    assert first.attempts[-1].cold
    assert not worker.run_task(payload(plugins, placement)).attempts[-1].cold
    assert [n for _, n in state.batches] == [1, 1]


def test_a_new_circuit_format_on_a_warm_executor_is_cold_again(simulator):
    """The executor exists, but the format's conversion path makes its first trip (OpenQASM 2 text
    read into a Qiskit circuit here; a Qiskit circuit to a PennyLane device imports a converter)."""
    plugins, placement = simulator
    assert worker.run_task(payload(plugins, placement)).attempts[-1].cold
    text = qasm2.dumps(bell())
    assert worker.run_task(payload(plugins, placement, circuit=text)).attempts[-1].cold
    assert not worker.run_task(payload(plugins, placement, circuit=text)).attempts[-1].cold
    assert not worker.run_task(payload(plugins, placement)).attempts[-1].cold


def test_a_failing_simulator_is_cold_once_and_then_gets_whole_batches(simulator):
    """A call that failed after making the executor paid for it: the next is warm, so a resource
    that fails every call does not run each task of every batch alone."""
    plugins, placement = simulator
    state.script("scripted:sim", behaviour="fail")
    entries = worker.run_batch(batch(plugins, placement, 5))
    assert all(isinstance(e, TaskFailure) for e in entries)
    assert [e.error.attempts[-1].cold for e in entries] == [True, False, False, False, False]
    assert len({e.error.attempts[-1].started_at for e in entries[1:]}) == 1  # one call for the rest
    again = worker.run_batch(batch(plugins, placement, 3))
    assert not any(e.error.attempts[-1].cold for e in again)
    assert len({e.error.attempts[-1].started_at for e in again}) == 1
    state.script("scripted:sim", behaviour="ok")
    assert not worker.run_task(payload(plugins, placement)).attempts[-1].cold


def test_the_model_learns_from_a_call_as_the_worker_saw_it_not_as_the_stores_first():
    """A worker in another process (Ray), or an executor made before the store (another service of
    the process), makes the store's own guess wrong either way: the worker's flag decides."""
    models = RuntimeModels(None)
    for _ in range(EXPLORE_TRIES):
        models.observe("sim", 10.0, 10.002, 0.001, 100, first=False)
    assert not models.still_learning("sim")  # trusted from its first observed call, a warm one
    for _ in range(EXPLORE_TRIES):
        models.observe("other", 10.0, 12.0, 0.001, 100, first=True)
    models.observe("other", 13.0, 13.002, 0.001, 100, first=True)
    assert models.still_learning("other")  # every call it saw was cold
    models.observe("other", 14.0, 14.002, 0.001, 100)  # no flag: the store's first batch rule
    assert not models.still_learning("other")


def test_a_warm_up_burst_leaves_a_model_qdreamer_trusts(cold_process):
    """One burst on a fresh service and executor: the simulator's model is trusted after it, with
    the estimate from the warm call, not the one that made the executor."""
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=host(), batch_chunks=1) as pcs:
        pcs.create_pilot(pilot(resource("sim", kind="simulator")))
        pcs.qdreamer.runtime.clear()
        results = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=10)
                                                            for _ in range(6)]))
        assert not pcs.qdreamer.runtime.still_learning("scripted:sim", "qiskit")
        assert [r.attempts[-1].cold for r in results] == [True] + [False] * 5
