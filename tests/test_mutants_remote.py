"""Coalescing, provider jobs and result conversion: the cases that mutations of the coalescer,
the remote-job tracker and the worker's result building survived (issue 23 item 7;
scripts/mutation.py's `@coalesce`, `@tracker` and `@results` mutants). Each test names the wrong
behaviour it catches.

Everything runs through `PilotComputeService` on the real `scripted` plugin: its local executor
runs BasicSimulator (`state.batches` records each executor call's job count), and its remote
executor is a real `RemoteExecutor` over an in-process provider queue whose faults are scripted
(the local stand-in for a cloud provider; nothing is mocked).
"""

from __future__ import annotations

import time

import pytest
from qtau.errors import QtauError
from qtau.service import PilotComputeService
from qtau.types import QuantumTask
from qtau_scripted import state
from qtau_scripted.testing import host, pilot, resource, wait_idle
from qtau_test_circuits import bell, x_on

pytestmark = pytest.mark.usefixtures("clean_script")

#: The coalescer's largest batch (`qtau.coalesce.MAX_BATCH`, documented in its module docstring).
MAX_BATCH = 256


def remote(name: str, **values):
    return resource(name, remote=True, kind="qpu", **values)


def test_tasks_with_different_timeouts_never_share_a_batch():
    """One worker, busy: three tasks with timeout 60 and three with timeout 90 wait. They go as
    two batches, one per timeout, so a batch's time limit is each member's own. Catches: batches
    grouped by resource only."""
    with PilotComputeService(plugins=host(), max_workers=1) as pcs:
        pcs.create_pilot(pilot(resource("a", call_delay_s=0.3)))
        tasks = [QuantumTask(circuit=x_on(0), shots=10)]
        tasks += [QuantumTask(circuit=x_on(i % 3), shots=10, timeout=60 if i % 2 else 90) for i in range(6)]
        results = pcs.get_results([pcs.submit_quantum_task(t) for t in tasks], timeout=120)
        assert [r.task_id for r in results] == [t.task_id for t in tasks]
        assert [n for _, n in state.batches] == [1, 3, 3]


def test_a_burst_larger_than_the_batch_limit_goes_as_several_batches():
    """300 tasks wait behind one running task: no batch holds more than MAX_BATCH of them, and
    every task comes back once. Catches: the batch limit ignored."""
    with PilotComputeService(plugins=host(), max_workers=1) as pcs:
        pcs.create_pilot(pilot(resource("a", call_delay_s=0.2)))
        tasks = [QuantumTask(circuit=x_on(i % 3), shots=5) for i in range(301)]
        results = pcs.get_results([pcs.submit_quantum_task(t) for t in tasks], timeout=300)
        sizes = [n for _, n in state.batches]
        assert sum(sizes) == 301 and max(sizes) <= MAX_BATCH
        assert sizes[0] == 1 and len(sizes) >= 3
        assert [r.task_id for r in results] == [t.task_id for t in tasks]


def test_poll_errors_that_a_good_poll_interrupts_never_add_up():
    """Two of every three polls fail (a flaky network), the third answers: the consecutive-error
    count restarts at every answer, so the job is never given up and the task gets its result.
    Catches: poll errors counted across good polls."""
    with PilotComputeService(plugins=host()) as pcs:
        pcs.create_pilot(pilot(remote("flaky", poll_fault="flaky", job_delay_s=0.3)))
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=60)
        assert result.resource_id == "scripted:flaky" and sum(result.counts.values()) == 10
        assert state.calls[("scripted:flaky", "poll")] >= 3, "at least one poll failed and was retried"
        assert wait_idle(pcs) == {"scripted:flaky": 0}


def test_a_result_keeps_the_currency_of_its_price():
    """A resource priced in EUR: the Result says EUR. Catches: a result's currency taken as USD."""
    with PilotComputeService(plugins=host()) as pcs:
        pcs.create_pilot(pilot(resource("eur", per_task=0.7, currency="EUR")))
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=60)
        assert (result.cost, result.currency) == (pytest.approx(0.7), "EUR")


def test_a_failed_poll_cancels_the_job_before_failing_over():
    """Polling a job fails for good; the task fails over to another resource, and the job it left
    is cancelled at the provider first (it could still run and bill). Catches: failover without
    cancelling the first job."""
    with PilotComputeService(plugins=host()) as pcs:
        pcs.create_pilot(pilot(remote("broken", poll_fault="raise", job_delay_s=5.0, two_qubit_error=0.001),
                               resource("local", two_qubit_error=0.05)))
        pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=60)
        assert [a.resource_id for a in result.attempts] == ["scripted:broken", "scripted:local"]
        with state._lock:
            left = [j["state"] for j in state.jobs.values() if j["resource"] == "scripted:broken"]
        assert left == ["CANCELLED"]


def test_a_job_the_provider_lost_is_not_polled_again():
    """The plugin's poll raises JobLostError (the provider's 404): the task gives the job up at
    once, not after the poll-error limit. Catches: a lost job treated as a transient poll error."""
    from qtau import JobLostError

    with PilotComputeService(plugins=host()) as pcs:
        pcs.create_pilot(pilot(remote("gone", poll_fault="gone")))
        with pytest.raises(QtauError) as caught:
            pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=60)
    assert [a.error_type for a in caught.value.attempts] == [JobLostError.__name__]
    assert state.calls[("scripted:gone", "poll")] == 1


def test_a_provider_answering_more_outcomes_than_jobs_is_refused():
    """fetch() answers two outcomes for a one-circuit job (a plugin bug): the attempt fails with
    an error saying so and the task fails over, instead of taking the first outcome on trust.
    Catches: only too few outcomes refused."""
    with PilotComputeService(plugins=host()) as pcs:
        pcs.create_pilot(pilot(remote("odd", extra_outcome=True, two_qubit_error=0.001),
                               resource("local", two_qubit_error=0.05)))
        pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=60)
    assert [(a.resource_id, a.ok) for a in result.attempts] == [("scripted:odd", False), ("scripted:local", True)]
    assert "2 outcomes for 1 jobs" in result.attempts[0].message


def test_remote_tasks_wait_for_the_create_call_in_progress_and_go_as_one_batch():
    """The first task's create call takes 3 s at the provider. Two tasks submitted 0.3 s and 0.6 s
    after it wait for that call to answer and then go as one provider batch: [1, 2] jobs, whatever
    the loop's timing (each arrives well inside the call). Catches: gathered tasks sent at once
    although a create call for their resource is in progress."""
    with PilotComputeService(plugins=host()) as pcs:
        pcs.create_pilot(pilot(remote("q", call_delay_s=3.0, job_delay_s=0.05)))
        handles = []
        for i in range(3):
            handles.append(pcs.submit_quantum_task(QuantumTask(circuit=x_on(i), shots=10)))
            time.sleep(0.3)
        results = pcs.get_results(handles, timeout=60)
        assert [r.counts for r in results] == [{"001": 10}, {"010": 10}, {"100": 10}]
        with state._lock:
            sizes = [len(j["jobs"]) for j in state.jobs.values() if j["resource"] == "scripted:q"]
        assert sizes == [1, 2]
        assert len({r.attempts[0].job for r in results[1:]}) == 1 != len({r.attempts[0].job for r in results})
