"""A collected result is not pinned by the service: its handle and bookkeeping are let go."""

import gc
import time
import weakref

import pytest
from qtau import PilotComputeService, QuantumTask
from qtau.errors import InvalidTaskError
from qtau_test_circuits import bell

QISKIT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}}


def test_collected_results_are_freed_once_the_user_drops_them(qiskit_host):
    with PilotComputeService(plugins=qiskit_host) as pcs:
        pcs.create_pilot(QISKIT)
        tasks = [QuantumTask(circuit=bell(), shots=10) for _ in range(5)]
        handles = [pcs.submit_quantum_task(t) for t in tasks]
        pending = pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10))
        results = pcs.get_results(handles, timeout=120)
        watched = [weakref.ref(r) for r in results]
        del handles, results
        for _ in range(200):  # a done-callback still running holds its result for a moment
            gc.collect()
            if all(w() is None for w in watched):
                break
            time.sleep(0.01)
        assert [w() for w in watched] == [None] * 5, "the service holds no collected result"
        # An uncollected task still resolves by id; a collected one says so.
        assert pcs.get_result(pending, timeout=120).shots == 10
        with pytest.raises(InvalidTaskError, match="already collected"):
            pcs.get_result(tasks[0].task_id)


def test_a_task_id_resolves_until_its_result_is_collected(qiskit_host):
    with PilotComputeService(plugins=qiskit_host) as pcs:
        pcs.create_pilot(QISKIT)
        task = QuantumTask(circuit=bell(), shots=7)
        handle = pcs.submit_quantum_task(task)
        pcs.wait_tasks([task.task_id], timeout=120)
        assert pcs.get_result(task.task_id).shots == 7
        assert pcs.get_result(handle).shots == 7  # the handle itself keeps working


def test_closing_records_a_finished_task_whose_callback_has_not_run_yet():
    """A waiter can wake before the done-callbacks of the future it waited for; a service closed
    at that moment must still journal the task's outcome (else recovery runs it again).

    The callback's delay cannot be forced through a real engine, so this engine stand-in never
    runs callbacks (a mock, where no real part can hold a callback back): `drain` must settle."""
    import concurrent.futures as cf

    from qtau.registry import TaskRegistry

    class HeldCallbacks:
        def on_done(self, handle, callback):
            pass

    class Dreamer:
        def task_finished(self, rid, attempts):
            pass

        def record_failures(self, attempts):
            pass

        def learn(self, outcome):
            pass

    journaled = []
    registry = TaskRegistry(HeldCallbacks(), Dreamer, on_settled=lambda tid, outcome, first: journaled.append(tid))
    done, running = cf.Future(), cf.Future()
    registry.track(done, "finished", "r")
    registry.track(running, "running", "r")
    done.set_result("a result")
    registry.drain(timeout=1.0)
    assert journaled == ["finished"]
    registry.drain(timeout=1.0)  # once only
    assert journaled == ["finished"]


def test_a_collected_handle_is_freed_without_the_garbage_collector(qiskit_host):
    """A LOCAL handle (a Future) whose result was collected is freed by reference counting alone:
    no reference cycle per task. The done-callback that settles a task held its handle for good,
    and a Future keeps its callbacks after calling them, so every task's Future, Result and
    counts waited for a full collection, which in a 1000-pub burst took a fifth of its time
    scanning every object the SDKs had loaded (docs/cluster.md)."""
    with PilotComputeService(plugins=qiskit_host) as pcs:
        pcs.create_pilot(QISKIT)
        pcs.get_results([pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10))], timeout=120)
        gc.collect()
        gc.disable()
        try:
            handles = [pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)) for _ in range(32)]
            handles += pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=10) for _ in range(32)])
            pcs.get_results(handles, timeout=120)
            time.sleep(0.2)  # the last done-callbacks return
            watched = [weakref.ref(h) for h in handles]
            del handles
            alive = sum(w() is not None for w in watched)
        finally:
            gc.enable()
        assert alive == 0, f"{alive} of 64 collected handles wait for the garbage collector"
