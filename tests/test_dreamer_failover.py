"""Failover: a task whose resource raises, hangs past its timeout or goes offline re-runs on the
next ranked resource; every attempt is in the Result (or the ExecutionError); failed resources
cool down. The failing and hanging executors are the real `scripted` plugin's, scripted to do so.
"""

import time

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.circuits import Circuits
from qtau.dreamer import DreamerConfig, QDreamer
from qtau.engines.fork_server import servers
from qtau.errors import ExecutionError
from qtau.types import Attempt
from qtau_scripted import state
from qtau_scripted.testing import pilot, resource, wait_idle
from qtau_test_circuits import bell

SIM = {"kind": "simulator"}


#: The scripted plugin's script (tests/conftest.py::clean_script) is empty before and after each test.
pytestmark = pytest.mark.usefixtures("clean_script")



def service(plugins, *resources, **config):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    pcs.create_pilot(pilot(*resources))
    pcs.initialize_dreamer({"optimization_mode": "high_speed", **config})
    return pcs


def test_fail_then_hang_then_success_records_every_attempt(plugins):
    # The first timed task of a process waits for QTAU's fork server to start (it preloads the
    # SDKs the program uses: seconds on a loaded machine; docs/guide.md). A timed task on a
    # service of its own starts it first, so the time measured below is the task's own.
    with service(plugins, resource("warm")) as warm:
        warm.get_result(warm.submit_quantum_task(QuantumTask(circuit=bell(), shots=10, timeout=60)), timeout=120)
    servers.wait_warm()
    pcs = service(
        plugins,
        resource("bad", behaviour="fail", queue_wait_s=0),
        resource("stuck", behaviour="hang", hang_s=3, queue_wait_s=10),
        resource("good", queue_wait_s=20),
    )
    with pcs:
        task = QuantumTask(circuit=bell(), shots=200, timeout=0.5)
        assert [r.resource_id for r in pcs.qdreamer.explain(task).rows] == [
            "scripted:bad", "scripted:stuck", "scripted:good"]
        started = time.monotonic()
        result = pcs.get_result(pcs.submit_quantum_task(task), timeout=30)
        assert time.monotonic() - started < 3, "the hang must end at the task's timeout, not the hang's length"
        assert result.resource_id == "scripted:good"
        assert set(result.counts) == {"00", "11"} and sum(result.counts.values()) == 200
        attempts = result.attempts
        assert [(a.resource_id, a.ok, a.error_type) for a in attempts] == [
            ("scripted:bad", False, "ExecutionError"),
            ("scripted:stuck", False, "TaskTimeoutError"),
            ("scripted:good", True, ""),
        ]
        assert "failed as scripted" in attempts[0].message
        assert "did not finish within 0.5 s" in attempts[1].message
        assert all(a.ended_at >= a.started_at for a in attempts)
        assert attempts[1].ended_at - attempts[1].started_at < 2
        assert wait_idle(pcs) == {"scripted:bad": 0, "scripted:stuck": 0, "scripted:good": 0}


def test_all_fail_gives_an_execution_error_listing_each_attempt(plugins):
    pcs = service(
        plugins,
        resource("f1", behaviour="fail"),
        resource("f2", behaviour="offline", queue_wait_s=1, online=True),
        resource("f3", behaviour="hang", hang_s=2, queue_wait_s=2),
    )
    # "offline" behaviour reports offline in status too: make it look online at decision time.
    state.script("scripted:f2", behaviour="ok")
    with pcs:
        pcs.qdreamer.explain(QuantumTask(circuit=bell()))  # caches f2's status as online
        state.script("scripted:f2", behaviour="offline")
        task = QuantumTask(circuit=bell(), shots=100, timeout=0.3)
        with pytest.raises(ExecutionError) as info:
            pcs.get_result(pcs.submit_quantum_task(task), timeout=30)
        err = info.value
        assert err.task_id == task.task_id
        assert [(a.resource_id, a.error_type) for a in err.attempts] == [
            ("scripted:f1", "ExecutionError"),
            ("scripted:f2", "BackendUnavailableError"),
            ("scripted:f3", "TaskTimeoutError"),
        ]
        text = str(err)
        for i, rid in enumerate(["scripted:f1", "scripted:f2", "scripted:f3"], 1):
            assert f"attempt {i}: {rid}" in text
        wait_idle(pcs)
        # The failure made QDREAMER ask f2's provider again: it now reports offline.
        rows = {r.resource_id: r for r in pcs.qdreamer.explain(task).rows}
        assert rows["scripted:f2"].reason.startswith("offline")


def test_attempts_are_bounded_by_max_attempts(plugins):
    pcs = service(
        plugins, *(resource(f"f{i}", behaviour="fail", queue_wait_s=i) for i in range(4)), max_attempts=2,
    )
    with pcs:
        with pytest.raises(ExecutionError) as info:
            pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=30)
        assert [a.resource_id for a in info.value.attempts] == ["scripted:f0", "scripted:f1"]


def test_a_failed_resource_cools_down_and_the_next_task_avoids_it(plugins):
    pcs = service(plugins, resource("a", behaviour="fail", **SIM), resource("b", **SIM))
    with pcs:
        first = QuantumTask(circuit=bell(), shots=50)
        before = {r.resource_id: r for r in pcs.qdreamer.explain(first).rows}
        assert before["scripted:a"].penalty == 1.0 and before["scripted:a"].note == ""
        assert pcs.qdreamer.explain(first).chosen.resource_id == "scripted:a"  # equal: first listed wins
        result = pcs.get_result(pcs.submit_quantum_task(first), timeout=30)
        assert [a.resource_id for a in result.attempts] == ["scripted:a", "scripted:b"]
        wait_idle(pcs)
        table = pcs.qdreamer.explain(QuantumTask(circuit=bell(), shots=50))
        rows = {r.resource_id: r for r in table.rows}
        assert table.chosen.resource_id == "scripted:b"
        assert rows["scripted:a"].penalty == 0.5 and rows["scripted:a"].feasible
        assert rows["scripted:a"].score == pytest.approx(0.5 * rows["scripted:b"].score)
        assert rows["scripted:a"].note.startswith("cooling down after a failure: score x0.5 for")
        assert "x0.5" in str(table) and "cooling down" in str(table)
        # The next task goes straight to b: one attempt, no failure.
        second = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=50)), timeout=30)
        assert [a.resource_id for a in second.attempts] == ["scripted:b"]


def test_cool_down_ends_after_its_time_with_an_injected_clock(plugins):
    now = [1000.0]
    dreamer = QDreamer(plugins, Circuits(plugins), DreamerConfig.parse({"failure_cooldown_seconds": 60}),
                       clock=lambda: now[0])
    from qtau_scripted.script import resources

    config = {"executor": "scripted", "resources": [resource("a", **SIM), resource("b", **SIM)]}
    dreamer.add_resources(resources(config), config)
    task = QuantumTask(circuit=bell())
    assert dreamer.place(task)[0].resource.id == "scripted:a"
    failure = Attempt("scripted:a", False, 0.0, 1.0, "ExecutionError", "boom")
    dreamer.record_failures([failure])
    assert dreamer.place(task)[0].resource.id == "scripted:b"
    dreamer.record_failures([failure])  # the same attempt seen twice (result and callback) counts once
    now[0] += 59
    assert dreamer.place(task)[0].resource.id == "scripted:b"
    now[0] += 2
    assert dreamer.place(task)[0].resource.id == "scripted:a"
    row = next(r for r in dreamer.explain(task).rows if r.resource_id == "scripted:a")
    assert row.penalty == 1.0 and row.note == ""


def test_failover_order_is_the_ranking_in_batches_too(plugins):
    pcs = service(plugins, resource("bad", behaviour="fail"), resource("good", queue_wait_s=30))
    with pcs:
        tasks = [QuantumTask(circuit=bell(), shots=20) for _ in range(6)]
        results = pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=60)
        assert {r.resource_id for r in results} == {"scripted:good"}
        assert all(r.attempts[-1].ok and r.attempts[-1].resource_id == "scripted:good" for r in results)
        assert all(any(a.resource_id == "scripted:bad" and not a.ok for a in r.attempts) for r in results)
        assert set(wait_idle(pcs).values()) == {0}


def test_failures_in_a_row_compound_and_a_success_ends_the_cool_down(plugins):
    now = [0.0]
    dreamer = QDreamer(plugins, Circuits(plugins), DreamerConfig.parse({"optimization_mode": "high_speed"}),
                       clock=lambda: now[0])
    from qtau_scripted.script import resources

    config = {"executor": "scripted", "resources": [resource("fast", queue_wait_s=0), resource("slow", queue_wait_s=30)]}
    dreamer.add_resources(resources(config), config)
    task = QuantumTask(circuit=bell())

    def penalty():
        return next(r for r in dreamer.explain(task).rows if r.resource_id == "scripted:fast").penalty

    for n in range(1, 4):
        dreamer.record_failures([Attempt("scripted:fast", False, float(n), n + 0.5, "ExecutionError", "boom")])
        assert penalty() == 0.5**n
    # x0.5 still leaves the fast device first; after three failures in a row the slow one leads.
    assert dreamer.place(task)[0].resource.id == "scripted:slow"
    assert "3 failures in a row: score x0.125" in str(dreamer.explain(task))
    dreamer.record_failures([Attempt("scripted:fast", True, 10.0, 11.0)])
    assert penalty() == 1.0 and dreamer.place(task)[0].resource.id == "scripted:fast"
    # A success that ended before the last failure does not end it.
    dreamer.record_failures([Attempt("scripted:fast", False, 20.0, 21.0, "ExecutionError", "boom")])
    dreamer.record_failures([Attempt("scripted:fast", True, 12.0, 13.0)])
    assert penalty() == 0.5
