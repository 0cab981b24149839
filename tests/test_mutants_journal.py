"""The journal and recovery: the cases that mutations of the journal, the service's journaling
and `recover()` survived (issue 23 item 7; scripts/mutation.py's `@journal`, `@service` and
`@results` mutants). Each test names the wrong behaviour it catches.

Services run the real `scripted` plugin on a real journal in `tmp_path`. Where a test needs what
a crashed service leaves behind, it writes those rows with the journal's own public API
(`qtau.journal.Journal`, as `qtau jobs` reads it), the state a SIGKILL leaves; nothing is mocked.
"""

from __future__ import annotations

import pytest
from qtau.journal import Journal
from qtau.service import PilotComputeService
from qtau.types import QuantumTask
from qtau_scripted import state
from qtau_scripted.testing import host, pilot, resource, wait_idle
from qtau_test_circuits import bell

pytestmark = pytest.mark.usefixtures("clean_script")

QASM = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'


def test_a_create_whose_answer_was_lost_keeps_its_money_reserved(tmp_path):
    """An earlier service journaled a paid create as `starting` (quoted 1.1 USD) and died before
    the provider's answer: the job may exist and bill, so the next service reserves 1.1 USD for
    it. Catches: only jobs with a journaled reference carried across the crash."""
    with Journal.open(tmp_path) as journal:
        journal.record_task(QuantumTask(circuit=QASM, shots=10, task_id="lost-create"), durable=True)
        journal.record_attempt("lost-create", 1, "scripted:q", "scripted", state="starting", quote=1.1,
                               quote_currency="USD", durable=True)
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        pcs.initialize_dreamer({"budget": {"USD": 5}})
        info = pcs.qdreamer.budget_info()["service"]
        assert info["reserved"] == pytest.approx(1.1) and info["open_holds"] == 1
        assert info["left"] == pytest.approx(3.9)


def test_a_task_this_service_submitted_again_is_not_recovered(tmp_path):
    """An earlier service left task `t1` unfinished; this service submits `t1` again itself. Its
    own submission is its task: `recover()` does not hand out a second handle for it, even after
    it finished. Catches: a resubmitted task still counted as the earlier service's."""
    with Journal.open(tmp_path) as journal:
        journal.record_task(QuantumTask(circuit=QASM, shots=10, task_id="t1"), durable=True)
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        pcs.create_pilot(pilot(resource("a")))
        handle = pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10, task_id="t1"))
        pcs.wait_tasks([handle], timeout=60)
        assert wait_idle(pcs) == {"scripted:a": 0}
        assert pcs.recover() == []
        assert sum(pcs.get_result(handle, timeout=60).counts.values()) == 10
    assert state.runs["scripted:a"] == 1


def test_a_task_another_live_service_of_this_process_runs_is_not_recovered(tmp_path):
    """Two services of one process on one working directory share its journal. The second's
    `recover()` must not take the first's running task (it would run it a second time).
    Catches: recovery ignoring the tasks in flight in this process."""
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as first:
        first.create_pilot(pilot(resource("a", call_delay_s=1.0)))
        handle = first.submit_quantum_task(QuantumTask(circuit=bell(), shots=10, task_id="busy"))
        with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as second:
            second.create_pilot(pilot(resource("a")))
            assert second.recover() == []
        assert sum(first.get_result(handle, timeout=60).counts.values()) == 10
    assert state.runs["scripted:a"] == 1


def test_a_recovered_results_failed_attempts_stay_failed(tmp_path):
    """A task failed over (first attempt failed, second ran) and was never handed out: the
    recovered Result lists the failed attempt as failed. Catches: recovered attempts all read
    as successes."""
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        pcs.create_pilot(pilot(resource("bad", behaviour="fail", two_qubit_error=0.001),
                               resource("good", two_qubit_error=0.05)))
        pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
        pcs.wait_tasks([pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10))], timeout=60)
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        [result] = pcs.get_results(pcs.recover(), timeout=60)
    assert result.metadata["recovered"]
    assert [(a.resource_id, a.ok) for a in result.attempts] == [("scripted:bad", False), ("scripted:good", True)]
    assert result.attempts[0].error_type


def test_a_jobs_money_is_carried_once_even_when_the_budget_is_set_twice(tmp_path):
    """A job left at a provider (journaled with its reference) is reserved once in the service
    budget, however often the budget is set again. Catches: carried money added again."""
    with Journal.open(tmp_path) as journal:
        journal.record_task(QuantumTask(circuit=QASM, shots=10, task_id="held"), durable=True)
        journal.record_attempt("held", 1, "scripted:q", "scripted", state="submitted", job_ref={"job": "j-1"},
                               quote=2.0, quote_currency="USD", durable=True)
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        pcs.initialize_dreamer({"budget": {"USD": 5}})
        pcs.initialize_dreamer({"budget": {"USD": 6}})
        info = pcs.qdreamer.budget_info()["service"]
        assert info["reserved"] == pytest.approx(2.0) and info["left"] == pytest.approx(4.0)


def test_a_task_pinned_to_a_pilot_object_is_journaled_with_the_pilots_name(tmp_path):
    """`QuantumTask(resource=pilot)` pins by the PilotCompute object: the journal's task summary
    (what `qtau jobs` shows) names that pilot. Catches: only string pins journaled."""
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        chosen = pcs.create_pilot(pilot(resource("a"), name="mine"))
        handle = pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10, task_id="pinned", resource=chosen))
        pcs.get_result(handle, timeout=60)
        named = pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10, task_id="by-id", resource="scripted:a"))
        pcs.get_result(named, timeout=60)
    with Journal.open(tmp_path, readonly=True) as journal:
        assert journal.task("pinned").summary["resource"] == "mine"
        assert journal.task("by-id").summary["resource"] == "scripted:a"


def test_borrowing_a_journal_needs_the_file_and_writes_into_it(tmp_path):
    """`Journal.borrow` (the Ray tracker actor's way in) writes into an existing journal, and
    refuses a path with none, naming it. Catches: the existence check inverted."""
    from qtau.errors import JournalError

    with Journal.open(tmp_path) as owner:
        owner.record_task(QuantumTask(circuit=QASM, shots=10, task_id="t"), durable=True)
        borrowed = Journal.borrow(owner.path)
        try:
            borrowed.record_attempt("t", 1, "scripted:q", "scripted", state="submitted", job_ref={"job": "j-9"},
                                    durable=True)
        finally:
            borrowed.close()
        assert owner.task("t").last_attempt.job_ref == {"job": "j-9"}
    missing = tmp_path / "elsewhere" / "qtau-journal.sqlite3"
    with pytest.raises(JournalError, match="elsewhere"):
        Journal.borrow(missing)


def test_a_foreign_sqlite_file_is_refused_naming_its_tables(tmp_path):
    """The refusal of another program's SQLite file at the journal path names the tables it holds,
    so the user sees whose file it is. Catches: the message saying `none`."""
    import sqlite3

    from qtau.errors import JournalCorruptError
    from qtau.journal import journal_path

    other = sqlite3.connect(journal_path(tmp_path))
    other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    other.commit()
    other.close()
    with pytest.raises(JournalCorruptError, match=r"tables: invoices"):
        PilotComputeService(plugins=host(), working_directory=str(tmp_path))


def test_a_recovered_remote_result_keeps_its_job_reference(tmp_path):
    """A remote task finished but was never handed out: the recovered Result's attempt still names
    the provider job it ran as (for the provider's console and for support). Catches: the job
    reference dropped when a journaled attempt is read back."""
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        pcs.create_pilot(pilot(resource("q", remote=True, kind="qpu", job_delay_s=0.05)))
        handle = pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10))
        pcs.wait_tasks([handle], timeout=60)  # finished, never handed out
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        pcs.create_pilot(pilot(resource("q", remote=True, kind="qpu")))
        [result] = pcs.get_results(pcs.recover(), timeout=60)
    assert result.metadata["recovered"] and "scripted:q/job-" in result.attempts[-1].job
