"""The host-library interfaces with every plugin installed: QDREAMER places Qiskit pubs and
PennyLane tapes on Aer, Braket's local simulator and PennyLane's devices (a new service tries each
before it learns which is fastest: dreamer/runtime_model.py), and the two interface examples run
as users run them."""

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from qiskit.circuit import Parameter, QuantumCircuit

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, *args: str) -> str:
    out = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                         timeout=600, env=dict(os.environ))
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_sampler_bindings_spread_over_qiskit_braket_and_pennylane_on_a_new_service():
    """A new service (and an empty store of learned run times: tests/conftest.py) tries every
    simulator in its first burst, three tasks each, so 16 bindings reach all three SDKs."""
    from qtau import PilotComputeService
    from qtau_qiskit.primitives import QtauSampler

    t = Parameter("t")
    qc = QuantumCircuit(2, 2)
    qc.ry(t, 0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    thetas = np.linspace(0, math.pi, 16)
    with PilotComputeService(execution_engine="local") as pcs:
        for executor in ("qiskit_local", "braket_local", "pennylane_lightning"):
            pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
        [result] = QtauSampler(service=pcs).run([(qc, thetas)], shots=1000).result()  # unseeded: Braket too
    providers = {rid.split(":")[0] for rid in result.qtau["resources"]}
    assert providers >= {"qiskit", "braket", "pennylane"}
    for i, theta in enumerate(thetas):
        counts = result.data.c.get_counts(i)
        assert set(counts) <= {"00", "11"}
        # 5 standard errors of a probability at 1000 shots.
        assert abs(counts.get("11", 0) / 1000 - math.sin(theta / 2) ** 2) < 0.08, (i, counts)


def test_pennylane_vqe_example_reaches_the_ground_energy():
    out = run_example("pennylane_vqe.py", "--steps", "30")
    final = next(line for line in out.splitlines() if line.startswith("final:"))
    energy = float(final.split("=")[1].split()[0])
    exact = float(final.split("energy")[1].strip(" )"))
    # 2000 shots per term: the estimate's standard error is about 0.015; the optimiser gets within 0.1.
    assert abs(energy - exact) < 0.1, final
    ran = next(line for line in out.splitlines() if "tapes ran on:" in line)
    resources = [part.split(" x")[0] for part in ran.split("ran on: ")[1].split(", ")]
    # Every tape went through QDREAMER to one of the installed local simulators.
    assert int(ran.split()[0]) > 30 * 4 and resources
    assert all(rid.split(":")[0] in {"qiskit", "braket", "pennylane"} for rid in resources), ran


def test_qiskit_sweep_example_spreads_over_aer_braket_and_lightning():
    out = run_example("qiskit_sweep.py")
    rows = [line for line in out.splitlines() if line.startswith("theta=")]
    assert len(rows) == 12
    for row in rows:
        fields = dict(part.rsplit("=", 1) for part in row.split(" on ")[0].split())
        assert abs(float(fields["P(first=1)"]) - float(fields["exact"])) < 0.06, row
        assert float(fields["agree"]) == 1.0
    used = {row.split(" on ")[1] for row in rows}
    assert {"qiskit:aer_simulator", "braket:local_sv", "pennylane:lightning.qubit"} <= used


def test_estimator_on_every_local_simulator_matches_statevector_estimator():
    from qiskit.primitives import StatevectorEstimator
    from qiskit.quantum_info import SparsePauliOp
    from qtau_qiskit.primitives import QtauEstimator

    t = Parameter("t")
    qc = QuantumCircuit(2)
    qc.ry(t, 0)
    qc.cx(0, 1)
    observables = [SparsePauliOp.from_list([("ZZ", 1.0), ("XX", 0.5)]), SparsePauliOp("YY"), SparsePauliOp("IZ")]
    values = np.linspace(0.3, 2.7, 4).reshape(4, 1, 1)
    pub = (qc, [observables], values)
    [ref] = StatevectorEstimator().run([pub]).result()
    # Pinned to each: by default QDREAMER sends the tasks to the simulator it learned is fastest.
    for executor, provider in [("qiskit_local", "qiskit"), ("braket_local", "braket"),
                               ("pennylane_lightning", "pennylane")]:
        [ours] = QtauEstimator(executors=[executor]).run([pub], precision=0.02).result()  # unseeded
        assert ours.data.evs.shape == ref.data.evs.shape == (4, 3)
        # 2500 shots per group: 5 standard errors of a +-1 observable is 0.1 (0.15 with coefficient 1.5).
        assert np.max(np.abs(ours.data.evs - ref.data.evs)) < 0.15, executor
        assert {rid.split(":")[0] for rid in ours.qtau["resources"]} == {provider}


def failing_first_service():
    """A service whose fastest-looking resource fails every task (the real `scripted` plugin,
    scripted to fail) and whose second resource works: QDREAMER must fail over."""
    from qtau import PilotComputeService
    from qtau_scripted import state
    from qtau_scripted.testing import host, pilot, resource

    state.reset()
    pcs = PilotComputeService(plugins=host("scripted", "qiskit", "pennylane"))
    pcs.create_pilot(pilot(resource("bad", behaviour="fail", kind="simulator"),
                           resource("good", kind="simulator", queue_wait_s=20)))
    pcs.initialize_dreamer({"optimization_mode": "high_speed"})
    return pcs


def test_qtau_qubit_fails_over_and_records_the_attempts():
    import pennylane as qml

    with failing_first_service() as pcs:
        dev = qml.device("qtau.qubit", wires=2, service=pcs)

        @qml.set_shots(300)
        @qml.qnode(dev)
        def circuit():
            qml.PauliX(0)
            return qml.probs(wires=[0, 1])

        with qml.Tracker(dev) as tracker:
            probs = circuit()
        assert list(probs) == [0.0, 0.0, 1.0, 0.0]  # wire 0 is PennyLane's leftmost bit
        [record] = tracker.history["qtau"]
        assert record["resource"] == "scripted:good"
        assert [(a["resource"], a["ok"]) for a in record["attempts"]] == [("scripted:bad", False), ("scripted:good", True)]
        assert "failed as scripted" in record["attempts"][0]["message"]


def test_qtau_sampler_fails_over_and_records_the_attempts():
    from qtau_qiskit.primitives import QtauSampler

    qc = QuantumCircuit(2, 2)
    qc.x(1)
    qc.measure([0, 1], [0, 1])
    with failing_first_service() as pcs:
        [result] = QtauSampler(service=pcs).run([qc], shots=100).result()
    assert result.data.c.get_counts() == {"10": 100}
    [task] = result.qtau["tasks"]
    assert [(a["resource"], a["ok"]) for a in task["attempts"]] == [("scripted:bad", False), ("scripted:good", True)]


def test_qtau_qubit_tapes_reach_aer_and_braket_through_openqasm():
    import pennylane as qml

    for executor, resource in (("qiskit_local", "qiskit:"), ("braket_local", "braket:")):
        dev = qml.device("qtau.qubit", wires=[0, 5, 2], executors=[executor])

        @qml.set_shots(400)
        @qml.qnode(dev)
        def circuit():
            qml.PauliX(5)
            qml.Hadamard(2)
            return qml.expval(qml.Z(5)), qml.probs(wires=[0, 5])

        z5, probs = circuit()
        assert float(z5) == -1.0 and list(probs) == [0.0, 1.0, 0.0, 0.0]
        [record] = dev.last_provenance
        assert record["resource"].startswith(resource) and record["conversion_path"][:2] == ["pennylane_tape", "openqasm2"]
