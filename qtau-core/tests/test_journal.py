"""The journal: what it records, what recovery reads back, and how it refuses to lose anything.

Crashes, locks and damage are real: subprocesses this test starts and kills by pid, files
damaged on disk, a journal whose schema version was raised with SQLite itself. No mocks.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from qtau import Attempt, ExecutionError, QuantumTask, Result, Secret, Timings
from qtau.cli import main as cli_main
from qtau.errors import JournalCorruptError, JournalError, JournalLockedError, JournalVersionError
from qtau.journal import (
    FILE_NAME,
    LOCK_NAME,
    SCHEMA_VERSION,
    Journal,
    acklog,
    circuit_hash,
    open_journal,
    to_json,
)
from qtau.journal.lock import pid_alive
from qtau.journal.schema import LOG_NAME
from qtau.journal.store import STATEMENTS

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'


def result_for(task: QuantumTask, resource_id: str = "qiskit:aer_simulator", attempts=None, cost=0.0, **kw) -> Result:
    now = time.time()
    attempts = attempts or [Attempt(resource_id, True, now - 0.01, now)]
    return Result(task_id=task.task_id, resource_id=resource_id, executor="qiskit_local", shots=task.shots,
                  counts={"00": 510, "11": 490}, timings=Timings(now - 0.02, now - 0.01, now), cost=cost,
                  attempts=attempts, **kw)


@pytest.fixture
def journal(tmp_path):
    j = Journal.open(tmp_path)
    yield j
    j.close()


def run_child(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


# -- what is recorded --------------------------------------------------------------------------------


def test_task_attempts_result_and_spend_round_trip(journal):
    task = QuantumTask(circuit=BELL, num_qubits=2, gate_set=["h", "cnot"], shots=1000, max_cost=2.5, timeout=30)
    journal.record_task(task)
    failed = Attempt("braket:sv1", False, time.time() - 1, time.time() - 0.5, "BackendUnavailableError", "offline")
    journal.record_result(result_for(task, attempts=[failed, Attempt("qiskit:aer_simulator", True, 1.0, 2.0)],
                                     cost=0.75, values=[0.5, -0.5], metadata={"seed": 7}))
    record = journal.task(task.task_id)
    assert record.state == "done" and not record.handed_out and record.shots == 1000
    assert sorted(record.summary["gate_set"]) == ["cx", "h"] and record.summary["num_qubits"] == 2
    assert record.summary["circuit_kind"] == "text"
    assert record.constraints == {"max_cost": 2.5, "timeout": 30}
    assert record.circuit_hash == circuit_hash(BELL) and record.circuit_hash.startswith("sha256:")
    assert [(a.attempt, a.resource_id, a.provider, a.state) for a in record.attempts] == [
        (1, "braket:sv1", "braket", "failed"), (2, "qiskit:aer_simulator", "qiskit", "done")]
    assert record.attempts[0].error_type == "BackendUnavailableError" and record.attempts[0].error_message == "offline"
    assert record.attempts[1].cost == 0.75 and record.attempts[1].currency == "USD"
    stored = journal.result(task.task_id)
    assert stored.counts == {"00": 510, "11": 490} and stored.values == [0.5, -0.5]
    assert stored.metadata == {"seed": 7} and stored.cost == 0.75 and stored.resource_id == "qiskit:aer_simulator"
    assert journal.spend() == {"USD": 0.75}
    assert journal.next_attempt(task.task_id) == 3


def test_spend_sums_per_currency(journal):
    for cost, currency in [(1.5, "USD"), (2.0, "USD"), (3.0, "EUR")]:
        task = QuantumTask(circuit=BELL)
        journal.record_task(task)
        journal.record_attempt(task.task_id, 1, "braket:x", "braket", state="done", cost=cost, currency=currency)
    journal.record_attempt("free", 1, "qiskit:aer", "qiskit", state="done")
    assert journal.spend() == {"USD": 3.5, "EUR": 3.0}


def test_circuit_hash_only_where_it_can_be_computed():
    assert circuit_hash(BELL) == circuit_hash(BELL.encode())
    assert circuit_hash(BELL) != circuit_hash(BELL.replace("h q[0]", "x q[0]"))
    assert circuit_hash(object()) is None and circuit_hash(lambda: BELL) is None


def test_factory_task_summary_keeps_no_arguments(journal):
    def factory(theta, secret_note):
        return BELL

    task = QuantumTask(circuit=factory, args=(0.3,), kwargs={"secret_note": "pass-word-123"},
                       resource_config={"resource": "abc-def-ghi"})
    journal.record_task(task)
    summary = journal.task(task.task_id).summary
    assert summary["circuit_kind"] == "factory" and summary["n_args"] == 2
    assert summary["resource_config_keys"] == ["resource"]
    assert journal.task(task.task_id).circuit_hash is None
    journal.close()
    raw = b"".join(p.read_bytes() for p in journal.path.parent.iterdir() if p.name.startswith(FILE_NAME))
    assert b"pass-word-123" not in raw and b"abc-def-ghi" not in raw


def test_failure_records_attempts_and_state(journal):
    task = QuantumTask(circuit=BELL)
    journal.record_task(task)
    attempts = (Attempt("qiskit:a", False, 1.0, 2.0, "TaskTimeoutError", "slow"),
                Attempt("qiskit:b", False, 2.0, 3.0, "ExecutionError", "boom"))
    journal.record_failure(task.task_id, ExecutionError("failed everywhere", attempts=attempts, task_id=task.task_id))
    record = journal.task(task.task_id)
    assert record.state == "failed" and [a.state for a in record.attempts] == ["failed", "failed"]
    assert [a.error_message for a in record.attempts] == ["slow", "boom"]
    with pytest.raises(JournalError, match="failed or cancelled"):
        journal.record_failure(task.task_id, RuntimeError("x"), state="done")


def test_bad_attempt_state_is_refused(journal):
    with pytest.raises(JournalError, match="unknown attempt state 'finished'"):
        journal.record_attempt("t", 1, "qiskit:aer", "qiskit", state="finished")


# -- recovery queries --------------------------------------------------------------------------------


def test_recovery_queries_sort_remote_local_finished_and_handed_out(tmp_path):
    tasks = {name: QuantumTask(circuit=BELL) for name in ("remote", "local", "never_tried", "done", "handed",
                                                          "unsettled")}
    with Journal.open(tmp_path) as journal:
        for task in tasks.values():
            journal.record_task(task)
        ref = {"task_arns": ["arn:aws:braket:us-east-1:123456789012:quantum-task/abc"], "client_token": "t1"}
        remote = tasks["remote"].task_id
        journal.record_attempt(remote, 1, "braket:sv1", "braket", state="failed", error="throttled")
        journal.record_attempt(remote, 2, "braket:sv1", "braket", durable=True)
        journal.update_attempt(remote, 2, state="submitted", job_ref=ref)
        journal.record_attempt(tasks["local"].task_id, 1, "qiskit:aer_simulator", "qiskit", state="running")
        journal.record_attempt(tasks["unsettled"].task_id, 1, "braket:sv1", "braket", durable=True)
        journal.record_result(result_for(tasks["done"]))
        journal.record_result(result_for(tasks["handed"]))
        journal.mark_handed_out([tasks["handed"].task_id])
    # A new service on the same directory reads what the first left.
    with Journal.open(tmp_path) as journal:
        ids = {t.task_id for t in journal.not_handed_out()}
        assert ids == {tasks[n].task_id for n in ("remote", "local", "never_tried", "done", "unsettled")}
        [unsettled] = journal.unsettled_creates()
        assert unsettled.task_id == tasks["unsettled"].task_id and unsettled.last_attempt.attempt == 1
        assert unsettled.last_attempt.resource_id == "braket:sv1" and not unsettled.remote
        [again] = journal.unfinished_remote()
        assert again.task_id == remote and again.state == "running"
        assert again.last_attempt.attempt == 2 and again.last_attempt.job_ref == ref
        assert again.last_attempt.state == "submitted"
        assert {t.task_id for t in journal.unfinished_local()} == {tasks["local"].task_id,
                                                                   tasks["never_tried"].task_id}
        assert journal.result(tasks["done"].task_id).counts == {"00": 510, "11": 490}
        assert journal.next_attempt(remote) == 3 and journal.next_attempt(tasks["never_tried"].task_id) == 1


def test_result_attempts_keep_their_provider_job_reference(journal):
    task = QuantumTask(circuit=BELL)
    journal.record_task(task)
    ref = {"arns": ["arn:aws:braket:us-east-1:123456789012:quantum-task/x"], "explicit": [False]}
    attempts = [Attempt("braket:sv1", False, 1.0, 2.0, "TaskTimeoutError", "slow", job=json.dumps(ref)),
                Attempt("qiskit:aer_simulator", True, 2.0, 3.0)]
    journal.record_result(result_for(task, attempts=attempts))
    first, second = journal.task(task.task_id).attempts
    assert first.job_ref == ref and second.job_ref is None


def test_update_keeps_job_ref_and_cost_it_does_not_repeat(journal):
    task = QuantumTask(circuit=BELL)
    journal.record_task(task)
    journal.record_attempt(task.task_id, 1, "braket:sv1", "braket", job_ref={"arn": "a"})
    journal.update_attempt(task.task_id, 1, state="done", cost=0.3, currency="USD")
    journal.record_result(result_for(task, resource_id="braket:sv1", attempts=[Attempt("braket:sv1", True, 1.0, 2.0)]))
    [attempt] = journal.task(task.task_id).attempts
    assert attempt.job_ref == {"arn": "a"} and attempt.cost == 0.3 and attempt.state == "done"
    assert attempt.ended_at is not None


# -- batching, durability, failures ------------------------------------------------------------------


def test_many_threads_write_and_close_flushes_everything(tmp_path):
    journal = Journal.open(tmp_path, flush_interval=0.02, max_batch=64)
    tasks = [[QuantumTask(circuit=BELL) for _ in range(300)] for _ in range(6)]

    def work(mine):
        for task in mine:
            journal.record_task(task)
            journal.record_result(result_for(task))

    threads = [threading.Thread(target=work, args=(mine,)) for mine in tasks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    journal.close()
    db = sqlite3.connect(journal.path)
    assert db.execute("SELECT COUNT(*) FROM tasks WHERE state='done'").fetchone()[0] == 1800
    assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 1800
    db.close()


def test_durable_write_is_in_the_log_before_the_call_returns(tmp_path):
    # A long window: only durable=True puts the row where a crash cannot take it (the log, which
    # the next opener applies: tests/test_journal_crash.py) before the call returns.
    with Journal.open(tmp_path, flush_interval=30) as journal:
        journal.record_attempt("t1", 1, "braket:sv1", "braket", durable=True)
        rows = acklog.read(tmp_path / LOG_NAME, STATEMENTS)
        assert [(params[0], params[1], params[5]) for _, (_, params) in rows] == [("t1", 1, "starting")]
        journal.flush()  # and in SQLite, for readers, once flushed
        other = sqlite3.connect(journal.path)
        assert other.execute("SELECT state FROM attempts WHERE task_id='t1'").fetchone() == ("starting",)
        other.close()


def test_a_write_that_cannot_be_committed_surfaces_as_journal_error(tmp_path):
    journal = Journal.open(tmp_path)
    journal.record_task(QuantumTask(circuit=BELL))
    journal.flush()
    # Another writer breaks the file's tables under the service: the next commit fails.
    other = sqlite3.connect(journal.path)
    other.execute("DROP TABLE results")
    other.commit()
    other.close()
    journal.record_result(result_for(QuantumTask(circuit=BELL)))
    with pytest.raises(JournalError, match="could not be written") as info:
        journal.flush()
    assert info.value.path == str(journal.path)
    with pytest.raises(JournalError, match="could not be written"):
        journal.record_task(QuantumTask(circuit=BELL))
    with pytest.raises(JournalError):
        journal.close()
    # close released the lock even so (not JournalLockedError), and the cut-down file is refused
    with pytest.raises(JournalCorruptError, match="results table is missing"):
        Journal.open(tmp_path)


CHILD_WRITER = """
import sys
from qtau import QuantumTask
from qtau.journal import Journal

journal = Journal.open(sys.argv[1], flush_interval=0.005)
n = 0
while True:
    for _ in range(25):
        journal.record_task(QuantumTask(circuit="OPENQASM 2.0;", shots=1))
        n += 1
    journal.flush()
    print(n, flush=True)
"""


def test_a_service_killed_mid_write_leaves_a_journal_the_next_one_opens(tmp_path):
    proc = run_child(CHILD_WRITER, str(tmp_path))
    durable = 0
    try:
        for line in proc.stdout:
            durable = int(line)
            if durable >= 1500:
                break
        # The child writes without pause: SIGKILL lands during a write or a commit.
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        kill(proc)
    assert durable >= 1500, proc.stderr.read()
    assert (tmp_path / LOCK_NAME).exists()
    with Journal.open(tmp_path) as journal:  # the dead owner's lock is taken over; quick_check passes
        assert len(journal.not_handed_out()) >= durable
        journal.record_task(QuantumTask(circuit=BELL))
    assert sqlite3.connect(tmp_path / FILE_NAME).execute("PRAGMA integrity_check").fetchone() == ("ok",)


# -- refusing to lose anything -----------------------------------------------------------------------


def test_not_a_database_is_a_corrupt_journal_and_is_kept(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_bytes(b"this is not SQLite at all " * 200)
    with pytest.raises(JournalCorruptError) as info:
        Journal.open(tmp_path)
    err = info.value
    assert err.path == str(path) and str(path) in str(err) and "mv " in str(err) and ".damaged" in str(err)
    assert path.read_bytes().startswith(b"this is not SQLite")
    # The lock is released: after moving the file aside a service starts.
    path.rename(tmp_path / "old.damaged")
    Journal.open(tmp_path).close()


def test_damaged_pages_are_a_corrupt_journal(tmp_path):
    with Journal.open(tmp_path) as journal:
        for _ in range(400):
            journal.record_task(QuantumTask(circuit=BELL * 3))
    path = tmp_path / FILE_NAME
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    for page in range(2, len(data) // 4096):  # keep the header page, scramble the rest
        data[page * 4096 + 8: page * 4096 + 600] = os.urandom(592)
    path.write_bytes(bytes(data))
    with pytest.raises(JournalCorruptError, match="damaged"):
        Journal.open(tmp_path)


def test_a_journal_from_a_newer_qtau_is_refused(tmp_path):
    Journal.open(tmp_path).close()
    db = sqlite3.connect(tmp_path / FILE_NAME)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    for readonly in (False, True):
        with pytest.raises(JournalVersionError) as info:
            Journal.open(tmp_path, readonly=readonly)
        assert f"schema version {SCHEMA_VERSION + 1}" in str(info.value)
        assert "pip install -U qtau-core" in str(info.value) and info.value.path == str(tmp_path / FILE_NAME)
    assert sqlite3.connect(tmp_path / FILE_NAME).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


CHILD_HOLDER = """
import sys, time
from qtau.journal import Journal

journal = Journal.open(sys.argv[1])
print("open", flush=True)
time.sleep(120)
"""


def test_a_live_service_locks_the_journal_and_its_death_frees_it(tmp_path):
    proc = run_child(CHILD_HOLDER, str(tmp_path))
    try:
        assert proc.stdout.readline().strip() == "open", proc.stderr.read()
        with pytest.raises(JournalLockedError) as info:
            Journal.open(tmp_path)
        err = info.value
        assert err.pid == proc.pid and f"process {proc.pid}" in str(err) and str(tmp_path) in str(err)
        assert "another working_directory" in str(err)
        # Reading beside the live owner is fine: that is `qtau jobs`.
        Journal.open(tmp_path, readonly=True).close()
    finally:
        kill(proc)
    assert not pid_alive(proc.pid)
    assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == proc.pid  # stale record left behind
    Journal.open(tmp_path).close()


def test_a_stale_lock_file_with_a_dead_pid_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "host": "here", "since": 0}))
    assert not pid_alive(dead.pid)
    with Journal.open(tmp_path):
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert pid_alive(os.getpid())


def test_a_journal_opened_twice_directly_is_refused_even_in_one_process(journal, tmp_path):
    """Journal.open itself stays exclusive; services of one process share through qtau.journal.service_journal."""
    with pytest.raises(JournalLockedError, match=f"process {os.getpid()}"):
        Journal.open(tmp_path)


def test_no_working_directory_means_no_journal(tmp_path):
    assert open_journal(None) is None and open_journal("") is None
    assert not list(tmp_path.iterdir())
    journal = open_journal(tmp_path / "new" / "dir")
    assert journal.path.exists()
    journal.close()


def test_reading_a_directory_without_a_journal_says_so(tmp_path):
    with pytest.raises(JournalError, match="no QTAU journal in"):
        Journal.open(tmp_path, readonly=True)


def test_an_unwritable_directory_is_a_journal_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(JournalError, match="cannot create the working directory"):
        Journal.open(blocker / "sub")


def test_journal_errors_pickle_with_their_fields(tmp_path):
    err = JournalLockedError("locked", path=str(tmp_path), pid=42, fix="close it")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is JournalLockedError and again.pid == 42 and again.path == str(tmp_path)
    assert str(again) == str(err)


# -- secrets -----------------------------------------------------------------------------------------


def test_secrets_never_reach_the_file(tmp_path):
    token = "ibm-token-" + "x7" * 20
    key = "AKIASECRETKEYVALUE99"
    secret, secret_key = Secret(token), Secret(key)
    config = {"executor": "braket_sv1", "aws_access_key_id": secret_key, "ibmqx_token": secret}
    with Journal.open(tmp_path) as journal:
        task = QuantumTask(circuit=BELL, kwargs={"ibmqx_token": token})
        journal.record_task(task)
        journal.record_attempt(task.task_id, 1, "braket:sv1", "braket", job_ref={"arn": "a", "config": config},
                               error=RuntimeError(f"SDK said: bad token {token} for key {key}"))
        journal.record_result(result_for(task, metadata={"echo": token, "config": config}))
        journal.record_failure(task.task_id, ExecutionError(
            "failed", attempts=[Attempt("braket:sv1", False, 1.0, 2.0, "AuthenticationError", f"refused {key}")]))
        attempt = journal.task(task.task_id).attempts[0]
        assert token not in attempt.error_message and "***" in attempt.error_message
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert token.encode() not in raw and key.encode() not in raw
    assert "x7x7" not in to_json({"s": secret}) and to_json({"s": secret}) == '{"s": "***"}'


def test_json_of_plain_values_and_of_what_json_cannot_hold():
    """The journal's JSON (one encoder reused by every thread) is JSON's own for plain values; sets,
    tuples, bytes and complex numbers become lists and text, non-string keys become strings, and a
    Secret anywhere is masked, also when written from many threads at once."""
    import concurrent.futures

    plain = [{"00": 500, "11": 500}, {"shots": 1000, "x": [1, 2.5, None, True]}, [], {}, "text", 3, 0.25]
    assert [to_json(v) for v in plain] == [json.dumps(v) for v in plain]
    assert to_json(None) is None
    assert json.loads(to_json({"s": {1, 2}, "t": (1, 2), "b": b"\x01", "c": 1 + 2j})) == {
        "s": [1, 2], "t": [1, 2], "b": "01", "c": [1.0, 2.0]}
    assert json.loads(to_json({1: "a", (2, 3): "b"})) == {"1": "a", "(2, 3)": "b"}
    secret = Secret("journal-json-secret-" + "z5" * 8)
    values = [{"n": i, "config": {"token": secret}} for i in range(400)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(to_json, values))
    assert texts == [f'{{"n": {i}, "config": {{"token": "***"}}}}' for i in range(400)]


# -- qtau jobs ---------------------------------------------------------------------------------------


def test_qtau_jobs_lists_the_journal(tmp_path, capsys):
    done, remote = QuantumTask(circuit=BELL), QuantumTask(circuit=BELL)
    with Journal.open(tmp_path) as journal:
        journal.record_task(done)
        journal.record_result(result_for(done, cost=0.25))
        journal.record_task(remote)
        journal.record_attempt(remote.task_id, 1, "braket:sv1", "braket", state="submitted",
                               job_ref={"task_arns": ["arn:aws:braket:::quantum-task/zz"]})
    assert cli_main(["jobs", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert done.task_id in out and remote.task_id in out and "arn:aws:braket:::quantum-task/zz" in out
    assert "spent: 0.25 USD" in out and "running" in out and "done" in out
    assert cli_main(["jobs", "--dir", str(tmp_path), "--state", "done"]) == 0
    out = capsys.readouterr().out
    assert done.task_id in out and remote.task_id not in out
    assert cli_main(["jobs", "--dir", str(tmp_path / "nothing")]) == 2
    assert "no QTAU journal in" in capsys.readouterr().err
    assert cli_main(["jobs", "--limit", "-1"]) == 2     # bad usage: one line, exit 2
    assert "--limit" in capsys.readouterr().err


def test_payload_for_running_again_is_stored_made_late_or_dropped(tmp_path):
    token = "payload-secret-" + "q9" * 10
    Secret(token)
    tasks = [QuantumTask(circuit=BELL) for _ in range(4)]
    made_on: list[str] = []

    def late():
        made_on.append(threading.current_thread().name)
        return pickle.dumps(BELL)

    def broken():
        raise TypeError("cannot pickle this circuit")

    with Journal.open(tmp_path) as journal:
        journal.record_task(tasks[0], payload=b"plain bytes")
        journal.record_task(tasks[1], payload=late)
        assert "MainThread" not in made_on, "a queued write makes its payload later, when it is committed"
        journal.record_task(tasks[2], payload=broken)
        journal.record_task(tasks[3], payload=pickle.dumps({"token": token}))
        got = {t.task_id: t.payload for t in journal.tasks()}
    assert got[tasks[0].task_id] == b"plain bytes"
    assert pickle.loads(got[tasks[1].task_id]) == BELL and len(made_on) == 1
    assert got[tasks[2].task_id] is None and got[tasks[3].task_id] is None
    assert token.encode() not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


def test_next_attempt_does_not_wait_for_the_writer(tmp_path):
    with Journal.open(tmp_path) as journal:
        journal.record_attempt("t", 1, "braket:sv1", "braket", state="failed", durable=True)
    with Journal.open(tmp_path, flush_interval=30) as journal:
        assert journal.next_attempt("t") == 2  # from the earlier service's rows
        journal.record_attempt("t", 2, "braket:sv1", "braket")
        started = time.monotonic()
        assert journal.next_attempt("t") == 3  # from this service's queued row
        assert journal.next_attempt("other") == 1
        assert time.monotonic() - started < 5


def test_an_attempt_error_is_kept_redacted_and_no_error_is_none(tmp_path):
    token = "attempt-secret-" + "z7" * 10
    Secret(token)
    with Journal.open(tmp_path) as journal:
        journal.record_attempt("t1", 1, "braket:x", "braket", state="starting")
        journal.update_attempt("t1", 1, state="failed", error=RuntimeError(f"provider said no to {token}"))
        journal.record_attempt("t2", 1, "braket:x", "braket", state="submitted", job_ref={"job": "j"})
    db = sqlite3.connect(tmp_path / FILE_NAME)
    db.row_factory = sqlite3.Row
    rows = {r["task_id"]: r for r in db.execute("SELECT * FROM attempts")}
    assert rows["t1"]["error_type"] == "RuntimeError" and rows["t1"]["state"] == "failed"
    assert token not in rows["t1"]["error_message"] and "provider said no" in rows["t1"]["error_message"]
    assert rows["t2"]["error_type"] is None and rows["t2"]["error_message"] is None
    assert rows["t1"]["ended_at"] is not None and rows["t2"]["ended_at"] is None, "a final state has an end"


def test_a_queued_write_reaches_the_disk_without_a_flush(tmp_path):
    """The background writer commits queued rows by itself (a reader in another connection sees
    them while the service goes on), not only when someone flushes or closes."""
    with Journal.open(tmp_path) as journal:
        journal.record_task(QuantumTask(circuit=BELL, task_id="queued"))
        seen = []
        deadline = time.monotonic() + 60
        while not seen and time.monotonic() < deadline:
            seen = sqlite3.connect(tmp_path / FILE_NAME).execute(
                "SELECT task_id FROM tasks WHERE task_id = 'queued'").fetchall()
            time.sleep(0.02)
        assert seen == [("queued",)]
