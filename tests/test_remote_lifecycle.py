"""Remote jobs through core's tracker, with the scripted plugin's in-process provider queue.

The scripted remote executor is a real `RemoteExecutor` whose "provider" is a dict of job records
in this process (`qtau_scripted.state.jobs`); it is the local stand-in for a cloud queue that lets
every fault be scripted (jobs that fail, hang, vanish; polls that raise; cancels refused). The same
lifecycle against a real HTTP provider is in qtau-braket/tests/test_remote_stub.py.
"""

from __future__ import annotations

import time

import pytest
from qiskit import QuantumCircuit
from qtau.errors import ExecutionError, NoSuitableResourceError, TaskCancelledError
from qtau.service import PilotComputeService
from qtau.types import QuantumTask
from qtau_scripted import state
from qtau_scripted.testing import host, pilot, resource


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def remote(name: str, **values):
    return resource(name, remote=True, kind="qpu", **values)


#: The scripted plugin's script (tests/conftest.py::clean_script) is empty before and after each test.
pytestmark = pytest.mark.usefixtures("clean_script")


def service_with(*resources, engine="local", max_workers=None, **dreamer) -> PilotComputeService:
    pcs = PilotComputeService(execution_engine=engine, plugins=host(), max_workers=max_workers)
    pcs.create_pilot(pilot(*resources))
    pcs.initialize_dreamer({"optimization_mode": "high_fidelity", **dreamer})
    return pcs


def jobs_on(rid: str) -> list[dict]:
    with state._lock:
        return [dict(j) for j in state.jobs.values() if j["resource"] == rid]


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def test_remote_task_records_its_job_and_counts():
    with service_with(remote("q", job_delay_s=0.05)) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell())), timeout=30)
    assert set(result.counts) <= {"00", "11"} and sum(result.counts.values()) == 1000
    [attempt] = result.attempts
    assert attempt.ok and '"job": "scripted:q/job-' in attempt.job
    [job] = jobs_on("scripted:q")
    assert job["state"] == "COMPLETED"


def test_waiting_jobs_hold_no_worker_thread():
    """Twelve jobs queue at the provider at once on a LOCAL pool of one thread: no job holds it."""
    with service_with(remote("q", behaviour="hang"), max_workers=1) as pcs:
        refs = [pcs.submit_quantum_task(QuantumTask(circuit=bell())) for _ in range(12)]
        # (Tasks submitted during a create call share a provider job: count circuits, not jobs.)
        wait_for(lambda: sum(len(j["jobs"]) for j in jobs_on("scripted:q")) == 12)
        assert all(j["state"] == "QUEUED" for j in jobs_on("scripted:q"))
        # The pool's only thread is free: a classical task runs at once.
        assert pcs.engine.get(pcs.submit_task(lambda: 42), timeout=10) == 42
        pcs.cancel(refs)
        wait_for(lambda: all(j["state"] == "CANCELLED" for j in jobs_on("scripted:q")))


def test_timeout_cancels_the_job_then_fails_over():
    with service_with(remote("slow", behaviour="hang", one_qubit_error=0.0),
                      remote("spare", one_qubit_error=0.01, two_qubit_error=0.01)) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), timeout=0.5)), timeout=30)
    assert result.resource_id == "scripted:spare"
    first, second = result.attempts
    assert (first.resource_id, first.ok, first.error_type) == ("scripted:slow", False, "TaskTimeoutError")
    assert first.job and second.ok
    [job] = jobs_on("scripted:slow")
    assert job["state"] == "CANCELLED", "a timed-out job must be cancelled at the provider"


def test_failed_job_fails_over_with_the_attempt_recorded():
    with service_with(remote("bad", behaviour="fail"), remote("good", one_qubit_error=0.01)) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell())), timeout=30)
    assert result.resource_id == "scripted:good"
    assert [a.ok for a in result.attempts] == [False, True]
    assert "failed as scripted" in result.attempts[0].message


def test_lost_job_is_a_job_lost_error_and_fails_over():
    with service_with(remote("gone", poll_fault="lost"), remote("good", one_qubit_error=0.01)) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell())), timeout=30)
    assert result.resource_id == "scripted:good"
    assert result.attempts[0].error_type == "JobLostError"


def test_poll_that_raises_fails_its_task_and_others_go_on():
    with service_with(remote("flaky", poll_fault="raise"), remote("fine", one_qubit_error=0.5)) as pcs:
        pinned = pcs.submit_quantum_task(QuantumTask(circuit=bell(), resource="scripted:flaky"))
        others = [pcs.submit_quantum_task(QuantumTask(circuit=bell(), resource="scripted:fine")) for _ in range(4)]
        results = pcs.get_results([pinned, *others], timeout=60, return_exceptions=True)
    assert isinstance(results[0], ExecutionError)
    assert "ConnectionError" in str(results[0]) and "scripted poll failure" in str(results[0])
    assert all(r.resource_id == "scripted:fine" for r in results[1:])
    # The job whose polls failed was cancelled, not abandoned.
    assert [j["state"] for j in jobs_on("scripted:flaky")] == ["CANCELLED"]


def test_malformed_job_reference_is_a_plugin_error_and_the_job_is_cancelled():
    with service_with(remote("odd", bad_ref=True), remote("good", one_qubit_error=0.5)) as pcs:
        bad = pcs.submit_quantum_task(QuantumTask(circuit=bell(), resource="scripted:odd"))
        good = pcs.submit_quantum_task(QuantumTask(circuit=bell(), resource="scripted:good"))
        first, second = pcs.get_results([bad, good], timeout=30, return_exceptions=True)
    assert isinstance(first, ExecutionError)
    assert first.attempts[0].error_type == "PluginError" and "not JSON" in first.attempts[0].message
    assert second.resource_id == "scripted:good"
    assert [j["state"] for j in jobs_on("scripted:odd")] == ["CANCELLED"]


def test_refused_cancel_ends_the_task_without_a_second_paid_job():
    with service_with(remote("stuck", behaviour="hang", cancel_fault="refuse"),
                      remote("spare", one_qubit_error=0.5)) as pcs:
        ref = pcs.submit_quantum_task(QuantumTask(circuit=bell(), timeout=0.3))
        [err] = pcs.get_results([ref], timeout=30, return_exceptions=True)
    assert isinstance(err, ExecutionError) and "refused to cancel" in str(err)
    assert err.attempts[0].error_type == "CancelRefusedError"
    assert jobs_on("scripted:spare") == [], "failing over while the first job may still bill would pay twice"


def test_user_cancel_cancels_the_provider_job():
    with service_with(remote("q", behaviour="hang")) as pcs:
        ref = pcs.submit_quantum_task(QuantumTask(circuit=bell()))
        wait_for(lambda: len(jobs_on("scripted:q")) == 1)
        pcs.cancel([ref])
        [value] = pcs.get_results([ref], timeout=10, return_exceptions=True)
        assert isinstance(value, TaskCancelledError)
        wait_for(lambda: jobs_on("scripted:q")[0]["state"] == "CANCELLED")


def test_closing_the_service_cancels_every_job_in_flight():
    pcs = service_with(remote("q", behaviour="hang"))
    for _ in range(5):
        pcs.submit_quantum_task(QuantumTask(circuit=bell()))
    wait_for(lambda: sum(len(j["jobs"]) for j in jobs_on("scripted:q")) == 5)
    pcs.cancel()
    assert {j["state"] for j in jobs_on("scripted:q")} == {"CANCELLED"}


def test_remote_batch_is_one_provider_job_per_attempt_and_fails_over_as_a_batch():
    with service_with(remote("bad", behaviour="fail"), remote("good", one_qubit_error=0.01)) as pcs:
        refs = pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), resource="scripted") for _ in range(5)])
        results = pcs.get_results(refs, timeout=30)
    assert {r.resource_id for r in results} == {"scripted:good"}
    assert all([a.ok for a in r.attempts] == [False, True] for r in results)
    assert len(jobs_on("scripted:bad")) == 1 and len(jobs_on("scripted:good")) == 1
    assert len(jobs_on("scripted:good")[0]["jobs"]) == 5


def test_local_failover_reaches_a_remote_resource():
    with service_with(resource("local", kind="simulator", behaviour="fail"),
                      remote("cloud", one_qubit_error=0.01)) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell())), timeout=30)
    assert [a.resource_id for a in result.attempts] == ["scripted:local", "scripted:cloud"]
    assert result.resource_id == "scripted:cloud" and result.attempts[1].job


@pytest.mark.ray
def test_remote_jobs_on_ray_hold_no_cpu_and_cancel_on_timeout():
    with service_with(remote("slow", behaviour="hang"), remote("spare", one_qubit_error=0.01),
                      engine="ray") as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), timeout=0.5)), timeout=120)
        assert result.resource_id == "scripted:spare"
        assert result.attempts[0].error_type == "TaskTimeoutError"
        import ray

        actor = ray.get_actor(pcs.engine.tracker_name)
        assert ray.get(actor.counters.remote())["cancelled"] == 1


def test_pin_to_nothing_names_what_exists():
    with service_with(remote("q")) as pcs, pytest.raises(NoSuitableResourceError) as info:
        pcs.submit_quantum_task(QuantumTask(circuit=bell(), resource="ibmq_brisbane"))
    assert "ibmq_brisbane" in str(info.value) and "scripted:q" in str(info.value)


def test_a_job_is_given_up_after_exactly_the_poll_error_limit():
    """Transient poll errors are retried; the task gives up on the job at the MAX_POLL_ERRORS-th
    consecutive failed poll, not one later."""
    from qtau.tracker import MAX_POLL_ERRORS

    with service_with(remote("flaky", poll_fault="raise")) as pcs:
        with pytest.raises(ExecutionError, match="scripted poll failure"):
            pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell())), timeout=60)
    assert state.calls[("scripted:flaky", "poll")] == MAX_POLL_ERRORS


def test_a_batch_member_after_one_that_failed_preparation_is_journaled_with_its_own_outcome(tmp_path):
    """The first task of a provider batch fails preparation (its circuit function raises), so the
    provider batch holds the other two. Each is journaled with its index in that provider batch,
    which is how a recovering service picks its outcome when it re-attaches the job."""
    from qtau.journal import Journal

    def broken():
        raise RuntimeError("no circuit")

    def x_on(q):
        qc = QuantumCircuit(2, 2)
        qc.x(q)
        qc.measure([0, 1], [0, 1])
        return qc

    pcs = PilotComputeService(plugins=host(), working_directory=str(tmp_path))
    with pcs:
        pcs.create_pilot(pilot(remote("q", job_delay_s=2.0)))
        tasks = [QuantumTask(circuit=broken, num_qubits=2, task_id="bad"),
                 QuantumTask(circuit=x_on(0), shots=10, task_id="x0"),
                 QuantumTask(circuit=x_on(1), shots=10, task_id="x1")]
        handles = pcs.submit_quantum_tasks(tasks)
        refs = {}

        def journaled():  # while the job waits at the provider, as a crash would leave it
            pcs.flush()
            with Journal.open(tmp_path, readonly=True) as seen:
                refs.update({t.task_id: t.last_attempt.job_ref for t in seen.unfinished_remote()})
            return len(refs) == 2

        wait_for(journaled)
        values = pcs.get_results(handles, timeout=30, return_exceptions=True)
        assert values[1].counts == {"01": 10} and values[2].counts == {"10": 10}
    assert len(jobs_on("scripted:q")) == 1 and len(jobs_on("scripted:q")[0]["jobs"]) == 2
    assert refs["x0"]["member"] == 0 and refs["x1"]["member"] == 1
    assert refs["x0"]["job"] == refs["x1"]["job"]


def test_closing_the_service_waits_until_slow_cancels_are_done():
    """Each cancel call takes 0.5 s at the provider: close() returns only once every job in
    flight is cancelled there, not when the cancels were merely sent."""
    pcs = service_with(remote("q", behaviour="hang", cancel_delay_s=0.5))
    for _ in range(3):
        pcs.submit_quantum_task(QuantumTask(circuit=bell(), resource="scripted:q"))
    wait_for(lambda: sum(len(j["jobs"]) for j in jobs_on("scripted:q")) == 3)
    pcs.close()
    assert {j["state"] for j in jobs_on("scripted:q")} == {"CANCELLED"}


def test_a_task_cancelled_while_its_create_call_is_under_way_has_its_job_cancelled():
    """The create call takes 1 s (an HTTP round trip; a Braket batch creates one task after
    another): a cancel during it must still cancel the job the call makes at the provider, once
    the call answers. It was left QUEUED, to run and bill, with the task reported cancelled."""
    with service_with(remote("q", behaviour="hang", call_delay_s=1.0)) as pcs:
        ref = pcs.submit_quantum_task(QuantumTask(circuit=bell()))
        time.sleep(0.3)  # the create call is in progress; the provider has no job yet
        assert jobs_on("scripted:q") == []
        pcs.cancel([ref])
        [value] = pcs.get_results([ref], timeout=10, return_exceptions=True)
        assert isinstance(value, TaskCancelledError)
        wait_for(lambda: len(jobs_on("scripted:q")) == 1)
        wait_for(lambda: jobs_on("scripted:q")[0]["state"] == "CANCELLED", timeout=5)


def test_closing_the_service_during_a_create_call_cancels_the_job_it_makes():
    pcs = service_with(remote("q", behaviour="hang", call_delay_s=1.0))
    pcs.submit_quantum_task(QuantumTask(circuit=bell()))
    time.sleep(0.3)
    pcs.close()
    assert [j["state"] for j in jobs_on("scripted:q")] == ["CANCELLED"], "close() returns once the job is cancelled"
