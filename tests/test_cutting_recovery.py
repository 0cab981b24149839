"""A cut task survives the death of its driver (issue 28): the journal keeps the task with
observables itself (its plan and its pieces' task ids), so a new service on the same working
directory gives back the one task, under its own id, with the reconstructed values; pieces done
before the crash are neither run nor billed again, the others run once.

Each test starts a driver (a subprocess it owns) that SIGKILLs itself mid-run, then recovers in a
new service: after 3 of the 12 pieces finished, or at the moment between journaling the cut task
and submitting its pieces (the driver's `submit_quantum_tasks` replaced by the SIGKILL: the only
stand-in here, for a crash at that instant). Pieces run on the real `scripted` plugin (Qiskit's
BasicSimulator, which measures mid-circuit) as a 2-qubit resource at 1 USD a piece. Exact values
come from a statevector of the whole circuit.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("qiskit_addon_cutting")

from qiskit.circuit.library import efficient_su2  # noqa: E402
from qiskit.quantum_info import SparsePauliOp, Statevector  # noqa: E402
from qtau.journal import Journal  # noqa: E402
from qtau.service import PilotComputeService  # noqa: E402
from qtau.types import QuantumTask  # noqa: E402
from qtau_scripted import state  # noqa: E402
from qtau_scripted.testing import host, pilot, resource  # noqa: E402

pytestmark = pytest.mark.usefixtures("clean_script")

OBSERVABLES = ["ZZII", "IIZZ", "ZIIZ"]
SHOTS = 4000

DRIVER = textwrap.dedent('''
    import json, os, signal, sys, time
    import numpy as np
    from qiskit.circuit.library import efficient_su2
    from qtau.service import PilotComputeService
    from qtau.types import QuantumTask
    from qtau_scripted.testing import host, pilot, resource

    workdir, mode, observables, shots = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
    qc = efficient_su2(4, entanglement="linear", reps=1)
    qc = qc.assign_parameters(np.random.default_rng(5).uniform(0, np.pi, qc.num_parameters))
    # one worker, one backend call per piece, each call 0.3 s: the pieces finish one by one
    pcs = PilotComputeService(plugins=host(), working_directory=workdir, max_workers=1, batch_chunks=1000)
    pcs.create_pilot(pilot(resource("r", qubits=2, per_task=1.0, mid_circuit=True, call_delay_s=0.3)))
    if mode == "before_pieces":  # the driver dies after the cut task was journaled, before any piece was
        pcs.submit_quantum_tasks = lambda tasks: os.kill(os.getpid(), signal.SIGKILL)
    handle = pcs.submit_quantum_task(QuantumTask(circuit=qc, observables=observables, shots=shots,
                                                 task_id="cut", cut={"wire_cuts": False}))
    while sum(part.done() for part in handle.parts) < 3:
        time.sleep(0.005)
    time.sleep(0.05)  # the done pieces' results reach the journal's writer (the next piece takes 0.3 s)
    pcs.flush()
    print(json.dumps({"parts": len(handle.parts)}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
''')


def circuit():
    qc = efficient_su2(4, entanglement="linear", reps=1)
    return qc.assign_parameters(np.random.default_rng(5).uniform(0, np.pi, qc.num_parameters))


def _killed(tmp_path: Path, mode: str) -> tuple[Path, str]:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    workdir = tmp_path / "run"
    done = subprocess.run([sys.executable, str(script), str(workdir), mode, json.dumps(OBSERVABLES), str(SHOTS)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]
    return workdir, done.stdout


def _service(workdir: Path | None, budget: float) -> PilotComputeService:
    pcs = PilotComputeService(plugins=host(), working_directory=None if workdir is None else str(workdir))
    pcs.create_pilot(pilot(resource("r", qubits=2, per_task=1.0, mid_circuit=True)))
    pcs.initialize_dreamer({"budget": {"USD": budget}})
    return pcs


def _pieces(workdir: Path) -> tuple[list[str], dict[str, list]]:
    """The cut task's pieces as journaled (ids, in plan order) and each piece's attempts."""
    with Journal.open(workdir, readonly=True) as journal:
        ids = [t.task_id for t in journal.tasks() if t.task_id != "cut"]
        return ids, {t.task_id: list(t.attempts) for t in journal.tasks() if t.task_id != "cut"}


def _check_values(recovered, workdir_spend: dict[str, float], pieces: int) -> None:
    """Within error bars of the exact values and of an uncrashed run of the same task."""
    qc = circuit()
    exact = [float(Statevector(qc).expectation_value(SparsePauliOp(o)).real) for o in OBSERVABLES]
    with _service(None, budget=pieces) as pcs:
        task = QuantumTask(circuit=qc, observables=OBSERVABLES, shots=SHOTS, cut={"wire_cuts": False})
        pcs.submit_quantum_task(task)
        [plain] = pcs.get_results([task.task_id])  # a cut task's id resolves like any task's
    assert len(plain.parts) == pieces
    for v, s, p, ps, e in zip(recovered.values, recovered.metadata["standard_errors"], plain.values,
                              plain.metadata["standard_errors"], exact, strict=True):
        assert abs(v - e) <= 4 * s + 1e-9, (recovered.values, exact)
        assert abs(v - p) <= 4 * np.hypot(s, ps) + 1e-9, (recovered.values, plain.values)
    assert workdir_spend == {"USD": pytest.approx(pieces)}, "every piece billed exactly once"


def test_a_cut_task_killed_mid_run_is_recovered_without_running_finished_pieces_again(tmp_path):
    workdir, out = _killed(tmp_path, "mid_run")
    pieces = json.loads(out.splitlines()[-1])["parts"]
    ids, attempts = _pieces(workdir)
    finished = [pid for pid in ids if any(a.state == "done" for a in attempts[pid])]
    assert len(ids) == pieces and 3 <= len(finished) < pieces, "some pieces, not all, finished before the kill"
    with _service(workdir, budget=pieces) as pcs:  # exactly one USD per piece: a piece billed twice is refused
        handles = pcs.recover()
        assert [getattr(h, "task_id", h) for h in handles] == ["cut"], "one cut task comes back, not its pieces"
        [result] = pcs.get_results(["cut"], timeout=120)  # by the task's own id, as before the crash
        assert result.task_id == "cut" and len(result.parts) == pieces
        assert state.runs["scripted:r"] == pieces - len(finished), "only the unfinished pieces ran again"
        assert pcs.recover() == []
    ids, attempts = _pieces(workdir)
    assert all(sum(a.state == "done" for a in attempts[pid]) == 1 for pid in ids)
    with Journal.open(workdir, readonly=True) as journal:
        assert journal.task("cut").state == "done" and journal.task("cut").handed_out
        spend = journal.spend()
    with _service(workdir, budget=pieces) as pcs:
        assert pcs.recover() == [], "a cut task handed out is not recovered again, nor are its pieces"
    assert state.runs["scripted:r"] == pieces - len(finished)
    _check_values(result, spend, pieces)


def test_a_cut_task_killed_before_its_pieces_were_submitted_runs_every_piece_once(tmp_path):
    workdir, _ = _killed(tmp_path, "before_pieces")
    assert _pieces(workdir)[0] == [], "no piece reached the journal"
    with _service(workdir, budget=1000) as pcs:
        [handle] = pcs.recover()
        result = pcs.get_result(handle, timeout=120)
        pieces = len(result.parts)
        assert handle.task_id == result.task_id == "cut" and pieces >= 2
        assert state.runs["scripted:r"] == pieces
        assert pcs.recover() == []
    with Journal.open(workdir, readonly=True) as journal:
        spend = journal.spend()
    _check_values(result, spend, pieces)
