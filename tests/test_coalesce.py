"""Coalescing (issue 12): tasks submitted one by one gather into backend batches while the engine is
saturated, and every task ends exactly as it would have alone.

A busy backend is the scripted plugin with `call_delay_s` (each executor call sleeps first), so
the engine is saturated for a known time; `state.batches` records each executor call's job count.
"""

from __future__ import annotations

import pytest
from qtau import ExecutionEngine
from qtau.errors import ConfigurationError, InvalidTaskError, QtauError, TaskCancelledError
from qtau.service import PilotComputeService
from qtau.types import QuantumTask
from qtau_scripted import state
from qtau_scripted.testing import host, pilot, resource, wait_idle
from qtau_test_circuits import bell, x_on

#: QDREAMER's cool-down off: which resource a task tries first must not depend on when an earlier
#: task's failure was learnt (that timing differs between the coalesced and the direct path).
STEADY = {"optimization_mode": "high_fidelity", "failure_penalty": 1.0}


#: The scripted plugin's script (tests/conftest.py::clean_script) is empty before and after each test.
pytestmark = pytest.mark.usefixtures("clean_script")


def service(coalesce: bool = True, workers: int = 2) -> PilotComputeService:
    return PilotComputeService(plugins=host(), max_workers=workers, coalesce=coalesce)


def broken():
    raise RuntimeError("no circuit")


def task_mix(bad_circuit=broken) -> list[QuantumTask]:
    """Deterministic circuits (exact counts), Bell pairs (a distribution), several shot counts
    (several prices), a task pinned to a resource that fails (failover), and bad input."""
    tasks = []
    for i in range(24):
        if i % 6 == 5:
            tasks.append(QuantumTask(circuit=bell(), shots=200, task_id=f"t{i}"))
        elif i == 7:
            tasks.append(QuantumTask(circuit=bad_circuit, num_qubits=3, task_id=f"t{i}"))
        else:
            tasks.append(QuantumTask(circuit=x_on(i % 3), shots=100 * (1 + i % 4), task_id=f"t{i}"))
    return tasks


def run_mix(coalesce: bool) -> tuple[list, list[tuple[str, int]], PilotComputeService]:
    pcs = service(coalesce)
    pcs.create_pilot(pilot(resource("bad", behaviour="fail", call_delay_s=0.05),
                           resource("good", one_qubit_error=0.3, per_shot=0.001, call_delay_s=0.05)))
    pcs.initialize_dreamer(STEADY)
    handles = [pcs.submit_quantum_task(t) for t in task_mix()]
    values = pcs.get_results(handles, timeout=120, return_exceptions=True)
    return values, list(state.batches), pcs


def summary(value) -> tuple:
    """What must not depend on coalescing (timings and raw SDK objects may)."""
    if isinstance(value, QtauError):
        return (type(value).__name__, getattr(value, "task_id", None),
                tuple((a.resource_id, a.ok, a.error_type) for a in getattr(value, "attempts", ()) or ()))
    counts = value.counts if set(value.counts) - {"00", "11"} else ("bell", sum(value.counts.values()))
    return (value.task_id, value.resource_id, value.shots, counts, value.cost, value.currency,
            tuple((a.resource_id, a.ok, a.error_type) for a in value.attempts), value.conversion_path)


def test_coalesced_and_direct_runs_give_the_same_results():
    direct, direct_calls, pcs = run_mix(coalesce=False)
    assert wait_idle(pcs) == {"scripted:bad": 0, "scripted:good": 0}
    pcs.close()
    state.reset()
    gathered, gathered_calls, pcs = run_mix(coalesce=True)
    assert wait_idle(pcs) == {"scripted:bad": 0, "scripted:good": 0}
    coalescer = pcs._coalescer
    pcs.close()

    assert [summary(v) for v in gathered] == [summary(v) for v in direct]
    # The mix really ran both ways: one call per task without coalescing, batches with it.
    assert all(n == 1 for _, n in direct_calls) and len(direct_calls) == 23
    assert sum(n for _, n in gathered_calls) == 23
    assert len(gathered_calls) < len(direct_calls) and max(n for _, n in gathered_calls) > 1
    assert coalescer.batches, "a saturated engine gathered tasks"
    # Bell pairs are a distribution: both outcomes show up over the six tasks.
    bells = [v for v in gathered if not isinstance(v, QtauError) and set(v.counts) <= {"00", "11"}]
    assert len(bells) == 4 and {k for b in bells for k in b.counts} == {"00", "11"}
    bad = gathered[7]
    assert isinstance(bad, InvalidTaskError) and "broken()" in str(bad)


def test_failing_resource_fails_over_per_task_inside_a_batch():
    pcs = service()
    pcs.create_pilot(pilot(resource("bad", behaviour="fail", call_delay_s=0.05),
                           resource("good", one_qubit_error=0.3, call_delay_s=0.05)))
    pcs.initialize_dreamer(STEADY)
    tasks = [QuantumTask(circuit=x_on(i % 3), shots=50) for i in range(12)]
    results = pcs.get_results([pcs.submit_quantum_task(t) for t in tasks], timeout=120)
    assert [r.task_id for r in results] == [t.task_id for t in tasks]
    assert all([(a.resource_id, a.ok) for a in r.attempts] == [("scripted:bad", False), ("scripted:good", True)]
               for r in results)
    assert state.runs["scripted:good"] == 12 and state.runs["scripted:bad"] == 0
    assert len(state.batches) < 12, "failed-over batches ran as batches"
    assert wait_idle(pcs) == {"scripted:bad": 0, "scripted:good": 0}
    pcs.close()


def test_a_lone_task_is_sent_at_once_not_gathered():
    pcs = service()
    pcs.create_pilot(pilot(resource("a")))
    for _ in range(3):  # one after another: the engine is never saturated
        assert pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=x_on(1), shots=10)), timeout=60).counts == {
            "010": 10}
    assert pcs._coalescer.sent_alone == 3 and pcs._coalescer.batches == []
    pcs.close()


def test_a_saturated_engine_sends_gathered_tasks_as_batches():
    pcs = service(workers=1)
    pcs.create_pilot(pilot(resource("a", call_delay_s=0.3)))
    tasks = [QuantumTask(circuit=x_on(i % 3), shots=10 + i) for i in range(10)]
    handles = [pcs.submit_quantum_task(t) for t in tasks]
    results = pcs.get_results(handles, timeout=120)
    # The first task went alone; the nine submitted while it ran went as one backend call.
    assert [n for _, n in state.batches] == [1, 9]
    assert [r.shots for r in results] == [10 + i for i in range(10)]
    assert [r.task_id for r in results] == [t.task_id for t in tasks]
    assert all(len(r.attempts) == 1 and r.attempts[0].ok for r in results)
    pcs.close()


def test_cancelling_a_gathered_task_cancels_only_that_task():
    pcs = service(workers=1)
    pcs.create_pilot(pilot(resource("a", call_delay_s=0.3)))
    tasks = [QuantumTask(circuit=x_on(i % 3), shots=10) for i in range(5)]
    handles = [pcs.submit_quantum_task(t) for t in tasks]
    assert pcs.qdreamer.in_flight() == {"scripted:a": 5}
    pcs.cancel([handles[2]])
    values = pcs.get_results(handles, timeout=120, return_exceptions=True)
    assert isinstance(values[2], TaskCancelledError)
    assert [v.task_id for i, v in enumerate(values) if i != 2] == [t.task_id for i, t in enumerate(tasks) if i != 2]
    assert state.runs["scripted:a"] == 4, "the cancelled task never ran"
    # QDREAMER's in-flight count was settled once per task, the cancelled one included.
    assert wait_idle(pcs) == {"scripted:a": 0}
    pcs.close()


def test_shutdown_cancels_gathered_tasks():
    pcs = service(workers=1)
    pcs.create_pilot(pilot(resource("a", call_delay_s=0.5)))
    handles = [pcs.submit_quantum_task(QuantumTask(circuit=x_on(0), shots=10)) for _ in range(4)]
    import time

    deadline = time.monotonic() + 30
    while not handles[0].running():  # the first task is on a pool thread: closing cannot cancel it
        assert time.monotonic() < deadline
        time.sleep(0.005)
    pcs.close()
    assert all(h.cancelled() for h in handles[1:])
    assert handles[0].result(timeout=30).counts == {"001": 10}, "the running task finishes"


def test_opt_out_sends_every_task_alone():
    pcs = service(coalesce=False, workers=1)
    pcs.create_pilot(pilot(resource("a", call_delay_s=0.1)))
    pcs.get_results([pcs.submit_quantum_task(QuantumTask(circuit=x_on(0), shots=10)) for _ in range(5)], timeout=60)
    assert [n for _, n in state.batches] == [1] * 5 and pcs._coalescer is None
    pcs.close()


def test_coalesce_must_be_a_bool():
    with pytest.raises(ConfigurationError, match="coalesce must be True or False, not 'no'"):
        PilotComputeService(plugins=host(), coalesce="no")


def test_a_batch_call_rejecting_input_runs_members_alone():
    """The backend rejects a job's input in the batch call (too many shots): coalesced, that task
    fails with its own InvalidTaskError and no failover, as it would alone, and its mates run."""
    out = {}
    for coalesce in (False, True):
        state.reset()
        pcs = service(coalesce, workers=1)
        pcs.create_pilot(pilot(resource("a", reject_shots_above=500, call_delay_s=0.2), resource("b", one_qubit_error=0.3)))
        pcs.initialize_dreamer(STEADY)
        tasks = [QuantumTask(circuit=x_on(0), shots=900 if i == 2 else 10, task_id=f"s{i}") for i in range(5)]
        out[coalesce] = pcs.get_results([pcs.submit_quantum_task(t) for t in tasks], timeout=60, return_exceptions=True)
        assert wait_idle(pcs) == {"scripted:a": 0, "scripted:b": 0}
        if coalesce:
            assert max(pcs._coalescer.batches) > 1
        pcs.close()
    assert [summary(v) for v in out[True]] == [summary(v) for v in out[False]]
    assert isinstance(out[True][2], InvalidTaskError) and "at most 500 shots" in str(out[True][2])
    assert all(v.resource_id == "scripted:a" for i, v in enumerate(out[True]) if i != 2)


def test_a_submitted_batch_whose_call_rejects_input_ends_only_the_bad_task():
    """The same rejection in a `submit_quantum_tasks` batch: the batch call fails, its members run
    alone, the task with too many shots ends with its own InvalidTaskError (no failover to "b"),
    and the other four run on "a" as they would have alone."""
    state.reset()
    pcs = service(False, workers=1)
    pcs.create_pilot(pilot(resource("a", reject_shots_above=500), resource("b", one_qubit_error=0.3)))
    pcs.initialize_dreamer(STEADY)
    tasks = [QuantumTask(circuit=x_on(0), shots=900 if i == 2 else 10, task_id=f"b{i}") for i in range(5)]
    out = pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=60, return_exceptions=True)
    assert wait_idle(pcs) == {"scripted:a": 0, "scripted:b": 0}
    pcs.close()
    assert isinstance(out[2], InvalidTaskError) and "at most 500 shots" in str(out[2])
    assert [v.resource_id for i, v in enumerate(out) if i != 2] == ["scripted:a"] * 4
    assert all(v.counts == {"001": 10} for i, v in enumerate(out) if i != 2)


@pytest.mark.ray
def test_ray_coalesced_and_direct_give_the_same_results():
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized()
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        out = {}
        for coalesce in (False, True):
            pcs = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=host(), coalesce=coalesce)
            pcs.create_pilot(pilot(resource("bad", behaviour="fail", call_delay_s=0.02),
                                   resource("good", one_qubit_error=0.3, per_shot=0.001, call_delay_s=0.02)))
            pcs.initialize_dreamer(STEADY)
            # (A lambda travels by value: Ray workers cannot import this test module.)
            handles = [pcs.submit_quantum_task(t) for t in task_mix(lambda: 1 / 0)]
            assert all(isinstance(h, ray.ObjectRef) for h in handles)
            out[coalesce] = pcs.get_results(handles, timeout=300, return_exceptions=True)
            assert isinstance(out[coalesce][7], InvalidTaskError) and "ZeroDivisionError" in str(out[coalesce][7])
            if coalesce:
                stats = pcs._coalescer.stats()
                assert pcs._coalescer.gathered > 0 and max(stats["batches"]) > 1, stats
                # A gathered task's handle feeds other remote functions like any ObjectRef.
                last = next(h for h in reversed(handles))
                assert ray.get(ray.remote(lambda r: r.task_id).remote(last), timeout=120) == "t23"
            # On RAY a task whose error carries no task id (bad input) is settled by the engine's
            # next poll (done-callbacks carry no value there), as without coalescing.
            pcs.wait_tasks(handles, timeout=60)
            assert wait_idle(pcs, 60) == {"scripted:bad": 0, "scripted:good": 0}
            pcs.close()
        assert [summary(v) for v in out[True]] == [summary(v) for v in out[False]]
    finally:
        ray.shutdown()


@pytest.mark.ray
def test_ray_cancelling_a_gathered_task():
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized()
    ray.init(address="local", num_cpus=1, include_dashboard=False, logging_level="ERROR")
    try:
        pcs = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=host())
        pcs.create_pilot(pilot(resource("a", call_delay_s=1.0)))
        tasks = [QuantumTask(circuit=x_on(i % 3), shots=10) for i in range(4)]
        handles = [pcs.submit_quantum_task(t) for t in tasks]
        assert pcs._coalescer.gathered == 3
        pcs.cancel([handles[3]])
        values = pcs.get_results(handles, timeout=300, return_exceptions=True)
        assert isinstance(values[3], TaskCancelledError), values[3]
        assert [v.task_id for v in values[:3]] == [t.task_id for t in tasks[:3]]
        pcs.wait_tasks(handles[:3], timeout=60)
        assert wait_idle(pcs, 60) == {"scripted:a": 0}
        pcs.close()
    finally:
        ray.shutdown()


# -- remote resources: gathered while a provider create call is in progress ------------------------


def remote(name: str, **values):
    return resource(name, remote=True, kind="qpu", **values)


def provider_jobs() -> list[tuple[str, int, str]]:
    """(resource, number of circuits, state) of every provider job, in creation order."""
    with state._lock:
        return [(j["resource"], len(j["jobs"]), j["state"]) for j in state.jobs.values()]


def test_remote_tasks_sent_during_a_create_call_share_one_provider_batch():
    out = {}
    for coalesce in (False, True):
        state.reset()
        pcs = service(coalesce)
        pcs.create_pilot(pilot(remote("q", call_delay_s=1.0, job_delay_s=0.05, per_task=0.3)))
        tasks = [QuantumTask(circuit=x_on(i % 3), shots=10 * (i + 1), task_id=f"r{i}") for i in range(6)]
        handles = [submit_first(pcs, tasks[0]) if coalesce else pcs.submit_quantum_task(tasks[0])]
        handles += [pcs.submit_quantum_task(t) for t in tasks[1:]]
        out[coalesce] = pcs.get_results(handles, timeout=60)
        jobs = provider_jobs()
        assert wait_idle(pcs) == {"scripted:q": 0}
        pcs.close()
        if coalesce:
            # The first task went at once; the five submitted during its create call went as one batch.
            assert [n for _, n, _ in jobs] == [1, 5]
        else:
            assert [n for _, n, _ in jobs] == [1] * 6
    assert [summary(v) for v in out[True]] == [summary(v) for v in out[False]]
    assert len({r.attempts[0].job for r in out[True][1:]}) == 1 != len({r.attempts[0].job for r in out[False]})


def test_cancelling_gathered_remote_tasks():
    pcs = service()
    pcs.create_pilot(pilot(remote("q", call_delay_s=1.0, job_delay_s=0.5)))
    handles = [submit_first(pcs, QuantumTask(circuit=x_on(0), shots=10))]
    handles += [pcs.submit_quantum_task(QuantumTask(circuit=x_on(0), shots=10)) for _ in range(3)]
    pcs.cancel([handles[3]])  # still gathering: never sent
    values = pcs.get_results(handles, timeout=60, return_exceptions=True)
    assert isinstance(values[3], TaskCancelledError)
    assert all(v.counts == {"001": 10} for v in values[:3])
    assert [n for _, n, _ in provider_jobs()] == [1, 2]
    # Every member of a sent provider batch cancelled: the provider job is cancelled.
    state.reset()
    handles = [submit_first(pcs, QuantumTask(circuit=x_on(0), shots=10))]
    handles += [pcs.submit_quantum_task(QuantumTask(circuit=x_on(0), shots=10)) for _ in range(2)]
    wait_for_jobs(2)
    pcs.cancel(handles[1:])
    values = pcs.get_results(handles, timeout=60, return_exceptions=True)
    assert values[0].counts == {"001": 10}
    assert all(isinstance(v, TaskCancelledError) for v in values[1:])
    wait_for_jobs(2, lambda jobs: [(n, s) for _, n, s in jobs] == [(1, "COMPLETED"), (2, "CANCELLED")])
    assert wait_idle(pcs) == {"scripted:q": 0}
    pcs.close()


def gathering():
    from qtau.tracker import local_tracker

    return local_tracker().tracker.gathering


def submit_first(pcs, task, timeout: float = 30.0):
    """Submit `task` and wait until the tracker has sent it (its create call then takes call_delay_s)."""
    import time

    before = len(gathering().batches)
    handle = pcs.submit_quantum_task(task)
    deadline = time.monotonic() + timeout
    while len(gathering().batches) <= before:
        assert time.monotonic() < deadline, "the first task was never sent"
        time.sleep(0.005)
    return handle


def wait_for_jobs(n: int, check=lambda jobs: True, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while len(provider_jobs()) < n or not check(provider_jobs()):
        assert time.monotonic() < deadline, provider_jobs()
        time.sleep(0.01)


def test_cancelling_one_member_of_a_sent_provider_batch_leaves_the_others_running():
    """A provider batch is cancelled only when every member is: cancelling one gathered task after
    its batch was sent ends that task's handle, and the other members still get their results."""
    pcs = service()
    pcs.create_pilot(pilot(remote("q", call_delay_s=1.0, job_delay_s=0.5)))
    handles = [submit_first(pcs, QuantumTask(circuit=x_on(0), shots=10))]
    handles += [pcs.submit_quantum_task(QuantumTask(circuit=x_on(1), shots=10 + i)) for i in range(3)]
    wait_for_jobs(2)
    pcs.cancel([handles[2]])
    values = pcs.get_results(handles, timeout=60, return_exceptions=True)
    assert isinstance(values[2], TaskCancelledError)
    assert values[0].counts == {"001": 10}
    assert values[1].counts == {"010": 10} and values[3].counts == {"010": 12}
    wait_for_jobs(2, lambda jobs: [(n, s) for _, n, s in jobs] == [(1, "COMPLETED"), (3, "COMPLETED")])
    assert wait_idle(pcs) == {"scripted:q": 0}
    pcs.close()
