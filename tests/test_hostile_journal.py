"""Hostile runs against the journal and the budgets: drivers killed mid-run (SIGKILL of a
subprocess the test starts), a full disk (a small tmpfs), foreign and damaged SQLite files. Each
case asserts that nothing is lost, run twice, billed past the budget or left held.

The Braket provider is the stub server on 127.0.0.1 (`qtau_braket.testing.stub_server`), which
really simulates each task and counts every CreateQuantumTask."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from qtau.errors import BudgetExceededError
from qtau.plugins import PluginHost
from qtau.secrets import PATTERN_HINTS
from qtau.service import PilotComputeService
from qtau.types import QuantumTask
from qtau_braket.testing.stub_server import BraketStub
from qtau_test_circuits import bell

IONQ_PRICE = 1.10  # Forte-1: 0.30 per task + 0.08 per shot, 10 shots

DRIVER = textwrap.dedent('''
    import json, sys, time
    from braket.circuits import Circuit
    from qtau.plugins import PluginHost
    from qtau.service import PilotComputeService
    from qtau.types import QuantumTask

    config, workdir, mode = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    host = PluginHost(strict=True)
    host.register_module("braket", "qtau_braket.plugin")
    pcs = PilotComputeService(plugins=host, working_directory=workdir)
    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_ionq"}, **config})
    pcs.initialize_dreamer({"budget": {"USD": 5.5}})
    if mode == "submit":
        for i in range(5):
            pcs.submit_quantum_task(QuantumTask(circuit=Circuit().x(0).z(1), shots=10, task_id=f"paid-{i}"))
    else:
        pcs.recover()
    print(json.dumps(pcs.qdreamer.budget_info()["service"]), flush=True)
    time.sleep(600)
''')


@pytest.fixture
def stub():
    with BraketStub() as server:
        yield server


def braket_host() -> PluginHost:
    found = PluginHost(strict=True)
    found.register_module("braket", "qtau_braket.plugin")
    return found


def _run_and_kill(script: Path, stub: BraketStub, workdir: Path, mode: str, queued: int) -> dict:
    """Start a driver, wait until `queued` tasks wait at the provider and their job references are
    journaled, then SIGKILL it (the subprocess this test started, nothing else)."""
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    driver = subprocess.Popen([sys.executable, str(script), json.dumps(stub.config()), str(workdir), mode],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = driver.stdout.readline()
        assert line, driver.stderr.read()[-3000:]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and sum(t.status == "QUEUED" for t in stub.tasks.values()) < queued:
            assert driver.poll() is None, driver.stderr.read()[-3000:]
            time.sleep(0.1)
        assert sum(t.status == "QUEUED" for t in stub.tasks.values()) == queued
        _wait_journaled(workdir, queued)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    return json.loads(line)


def _wait_journaled(workdir: Path, n: int) -> None:
    from qtau.journal import Journal

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with Journal.open(workdir, readonly=True) as seen:
            if len(seen.unfinished_remote()) >= n:
                return
        time.sleep(0.1)
    raise AssertionError(f"{n} job references were not journaled")


def test_a_budget_holds_across_crashes_with_jobs_held_at_the_provider(stub, tmp_path):
    """Budget 5.5 USD, five 1.10 USD IonQ jobs held QUEUED, the driver killed; a second driver
    recovers them and is killed too. The third service starts with the 5.5 reserved, admits
    nothing more, and once the jobs end has spent 5.5 on 5 provider tasks, none created twice."""
    stub.hold = True
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    workdir = tmp_path / "run"
    first = _run_and_kill(script, stub, workdir, "submit", 5)
    assert first["reserved"] == pytest.approx(5 * IONQ_PRICE)
    second = _run_and_kill(script, stub, workdir, "recover", 5)
    assert second["reserved"] == pytest.approx(5 * IONQ_PRICE), "the killed driver's jobs stay reserved"
    assert second["spent"] == 0.0
    assert stub.calls.count("POST quantum-task") == 5

    from braket.circuits import Circuit

    pcs = PilotComputeService(plugins=braket_host(), working_directory=str(workdir))
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_ionq"}, **stub.config()})
        pcs.initialize_dreamer({"budget": {"USD": 5.5}})
        info = pcs.qdreamer.budget_info()["service"]
        assert info["reserved"] == pytest.approx(5.5) and info["open_holds"] == 5 and info["spent"] == 0.0
        with pytest.raises(BudgetExceededError):
            pcs.submit_quantum_task(QuantumTask(circuit=Circuit().x(0).z(1), shots=10, task_id="one-more"))
        handles = pcs.recover()
        assert len(handles) == 5
        stub.release()
        results = pcs.get_results(handles, timeout=120)
        assert sorted(r.task_id for r in results) == [f"paid-{i}" for i in range(5)]
        assert all(r.counts == {"01": 10} for r in results)
        info = pcs.qdreamer.budget_info()["service"]
        assert info["spent"] == pytest.approx(5.5) and info["reserved"] == 0.0 and info["open_holds"] == 0
    finally:
        pcs.close()
    assert stub.calls.count("POST quantum-task") == 5, "no job was created again"
    with PilotComputeService(plugins=braket_host(), working_directory=str(workdir)) as after:
        after.initialize_dreamer({"budget": {"USD": 5.5}})
        info = after.qdreamer.budget_info()["service"]
        assert info["spent"] == pytest.approx(5.5) and info["reserved"] == 0.0


# -- a full disk -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _tmpfs(where: Path, size: str):
    """A tmpfs of `size` at `where` (root only; the test is skipped, saying why, where mounting is refused)."""
    where.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        pytest.skip(f"cannot mount a small tmpfs here ({err}): the full-disk case needs root")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}): the full-disk case needs root")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=60)


@pytest.fixture
def small_disk(tmp_path):
    """A 200 KiB tmpfs."""
    with _tmpfs(tmp_path / "disk", "200k") as where:
        yield where


@pytest.fixture
def own_disk(tmp_path):
    """A 2 MiB tmpfs, for a file system the test remounts read-only."""
    with _tmpfs(tmp_path / "disk", "2m") as where:
        yield where


def _priced_service(workdir: Path) -> PilotComputeService:
    from qtau_scripted.testing import host, pilot, resource

    pcs = PilotComputeService(plugins=host(), working_directory=str(workdir), coalesce=False)
    pcs.create_pilot(pilot(resource("priced", qubits=3, per_task=1.0)))
    pcs.initialize_dreamer({"budget": {"USD": 10_000}})
    return pcs


def _padded_circuit(i: int):
    """A circuit whose pickle is a few KiB (a long name), so a 200 KiB disk fills in a few dozen tasks."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(3, 3, name=f"pad-{i}-" + "x" * 4000)
    qc.x(0)
    qc.measure(range(3), range(3))
    return qc


def test_a_full_disk_refuses_submissions_but_hands_out_every_result(small_disk, caplog, capfd):
    """Tasks run until the journal's disk is full. The refused submission raises JournalError and
    leaves no hold and no in-flight count; every accepted task's result is still collected (from
    memory), the budget settles, the failure is logged once and no callback prints a traceback."""
    from qtau.errors import JournalError
    from qtau_scripted.testing import wait_idle

    pcs = _priced_service(small_disk)
    accepted, refused = [], None
    try:
        for i in range(400):
            try:
                accepted.append(pcs.submit_quantum_task(QuantumTask(circuit=_padded_circuit(i), shots=10)))
            except JournalError as err:
                refused = err
                break
        assert refused is not None, "the 200 KiB disk filled"
        assert "could not be written" in str(refused)
        assert len(accepted) >= 3
        with pytest.raises(JournalError):  # still refused: the journal cannot take it
            pcs.submit_quantum_task(QuantumTask(circuit=_padded_circuit(999), shots=10))
        results = pcs.get_results(accepted, timeout=120)
        assert [r.counts for r in results] == [{"001": 10}] * len(accepted)
        assert not any(wait_idle(pcs).values()), "the refused submission left no in-flight count"
        info = pcs.qdreamer.budget_info()["service"]
        assert info["spent"] == pytest.approx(len(accepted)) and info["reserved"] == 0.0
        assert info["open_holds"] == 0
    finally:
        pcs.close()
    reports = [r for r in caplog.records if "no longer journaled" in r.getMessage()]
    assert len(reports) == 1, [r.getMessage() for r in caplog.records]
    assert "Traceback" not in capfd.readouterr().err


def _jobs(workdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qtau.cli", "jobs", "--dir", str(workdir), "--json"],
                          capture_output=True, text=True, timeout=120)


def test_a_listing_after_a_full_disk_shows_every_accepted_task(small_disk):
    """Tasks accepted until the disk filled are in the acknowledgement log, not in SQLite (it could
    not take them) when the service closes; `qtau jobs` cannot apply the log to a full disk, and
    still lists every accepted task, as `recover()` will once space is freed."""
    from qtau.errors import JournalError

    pcs = _priced_service(small_disk)
    accepted = []
    try:
        for i in range(400):
            try:
                accepted.append(pcs.submit_quantum_task(QuantumTask(circuit=_padded_circuit(i), shots=10,
                                                                    task_id=f"full{i}")))
            except JournalError:
                break
        pcs.wait_tasks(accepted, timeout=120)
    finally:
        pcs.close()
    listed = _jobs(small_disk)
    assert listed.returncode == 0, listed.stderr[-2000:]
    ids = {task["task_id"] for task in json.loads(listed.stdout)["tasks"]}
    assert ids >= {f"full{i}" for i in range(len(accepted))}, f"listed {len(ids)} of {len(accepted)} accepted"


def test_a_journal_on_a_read_only_file_system_is_listed_not_called_damaged(own_disk):
    """A journal on a read-only mount (a backup, an archived run) is listed as it is: `qtau jobs`
    opens it read-only and must not call it damaged nor tell the user to move it aside. The service
    that wrote it ran (and closed) in its own process, as a user's run does."""
    run = textwrap.dedent('''
        import sys
        from qtau.service import PilotComputeService
        from qtau.types import QuantumTask
        from qtau_scripted.testing import host, pilot, resource
        from qtau_test_circuits import bell
        with PilotComputeService(plugins=host(), working_directory=sys.argv[1]) as pcs:
            pcs.create_pilot(pilot(resource("r", qubits=3)))
            tasks = [QuantumTask(circuit=bell(), shots=10, task_id=f"ro{i}") for i in range(3)]
            pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=120)
    ''')
    done = subprocess.run([sys.executable, "-c", run, str(own_disk)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(os.listdir(own_disk)) == ["qtau-journal.lock", "qtau-journal.sqlite3"], "closed cleanly"
    remount = subprocess.run(["mount", "-o", "remount,ro", str(own_disk)], capture_output=True, text=True,
                             timeout=30)
    assert remount.returncode == 0, remount.stderr
    try:
        listed = _jobs(own_disk)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(own_disk)], capture_output=True, timeout=30)
    assert listed.returncode == 0, listed.stderr[-2000:]
    tasks = json.loads(listed.stdout)["tasks"]
    assert sorted(t["task_id"] for t in tasks) == ["ro0", "ro1", "ro2"]
    assert all(t["handed_out"] for t in tasks)


# -- foreign and damaged files ---------------------------------------------------------------------


def test_a_foreign_sqlite_file_is_refused_and_left_untouched(tmp_path):
    import hashlib
    import sqlite3

    from qtau import JournalCorruptError

    path = tmp_path / "qtau-journal.sqlite3"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    other.execute("INSERT INTO notes (text) VALUES ('someone else''s data')")
    other.commit()
    other.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(JournalCorruptError, match="no QTAU tables") as info:
        PilotComputeService(working_directory=str(tmp_path))
    assert info.value.path == str(path) and "mv " in str(info.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    names = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert names == {"notes"}, "no QTAU table was written into it"


def test_a_journal_whose_tasks_table_was_dropped_is_refused(tmp_path):
    import sqlite3

    from qtau import JournalCorruptError

    with PilotComputeService(working_directory=str(tmp_path)):
        pass
    db = sqlite3.connect(tmp_path / "qtau-journal.sqlite3")
    db.execute("DROP TABLE tasks")
    db.commit()
    db.close()
    with pytest.raises(JournalCorruptError, match="tasks table is missing"):
        PilotComputeService(working_directory=str(tmp_path))
    names = {r[0] for r in sqlite3.connect(tmp_path / "qtau-journal.sqlite3").execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "tasks" not in names, "the table was not silently created again"


def test_journal_errors_are_public_names():
    import qtau
    from qtau import JournalCorruptError, JournalError, JournalLockedError, JournalVersionError

    assert issubclass(JournalCorruptError, JournalError) and issubclass(JournalLockedError, JournalError)
    assert issubclass(JournalVersionError, JournalError) and issubclass(JournalError, qtau.QtauError)
    assert {"JournalError", "JournalCorruptError", "JournalLockedError", "JournalVersionError"} <= set(qtau.__all__)


# -- recover() and the live service ----------------------------------------------------------------

CALLS: list[int] = []


def counted_circuit():
    """A circuit function that counts its calls (LOCAL runs it in this process)."""
    from qiskit import QuantumCircuit

    CALLS.append(1)
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.measure(range(2), range(2))
    return qc


def test_recover_never_returns_the_services_own_tasks(tmp_path):
    from qtau_scripted.testing import host

    CALLS.clear()
    with PilotComputeService(plugins=host("qiskit"), working_directory=str(tmp_path)) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        ref = pcs.submit_quantum_task(QuantumTask(circuit=counted_circuit, num_qubits=2, shots=5))
        assert pcs.recover() == []
        assert pcs.get_result(ref, timeout=60).counts == {"01": 5}
        assert pcs.recover() == []
    assert len(CALLS) == 1, "the circuit function ran once"


def test_recover_returns_an_earlier_services_task_once(tmp_path):
    from qtau_scripted.testing import host

    with PilotComputeService(plugins=host("qiskit"), working_directory=str(tmp_path)) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        pcs.wait_tasks([pcs.submit_quantum_task(QuantumTask(circuit=counted_circuit, num_qubits=2, shots=5))])
    with PilotComputeService(plugins=host("qiskit"), working_directory=str(tmp_path)) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        handles = pcs.recover()
        assert len(handles) == 1 and pcs.recover() == []
        assert pcs.get_results(handles)[0].counts == {"01": 5}


# -- durable means acknowledged --------------------------------------------------------------------

ACK_DRIVER = textwrap.dedent('''
    import os, signal, sys
    from qiskit import QuantumCircuit
    from qtau.plugins import PluginHost
    from qtau.service import PilotComputeService
    from qtau.types import QuantumTask

    workdir, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    pcs = PilotComputeService(plugins=host, working_directory=workdir, durable=mode != "flush")
    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.measure(range(2), range(2))
    refs = [pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=5, task_id=f"t{i}")) for i in range(n)]
    if mode == "collect":
        pcs.get_results(refs, timeout=120)
    if mode == "flush":
        pcs.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # right after the last call returned
''')


def _killed_driver(tmp_path: Path, mode: str, n: int) -> Path:
    script = tmp_path / "ack.py"
    script.write_text(ACK_DRIVER)
    workdir = tmp_path / "run"
    done = subprocess.run([sys.executable, str(script), str(workdir), mode, str(n)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]
    return workdir


@pytest.mark.parametrize("mode", ["submit", "flush"])
def test_every_acknowledged_submission_survives_a_kill(tmp_path, mode):
    """The driver SIGKILLs itself the moment its last submit_quantum_task returned (a durable
    service), or its `flush()` returned (a service created with durable=False): every one of the
    200 acknowledged tasks is in the journal."""
    from qtau.journal import Journal

    workdir = _killed_driver(tmp_path, mode, 200)
    with Journal.open(workdir, readonly=True) as seen:
        assert {t.task_id for t in seen.tasks()} == {f"t{i}" for i in range(200)}


def test_durable_is_a_flag_and_flush_needs_no_journal():
    from qtau.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="durable must be True or False"):
        PilotComputeService(durable="no")
    with PilotComputeService() as pcs:
        pcs.flush()  # no working_directory: nothing to write


@pytest.mark.parametrize("durable", [True, False])
def test_a_burst_is_pickled_before_it_returns_only_when_durable(tmp_path, payload_spy, durable):
    """`submit_quantum_tasks` of a durable service makes every task's payload (what recovery runs
    again) on the submitting thread before it returns; a service created with durable=False queues
    the burst as it queues one task, so no payload is made there (the writer makes it, or skips it
    for a task that ended within its window), and after `flush()` every task is journaled."""
    from qtau.journal import Journal
    from qtau_scripted.testing import host

    tasks = [QuantumTask(circuit=bell(), shots=50) for _ in range(12)]
    with PilotComputeService(plugins=host("qiskit"), working_directory=str(tmp_path), durable=durable) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        with payload_spy.submitting():
            handles = pcs.submit_quantum_tasks(tasks)
        assert [sum(r.counts.values()) for r in pcs.get_results(handles)] == [50] * 12
        pcs.flush()
        with Journal.open(tmp_path, readonly=True) as journal:
            assert {t.task_id for t in journal.tasks() if t.state == "done"} == {t.task_id for t in tasks}
    assert sorted(payload_spy.made) == (sorted(t.task_id for t in tasks) if durable else [])


def test_results_handed_out_are_not_run_again_after_a_kill(tmp_path):
    """The driver SIGKILLs itself the moment get_results returned: recovery runs nothing again."""
    workdir = _killed_driver(tmp_path, "collect", 60)
    from qtau_scripted.testing import host

    with PilotComputeService(plugins=host("qiskit"), working_directory=str(workdir)) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        assert pcs.recover() == []


@pytest.mark.parametrize("text", [
    "aws key AKIAABCDEFGHIJKLMNOP in a pickle", "X-Amz-Security-Token: FwoGZXIvYXdzEBYaDH", "apikey=abcdef123456",
    "Authorization: Bearer abcdefghijkl", "'aws_session_token': 'IQoJb3JpZ2luX2VjEJr'", "bearer xyzxyzxyz123",
    "plain circuit bytes h q[0]; cx q[0], q[1];", "AKIA too short", "signature", "",
    "SIGNATURE=abcdef0123", "Api_Key: 'zzzzzzzz'", "akiaabcdefghijklmnop lower case is no key id",
    "BEARER ABCDEFGHIJKLMNOP", "authorization", "X-AMZ-SECURITY-TOKEN=***",
])
def test_the_payload_secret_check_agrees_with_redaction(text):
    """Journal payloads are checked with `holds_secret` (fast, per task); it must say yes exactly
    where `redact` would change the text, known secret values included."""
    from qtau.journal import holds_secret
    from qtau.secrets import Secret, redact

    Secret("journal-payload-secret-value")
    for sample in (text, text + " journal-payload-secret-value"):
        assert holds_secret(sample.encode("latin-1")) == (redact(sample) != sample), sample


def test_the_payload_secret_check_finds_secrets_in_real_pickles():
    """The check runs on pickled task payloads (bytes): a known secret is found there whether the
    pickle holds it as UTF-8 (any non-ASCII secret) or ASCII, inside a real task's pickle."""
    import pickle

    from qtau.journal import holds_secret
    from qtau.secrets import Secret

    Secret("clé-secrète-ünïcode-42")
    Secret("ascii-only-secret-value-42")
    assert holds_secret(pickle.dumps({"token": "clé-secrète-ünïcode-42"}, protocol=5))
    assert holds_secret(pickle.dumps(["x", "ascii-only-secret-value-42"], protocol=5))
    task = QuantumTask(circuit="OPENQASM 2.0;\n// apikey=shouldnotbejournaled\nqreg q[1];", num_qubits=1)
    assert holds_secret(pickle.dumps(task, protocol=5))
    assert not holds_secret(pickle.dumps(QuantumTask(circuit="OPENQASM 2.0; qreg q[1];", num_qubits=1),
                                         protocol=5))


def test_an_answer_given_before_a_secret_was_known_is_not_given_again(monkeypatch):
    """`holds_secret` keeps its answers for short texts (a task's summary is the same for most
    tasks); a secret made later, or exported into the environment later, is found in a text
    already answered."""
    from qtau.secrets import Secret, holds_secret, redact

    text = '{"circuit_type": "x", "note": "later-made-secret-0451", "env": "later-exported-credential-77"}'
    assert not holds_secret(text) and not holds_secret(text)  # asked twice: the second from the kept answers
    Secret("later-made-secret-0451")
    assert holds_secret(text) and redact(text) != text
    other = '{"only": "later-exported-credential-77"}'
    assert not holds_secret(other)
    monkeypatch.setenv("IBM_CLOUD_API_KEY", "later-exported-credential-77")
    assert holds_secret(other) and "later-exported-credential-77" not in redact(other)


@pytest.mark.parametrize("hint", [hint for hints in PATTERN_HINTS for hint in hints])
def test_the_one_scan_for_every_hint_finds_each_hint_anywhere(hint):
    """The hints are searched with one expression (their prefix tree): each is found at the
    start, in the middle and at the end of a text, in any case, as text and as bytes; a text
    with every hint cut short by a letter is not."""
    from qtau.secrets import _ANY_HINT, _ANY_HINT_BYTES

    for text in (hint, f"xx{hint}yy", f"{{'k': 1}} {hint}", hint.upper().lower()):
        assert _ANY_HINT.search(text) and _ANY_HINT_BYTES.search(text.encode()), text
    cut = f"{hint[:-1]} {hint[1:]}"
    assert bool(_ANY_HINT.search(cut)) == any(other in cut for hints in PATTERN_HINTS for other in hints)


# -- attempts and outcomes as journaled ------------------------------------------------------------


def _scripted_service(workdir: Path, **values) -> PilotComputeService:
    from qtau_scripted.testing import host, pilot, resource

    pcs = PilotComputeService(plugins=host(), working_directory=str(workdir), max_workers=1, coalesce=False)
    pcs.create_pilot(pilot(resource("a", **values)))
    return pcs


def test_a_task_submitted_twice_keeps_both_attempts_in_the_journal(tmp_path, clean_script):
    """The same task object submitted again while its first run is in flight gets the next attempt
    number; its first attempt is never overwritten (nor its idempotency token reused)."""
    from qtau.journal import Journal

    with _scripted_service(tmp_path, call_delay_s=0.3) as pcs:
        task = QuantumTask(circuit=bell(), shots=10, task_id="twice")
        first = pcs.submit_quantum_task(task)
        second = pcs.submit_quantum_task(task)
        pcs.wait_tasks([first, second], timeout=60)
        pcs.flush()
        with Journal.open(tmp_path, readonly=True) as seen:
            attempts = [(a.attempt, a.state) for a in seen.task("twice").attempts]
    assert attempts == [(1, "done"), (2, "done")]


def test_a_cancelled_local_task_is_recovered_as_cancelled(tmp_path, clean_script):
    from qtau.errors import ExecutionError, TaskCancelledError

    with _scripted_service(tmp_path, call_delay_s=0.5) as pcs:
        running = pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10, task_id="ran"))
        queued = pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10, task_id="cancelled"))
        pcs.cancel([queued])
        assert queued.cancelled()
        pcs.wait_tasks([running], timeout=60)
    with _scripted_service(tmp_path) as pcs:
        handles = pcs.recover()
        values = dict(zip(["ran", "cancelled"], pcs.get_results(handles, return_exceptions=True), strict=True))
    assert sum(values["ran"].counts.values()) == 10 and values["ran"].metadata["recovered"]
    assert isinstance(values["cancelled"], TaskCancelledError)
    assert not isinstance(values["cancelled"], ExecutionError)


def test_a_recovered_result_keeps_its_cost_and_currency_and_its_spend_counts(tmp_path, clean_script):
    """A task priced in EUR that finished but was never handed out: the next service recovers it
    with its cost and currency, and counts that spend (through the budget's rate) in its budget."""
    from qtau_scripted.testing import host, pilot, resource

    def service() -> PilotComputeService:
        pcs = PilotComputeService(plugins=host(), working_directory=str(tmp_path))
        pcs.create_pilot(pilot(resource("eu", per_task=1.5, currency="EUR")))
        pcs.initialize_dreamer({"budget": {"USD": 10, "rates": {"EUR": 2.0}}})
        return pcs

    with service() as first:
        first.wait_tasks([first.submit_quantum_task(QuantumTask(circuit=bell(), shots=10))], timeout=60)
    with service() as second:
        assert second.qdreamer.budget_info()["service"]["spent"] == pytest.approx(3.0)
        [result] = second.get_results(second.recover())
    assert (result.cost, result.currency) == (pytest.approx(1.5), "EUR") and result.metadata["recovered"]


def test_a_service_remembering_three_tasks_remembers_exactly_three(tmp_path, clean_script):
    """task_id_memory=3: three tasks resolve by id, all three are marked handed out (nothing to
    recover afterwards), and asking for any of them again says it was collected."""
    from qtau.errors import InvalidTaskError
    from qtau_scripted.testing import host, pilot, resource

    with PilotComputeService(plugins=host(), working_directory=str(tmp_path), task_id_memory=3) as pcs:
        pcs.create_pilot(pilot(resource("a")))
        for i in range(3):
            pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10, task_id=f"t{i}"))
        assert len(pcs.get_results(["t0", "t1", "t2"], timeout=60)) == 3
        for i in range(3):
            with pytest.raises(InvalidTaskError, match="already collected"):
                pcs.get_result(f"t{i}")
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        assert pcs.recover() == []


def test_a_journal_with_a_mangled_json_column_is_refused_and_its_lock_let_go(tmp_path):
    """A row whose JSON was overwritten by hand: JournalCorruptError (not a JSON traceback), and
    the refused service let go of the lock (the second try is refused the same way, not locked)."""
    import sqlite3

    from qtau import JournalCorruptError

    with PilotComputeService(working_directory=str(tmp_path)) as pcs:
        pcs.journal.journal.record_task(QuantumTask(circuit="OPENQASM 2.0;", task_id="t"), durable=True)
    db = sqlite3.connect(tmp_path / "qtau-journal.sqlite3")
    db.execute("UPDATE tasks SET summary = 'not json{' WHERE task_id = 't'")
    db.commit()
    db.close()
    for _ in range(2):
        with pytest.raises(JournalCorruptError, match="damaged or not a QTAU journal"):
            PilotComputeService(working_directory=str(tmp_path))
