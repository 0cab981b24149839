"""Readout calibrations run on the physical qubits their task is read on (issue 27 item 1).

On `fake_lima` (T-shaped: 0-1, 1-2, 1-3, 3-4) the transpiler puts a GHZ-4 chain on physical qubits
[2, 1, 3, 4]; a calibration circuit (no two-qubit gates) transpiled on its own lands on [0, 1, 2, 3],
and correcting with other qubits' readout errors left ~0.1 of error on the GHZ parity. The
calibration jobs now carry `CircuitJob.layout_like` and the executor places them where the task's
qubits ended. Everything runs on Runtime's local mode with the fake's calibration data and fixed
seeds (transpiler and simulator), so the numbers are reproducible, not drawn anew each run.

`SamplerExecutor._prepare_all` is wrapped by a spy that records the physical qubits of every ISA
circuit and otherwise calls the real method; the "before" runs replace it by the old behaviour
(every job transpiled on its own), the one stand-in here, to measure what the fix changes.
"""

import pytest
from qiskit import QuantumCircuit
from qtau import QuantumTask
from qtau.errors import InvalidTaskError
from qtau.executor import CircuitJob
from qtau.mitigation import expectation, report
from qtau.mitigation.calibration import STORE
from qtau.service import PilotComputeService
from qtau_ibmq import backends
from qtau_ibmq import executor as ex_module
from qtau_test_circuits import ghz

pytest.importorskip("qiskit_ibm_runtime")

LIMA = {"executor": "ibmq_fake_lima", "seed_transpiler": 1, "seed_simulator": 11}
SHOTS = 20000


@pytest.fixture
def placed(monkeypatch):
    """Records, per executor call, each job's (task id, layout_like, physical qubits it is read on,
    physical qubits it starts on)."""
    calls = []
    real = ex_module.SamplerExecutor._prepare_all

    def spy(self, jobs):
        out = real(self, jobs)
        calls.append([(j.task_id, j.layout_like, ex_module.physical_qubits(isa), ex_module.initial_qubits(isa))
                      for j, (isa, _) in zip(jobs, out, strict=True)])
        return out

    monkeypatch.setattr(ex_module.SamplerExecutor, "_prepare_all", spy)
    STORE.clear()
    yield calls
    STORE.clear()


def run(host, technique, circuit=None, repeat=1, shots=SHOTS):
    with PilotComputeService(execution_engine="local", plugins=host) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": LIMA})
        return [pcs.get_result(pcs.submit_quantum_task(QuantumTask(
            circuit=circuit or ghz(4), shots=shots, mitigation={"technique": technique, "seed": 3})))
            for _ in range(repeat)]


def parity_errors(result):
    mitigated, raw = expectation(result, "ZZZZ")
    return 1 - mitigated, 1 - raw


def free_layout_of_a_calibration():
    """Where a 4-qubit readout calibration circuit lands when transpiled on its own."""
    from qtau.mitigation.readout import calibration_programs

    res = backends.resources("ibmq_fake_lima", LIMA)[0]
    ones = QuantumCircuit.from_qasm_str(calibration_programs(4)[1])
    return ex_module.physical_qubits(ex_module.create_executor(res, LIMA).isa(ones))


@pytest.mark.parametrize("technique", ["readout", "trex"])
def test_calibration_circuits_run_on_the_qubits_the_task_is_read_on(host, placed, technique):
    run(host, technique)
    [jobs] = placed
    task_qubits = jobs[0][2]
    assert sorted(task_qubits) == [1, 2, 3, 4]  # the chain needs qubit 4 of the T ...
    assert free_layout_of_a_calibration() == [0, 1, 2, 3]  # ... a calibration on its own does not
    followers = jobs[1:]
    # readout: the task and 2 calibrations; TREX: 8 twirls of the task and 8 of the empty circuit
    assert len(followers) == (2 if technique == "readout" else 15)
    assert all(layout_like == 0 and qubits == task_qubits for _, layout_like, qubits, _ in followers)


@pytest.mark.parametrize("technique", ["trex", "zne+readout"])
def test_a_routed_circuit_s_copies_and_calibrations_are_read_where_it_is_read(host, placed, technique):
    """A ring does not fit the T: routing moves qubits, so the task's qubits are read elsewhere than
    they start. Twirled and folded copies start where the task starts and are routed the same
    way; calibrations start where the task's qubits end."""
    ring = QuantumCircuit(4)
    ring.h(0)
    for a, b in [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)]:
        ring.cx(a, b)
    ring.measure_all()
    run(host, technique, circuit=ring, shots=2000)
    [jobs] = placed
    task_qubits = jobs[0][2]
    assert jobs[0][3] != task_qubits  # routing moved the task's qubits
    assert all(qubits == task_qubits for _, _, qubits, _ in jobs[1:])


def test_the_calibration_measures_the_readout_errors_of_the_task_s_qubits(host, placed):
    """Each logical qubit's calibrated error is the fake's published readout error of the physical
    qubit the task read it on (20000 shots: a standard error of about 0.002)."""
    run(host, "readout")
    [jobs] = placed
    target = backends.backend_for(backends.resources("ibmq_fake_lima", LIMA)[0], LIMA).target
    published = [target["measure"][(q,)].error for q in jobs[0][2]]
    from qtau.mitigation.readout import Assignment

    [cached] = [v for _, (_, v) in STORE._entries.items()]
    measured = Assignment.calibrate(cached[0], cached[1], 4).errors()
    assert measured == pytest.approx(published, abs=0.012)
    assert max(published) - min(published) > 0.03  # the qubits differ: a wrong layout would show


def _old_behaviour(monkeypatch):
    """Every job transpiled on its own and calibrations shared between circuits: before the fix."""
    monkeypatch.setattr(ex_module.SamplerExecutor, "follows_layout", False)
    monkeypatch.setattr(ex_module.SamplerExecutor, "_prepare_all",
                        lambda self, jobs: [self.prepare(j) for j in jobs])


@pytest.mark.parametrize("technique", ["readout", "trex"])
def test_the_mitigated_ghz_parity_error_is_lower_than_calibrating_elsewhere(host, placed, monkeypatch, technique):
    [after] = run(host, technique)
    STORE.clear()
    _old_behaviour(monkeypatch)
    [before] = run(host, technique)
    fixed, raw = parity_errors(after)
    old, _ = parity_errors(before)
    # Same seeds, 20000 shots: readout 0.057 against 0.118, TREX 0.053 against 0.110.
    assert fixed < 0.08 < 0.1 < old
    assert fixed < raw / 4


def test_a_calibration_is_kept_for_its_circuit_only(host, placed):
    """Another circuit may land on other qubits: it calibrates afresh; the same one reuses it."""
    other = QuantumCircuit(4)
    other.h(3)
    for i in (3, 2, 1):
        other.cx(i, i - 1)
    other.measure_all()
    with PilotComputeService(execution_engine="local", plugins=host) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": LIMA})
        results = [pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=c, shots=1000, mitigation="readout")))
                   for c in (ghz(4), other, ghz(4))]
    assert [report(r)["calibration"] for r in results] == ["fresh", "fresh", "cached"]
    for call in placed[:2]:
        assert {tuple(q) for _, like, q, _ in call if like is not None} == {tuple(call[0][2])}


def test_a_job_following_a_job_that_is_not_in_the_call_is_refused(host):
    res = backends.resources("ibmq_fake_lima", LIMA)[0]
    ex = ex_module.create_executor(res, LIMA)
    jobs = [CircuitJob("t", ghz(2), "qiskit", 10), CircuitJob("c", ghz(2), "qiskit", 10, layout_like=5)]
    with pytest.raises(InvalidTaskError) as err:
        ex.run(jobs)
    assert err.value.field == "layout_like" and err.value.value == 5
