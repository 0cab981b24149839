"""The ranking `qtau run` and `qtau demo` print is the one each task was placed by (issue 21), and
a tie among equally scored resources is explained by QDREAMER's documented tie-break."""

import json
import os
import subprocess
import sys

import pytest
from qtau import PilotComputeService, QuantumTask
from qtau.dreamer.ranking import Row
from qtau.errors import QtauError

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'
GHZ3 = ('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nbit[3] c;\nh q[0];\ncx q[0], q[1];\n'
        'cx q[1], q[2];\nc = measure q;\n')
TIED_SIMULATORS = "qiskit,braket,pennylane"


def qtau(*args: str, plugins: str = TIED_SIMULATORS) -> subprocess.CompletedProcess:
    env = {**os.environ, "QTAU_PLUGINS": plugins}
    return subprocess.run([sys.executable, "-m", "qtau.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env)


def test_run_prints_for_each_file_the_ranking_its_task_was_placed_by(tmp_path):
    files = []
    for i, text in enumerate((BELL, GHZ3, BELL)):
        path = tmp_path / f"c{i}.qasm"
        path.write_text(text)
        files.append(str(path))
    out = qtau("run", *files, "--shots", "50", "--json")
    assert out.returncode == 0, out.stderr
    tasks = json.loads(out.stdout)["tasks"]
    for task in tasks:
        ranking = task["ranking"]
        # The ranking's first row is the decision, and the task ran there (no failover here).
        assert ranking["chosen"] == ranking["rows"][0]["resource_id"] == task["result"]["resource_id"]
    # Tasks placed while earlier ones were in flight saw them: the in-flight column of a later
    # table counts the earlier tasks still running when it was decided, never more than were placed.
    assert [sum(row["in_flight"] for row in t["ranking"]["rows"]) for t in tasks][0] == 0
    assert all(sum(row["in_flight"] for row in t["ranking"]["rows"]) <= i for i, t in enumerate(tasks))
    text = qtau("run", *files, "--shots", "50")
    assert text.returncode == 0, text.stderr
    for block in text.stdout.split("== ")[1:]:
        first = next(line for line in block.splitlines() if line.startswith("1 "))
        chosen = next(line for line in block.splitlines() if line.startswith("chosen resource: "))
        assert first.split()[1] == chosen.split(": ")[1], block


def test_qdreamer_keeps_the_table_each_placement_was_decided_by():
    pcs = PilotComputeService(plugins=None)
    try:
        for executor in ("qiskit_local", "braket_local"):
            pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
        dreamer = pcs.initialize_dreamer({"optimization_mode": "balanced"})
        dreamer.remember_decisions(limit=2)
        tasks = [QuantumTask(circuit=BELL, shots=10) for _ in range(3)]
        before = dreamer.explain(tasks[1])
        placed = [dreamer.place(task, reserve=True)[0].resource.id for task in tasks]
        assert placed[0] == before.chosen.resource_id == "qiskit:aer_simulator"
        # The second task went elsewhere because the first was in flight: explain() before it says
        # otherwise, its decision says exactly that.
        second = dreamer.decision(tasks[1].task_id)
        assert placed[1] != before.chosen.resource_id and second.chosen.resource_id == placed[1]
        assert {r.resource_id: r.in_flight for r in second.rows}["qiskit:aer_simulator"] == 1
        assert dreamer.decision(tasks[2].task_id).chosen.resource_id == placed[2]
        assert dreamer.decision(tasks[0].task_id) is None  # only the last `limit` are kept
        for rid in placed:
            dreamer.task_finished(rid)
    finally:
        pcs.close()


def test_decisions_are_not_kept_unless_asked():
    pcs = PilotComputeService(plugins=None)
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        task = QuantumTask(circuit=BELL, shots=10)
        pcs.qdreamer.place(task)
        assert pcs.qdreamer.decision(task.task_id) is None
        with pytest.raises(QtauError, match="limit"):
            pcs.qdreamer.remember_decisions(limit=0)
    finally:
        pcs.close()


def test_demo_names_the_mode_and_the_tie_break_of_equal_scores():
    out = qtau("demo", "--shots", "50", "--burst", "0", "--mode", "high_speed")
    assert out.returncode == 0, out.stderr
    assert "QDREAMER mode: high_speed (weights: fidelity=0.10, speed=0.80, cost=0.10)" in out.stdout
    tie = next(line for line in out.stdout.splitlines() if line.startswith("tie: "))
    # A new service has tried no simulator: each is ranked as fast as the fastest (dreamer/runtime_model.py).
    assert ("qiskit:aer_simulator, qiskit:basic_simulator, braket:local_sv, pennylane:lightning.qubit all score "
            "1.0000") in tie
    assert "qiskit:aer_simulator won by QDREAMER's tie-break: fewer tasks in flight first, then the earlier" in tie
    assert "chosen resource: qiskit:aer_simulator" in out.stdout


def test_no_tie_line_when_one_resource_scores_best():
    from qtau.cli.ties import tie_note
    from qtau.dreamer.explanation import Explanation

    def row(rid: str, score: float, feasible: bool = True) -> Row:
        return Row(rid, "x", feasible, "ok", 1.0, 0.1, 0.0, score)

    assert tie_note(Explanation("t", {}, (row("a", 1.0), row("b", 0.99)))) is None
    assert tie_note(Explanation("t", {}, (row("a", 1.0), row("b", 0.0, feasible=False)))) is None
    assert tie_note(Explanation("t", {}, ())) is None
    assert tie_note(Explanation("t", {}, (row("a", 0.5), row("b", 0.5)))).startswith("tie: a, b all score 0.5000")
