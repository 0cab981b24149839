"""What a killed driver loses (docs/journal.md, "What a crash can lose"): nothing it acknowledged.

Each test starts a driver (a subprocess it owns) that SIGKILLs itself the moment a call returned,
then opens a new service on the same working directory. Durable writes go to the journal's
acknowledgement log (`qtau.journal.acklog`) and reach SQLite a moment later, so these tests are
what shows the log is applied, once, in order, and that a damaged tail is refused frame by frame.

Tasks run on the real `scripted` plugin (BasicSimulator): a priced resource (1 USD a task) whose
calls, in the driver, wait `call_delay_s` from the moment the tasks to be lost are submitted, so
every acknowledged task is still running when the driver dies. Nothing is mocked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from qtau.journal import Journal, acklog
from qtau.journal.schema import LOG_NAME
from qtau.journal.store import STATEMENTS
from qtau.service import PilotComputeService
from qtau.types import QuantumTask
from qtau_scripted import state
from qtau_scripted.testing import host, pilot, resource, wait_idle

pytestmark = pytest.mark.usefixtures("clean_script")

DRIVER = textwrap.dedent('''
    import json, os, signal, sys
    from qtau.journal import Journal
    from qtau.journal.service_journal import task_blob
    from qtau.service import PilotComputeService
    from qtau.types import QuantumTask
    from qtau_scripted import state
    from qtau_scripted.testing import host, pilot, resource

    workdir, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    QASM = 'OPENQASM 2.0;\\ninclude "qelib1.inc";\\nqreg q[2];\\ncreg c[2];\\nx q[0];\\nmeasure q -> c;\\n'
    if mode == "journal":  # the journal alone: a handed-out task whose submission is still in the log
        journal = Journal.open(workdir, flush_interval=3600)  # the writer's window never ends in time
        given = QuantumTask(circuit=QASM, shots=5, task_id="given")
        journal.record_task(given, payload=task_blob(given), durable=True)
        journal.flush()  # in SQLite too, and the log keeps its frame
        journal.mark_handed_out(["given"])
        journal.flush()
        for i in range(3):
            task = QuantumTask(circuit=QASM, shots=5, task_id=f"open{i}")
            journal.record_task(task, payload=task_blob(task), durable=True)
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "grow":  # n durable submissions of 2 KiB payloads: the log grows and is compacted
        journal = Journal.open(workdir, flush_interval=3600)
        for i in range(n):
            task = QuantumTask(circuit=QASM, shots=5, task_id=f"g{i}")
            journal.record_task(task, payload=b"p" * 2048, durable=True)
            if i % 100 == 99 and i < n - 50:
                journal.flush()  # in SQLite: the log may drop what it holds
        print(os.path.getsize(os.path.join(workdir, "qtau-journal.log")), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    pcs = PilotComputeService(plugins=host(), working_directory=workdir, coalesce=mode != "batch")
    pcs.create_pilot(pilot(resource("r", qubits=3, per_task=1.0)))
    pcs.initialize_dreamer({"budget": {"USD": 2 * n}})
    if mode == "mixed":  # n tasks collected, then n acknowledged and still running
        done = [pcs.submit_quantum_task(QuantumTask(circuit=QASM, shots=5, task_id=f"done{i}")) for i in range(n)]
        pcs.get_results(done, timeout=120)
    state.script("scripted:r", call_delay_s=30)  # what runs from now on is still running at the kill
    tasks = [QuantumTask(circuit=QASM, shots=5, task_id=f"t{i}") for i in range(n)]
    if mode == "batch":
        pcs.submit_quantum_tasks(tasks)
    else:
        for task in tasks:
            pcs.submit_quantum_task(task)
    os.kill(os.getpid(), signal.SIGKILL)  # right after the last call returned
''')


def _killed(tmp_path: Path, mode: str, n: int, out: list | None = None) -> Path:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    workdir = tmp_path / "run"
    workdir.mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, str(script), str(workdir), mode, str(n)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]
    if out is not None:
        out.extend(done.stdout.split())
    return workdir


def _recovering(workdir: Path, budget: float) -> PilotComputeService:
    pcs = PilotComputeService(plugins=host(), working_directory=str(workdir))
    pcs.create_pilot(pilot(resource("r", qubits=3, per_task=1.0)))
    pcs.initialize_dreamer({"budget": {"USD": budget}})
    return pcs


@pytest.mark.parametrize("mode", ["one", "batch"])
def test_every_acknowledged_task_is_recovered_once_and_run_once(tmp_path, mode):
    """The driver dies right after its last `submit_quantum_task` (or `submit_quantum_tasks`)
    returned, all 40 tasks still running: a new service's `recover()` returns each of them once,
    runs each once (1 USD each, spent exactly once within a budget of exactly 40 USD), and a
    second `recover()` returns nothing."""
    n = 40
    workdir = _killed(tmp_path, mode, n)
    assert (workdir / LOG_NAME).exists(), "the acknowledged tasks were (also) in the log when it died"
    with _recovering(workdir, budget=n) as pcs:
        handles = pcs.recover()
        results = pcs.get_results(handles, timeout=120)
        assert sorted(r.task_id for r in results) == sorted(f"t{i}" for i in range(n))
        assert all(r.counts == {"01": 5} for r in results)
        assert pcs.recover() == []
        assert not any(wait_idle(pcs).values())
        info = pcs.qdreamer.budget_info()["service"]
        assert info["spent"] == pytest.approx(n) and info["reserved"] == 0.0
    assert state.runs["scripted:r"] == n, "each acknowledged task ran once in the recovering service"
    with Journal.open(workdir, readonly=True) as seen:
        assert all(t.handed_out for t in seen.tasks())
    assert not (workdir / LOG_NAME).exists(), "a clean close leaves no log"


def test_results_handed_out_before_the_kill_stay_handed_out(tmp_path):
    """The driver collected 10 results, then acknowledged 10 more tasks and died: only those 10
    come back, the collected ones are neither returned nor run again, and the budget counts the
    10 USD spent before the kill and the 10 spent after, nothing twice."""
    workdir = _killed(tmp_path, "mixed", 10)
    with _recovering(workdir, budget=20) as pcs:
        assert pcs.qdreamer.budget_info()["service"]["spent"] == pytest.approx(10)
        results = pcs.get_results(pcs.recover(), timeout=120)
        assert sorted(r.task_id for r in results) == sorted(f"t{i}" for i in range(10))
        assert pcs.qdreamer.budget_info()["service"]["spent"] == pytest.approx(20)
    assert state.runs["scripted:r"] == 10, "the collected tasks did not run again"


def test_a_log_row_sqlite_already_holds_is_not_applied_again(tmp_path):
    """A task was submitted durably (its row in the log), committed, then handed out (committed
    too) before the kill: applying the log again would reset it to 'not handed out', and recovery
    would run it a second time. Only the three tasks acknowledged after come back."""
    workdir = _killed(tmp_path, "journal", 0)
    with Journal.open(workdir, readonly=True) as seen:
        tasks = {t.task_id: t for t in seen.tasks()}
    assert set(tasks) == {"given", "open0", "open1", "open2"}
    assert tasks["given"].handed_out and not any(tasks[f"open{i}"].handed_out for i in range(3))
    with _recovering(workdir, budget=10) as pcs:
        results = pcs.get_results(pcs.recover(), timeout=120)
        assert sorted(r.task_id for r in results) == ["open0", "open1", "open2"]


def test_a_damaged_frame_ends_the_log(tmp_path):
    """A crash can cut the last frame short (or a power loss leave it half written): its checksum
    fails, and it and everything after it are refused; the frames before it are applied."""
    workdir = _killed(tmp_path, "journal", 0)
    log = workdir / LOG_NAME
    data = bytearray(log.read_bytes())
    frames, at = [], 0
    while True:
        length, _, _ = acklog.HEADER.unpack_from(data, at)
        if length == 0:
            break
        frames.append(at)
        at += acklog.HEADER.size + length
    data[frames[-2] + acklog.HEADER.size] ^= 0xFF  # the frame of open1 damaged: open1 and open2 lost
    log.write_bytes(bytes(data))
    with Journal.open(workdir) as journal:
        assert {t.task_id for t in journal.tasks()} == {"given", "open0"}
    assert not log.exists()


def test_a_journal_log_of_plain_values_only(tmp_path):
    """The log holds rows as `marshal` writes plain values (no pickle of any object but the
    task's payload bytes, which are checked for secrets before they are written)."""
    workdir = _killed(tmp_path, "journal", 0)
    rows = acklog.read(workdir / LOG_NAME, STATEMENTS)
    # Numbered in queue order; row 2 (the hand-out, written without durable=) is not in the log.
    assert [number for number, _ in rows] == [1, 3, 4, 5]
    plain = (str, int, float, bytes, type(None))
    assert all(isinstance(value, plain) for _, (_, params) in rows for value in params)
    json.dumps([[v for v in params if not isinstance(v, bytes)] for _, (_, params) in rows])
    assert os.stat(workdir / LOG_NAME).st_mode & 0o077 == 0, "the log is readable by its owner only"


def test_the_log_grows_and_is_compacted_without_losing_a_row(tmp_path):
    """1500 durable submissions with 2 KiB payloads (3 MiB of frames): the log grows past its
    first 64 KiB, is rewritten without the rows SQLite holds once it passes 1 MiB (a new file
    renamed over it), and after the kill every one of the 1500 tasks is there, with its payload."""
    sizes: list[str] = []
    workdir = _killed(tmp_path, "grow", 1500, sizes)
    # 3.4 MB of frames in all: kept whole, the log would have grown to 4 MiB
    assert acklog.GROW_BYTES < int(sizes[0]) <= 2 * acklog.COMPACT_BYTES, sizes
    with Journal.open(workdir) as journal:
        tasks = journal.tasks()
    assert sorted(t.task_id for t in tasks) == sorted(f"g{i}" for i in range(1500))
    assert all(t.payload == b"p" * 2048 for t in tasks)


def test_a_task_resubmitted_by_a_later_service_is_numbered_past_every_journaled_attempt(tmp_path):
    """Attempt numbers are kept in memory, read from the journal when it opens: an earlier service
    journaled two failed tries of task `again`; this service's submission of the same task is
    try 3 (a new idempotency token), and the earlier two stay as they were."""
    qasm = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[0];\nmeasure q -> c;\n'
    with Journal.open(tmp_path) as journal:
        journal.record_task(QuantumTask(circuit=qasm, shots=5, task_id="again"), durable=True)
        for number in (1, 2):
            journal.record_attempt("again", number, "scripted:r", "scripted", state="failed", durable=True)
    with PilotComputeService(plugins=host(), working_directory=str(tmp_path)) as pcs:
        pcs.create_pilot(pilot(resource("r", qubits=3)))
        assert pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qasm, shots=5, task_id="again")),
                              timeout=60).counts == {"01": 5}
    with Journal.open(tmp_path, readonly=True) as seen:
        assert [(a.attempt, a.state) for a in seen.task("again").attempts] == [(1, "failed"), (2, "failed"),
                                                                                (3, "done")]


def test_where_the_log_cannot_be_mapped_it_is_written(tmp_path, monkeypatch):
    """Some file systems (FUSE, some network mounts) refuse a shared writable mapping: the log is
    then written with one call a frame, and still holds every acknowledged row, in order. The
    refusal is simulated (`mmap.mmap` raising, as it does there): no such file system is here."""
    def refuse(*args, **kwargs):
        raise OSError(19, "No such device")

    monkeypatch.setattr(acklog.mmap, "mmap", refuse)
    qasm = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[0];\nmeasure q -> c;\n'
    with Journal.open(tmp_path, flush_interval=3600) as journal:
        for i in range(40):
            journal.record_task(QuantumTask(circuit=qasm, shots=5, task_id=f"w{i}"), payload=b"x" * 3000,
                                durable=True)
        rows = acklog.read(tmp_path / LOG_NAME, STATEMENTS)
        assert [params[0] for _, (_, params) in rows] == [f"w{i}" for i in range(40)]
    with Journal.open(tmp_path, readonly=True) as seen:
        assert len(seen.tasks()) == 40
