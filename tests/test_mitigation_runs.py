"""Mitigated tasks end to end on noisy simulators that run here (issue 27 items 2 and 3): one
backend call per batch whatever the technique expands to, the report beside the unmitigated
counts, and the errors a technique gives for circuits it cannot rewrite.

The executors' `run` is wrapped by a counting spy that calls the real method (no part is faked):
the count is how many backend calls the plugin made."""

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.errors import MitigationError
from qtau.mitigation import expectation, mitigated_counts, parse_mitigation, plan, report
from qtau.mitigation.calibration import STORE, CalibrationStore
from qtau_test_circuits import classically_controlled, ghz

qiskit = pytest.importorskip("qiskit")
from qiskit import QuantumCircuit  # noqa: E402

NOISY_AER = {"resource_type": "quantum", "quantum": {
    "executor": "qiskit_local", "seed_simulator": 11,
    "noise": {"depolarizing_1q": 0.004, "depolarizing_2q": 0.04, "readout": 0.05}}}
FAKE = {"resource_type": "quantum", "quantum": {"executor": "ibmq_fake_manila", "seed_simulator": 5,
                                                "seed_transpiler": 3}}


@pytest.fixture
def spy(monkeypatch):
    calls = []

    def install(cls):
        real = cls.run

        def run(self, jobs):
            calls.append(len(jobs))
            return real(self, jobs)

        monkeypatch.setattr(cls, "run", run)
        return calls

    STORE.clear()
    yield install
    STORE.clear()


def service(description, **kwargs):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, **kwargs)
    pcs.create_pilot(description)
    return pcs


def test_a_zne_task_on_a_noisy_fake_is_one_backend_call(spy):
    pytest.importorskip("qiskit_ibm_runtime")
    from qtau_ibmq.executor import LocalSamplerExecutor

    calls = spy(LocalSamplerExecutor)
    with service(FAKE) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=ghz(), shots=2000, mitigation="zne")))
    assert calls == [3]  # the circuit at scales 1, 3 and 5, in one sampler job
    found = report(result)
    assert found["technique"] == "zne" and found["scale_factors"] == [1.0, 3.0, 5.0]
    assert found["overhead"] == {"circuits": 3, "shots_multiplier": 3.0}
    assert sum(result.counts.values()) == 2000  # the circuit as written, unmitigated
    assert found["unmitigated_probabilities"] == pytest.approx({k: n / 2000 for k, n in result.counts.items()})


def test_many_mitigated_tasks_go_out_as_one_batch(spy):
    from qtau_qiskit.simulators import QiskitSimulatorExecutor

    calls = spy(QiskitSimulatorExecutor)
    with service(NOISY_AER, batch_chunks=1) as pcs:
        tasks = [QuantumTask(circuit=ghz(n), shots=1000, mitigation="zne+readout") for n in (2, 3, 4)]
        results = pcs.get_results(pcs.submit_quantum_tasks(tasks))
    # 3 tasks x 3 scales, plus readout calibrations (2 per width, each calibrated once).
    assert calls == [3 * 3 + 2 * 3]
    assert [report(r)["calibration"] for r in results] == ["fresh"] * 3


def test_tasks_of_one_call_share_their_calibration(spy):
    """Three tasks of one width in one call run the readout calibration once: the later two read
    the first's (an Estimator pub's bases all need the same one, and on a device each is paid)."""
    from qtau_qiskit.simulators import QiskitSimulatorExecutor

    calls = spy(QiskitSimulatorExecutor)
    with service(NOISY_AER, batch_chunks=1) as pcs:
        tasks = [QuantumTask(circuit=ghz(3), shots=4000, mitigation="zne+readout") for _ in range(3)]
        results = pcs.get_results(pcs.submit_quantum_tasks(tasks))
    assert calls == [3 * 3 + 2]
    found = [report(r) for r in results]
    assert [f["calibration"] for f in found] == ["fresh", "shared", "shared"]
    assert [f["overhead"]["circuits"] for f in found] == [5, 3, 3]
    for f in found:  # every task corrected: GHZ's two outcomes nearer 1/2 each than unmitigated
        q = f["quasi_probabilities"]
        raw = f["unmitigated_probabilities"]
        assert abs(1 - q.get("000", 0) - q.get("111", 0)) < abs(1 - raw.get("000", 0) - raw.get("111", 0)) / 2


def test_a_local_burst_in_chunks_keeps_tasks_of_one_calibration_together(spy):
    """A burst split over two backend calls (the engine's parallel chunks) puts the tasks that
    can share a calibration in the same call: GHZ-3 and GHZ-2 submitted alternately run each
    width's calibration once, not once per call."""
    from qtau_qiskit.simulators import QiskitSimulatorExecutor

    calls = spy(QiskitSimulatorExecutor)
    with service(NOISY_AER, batch_chunks=2) as pcs:
        tasks = [QuantumTask(circuit=ghz(n), shots=1000, mitigation="readout") for n in (3, 2, 3, 2)]
        results = pcs.get_results(pcs.submit_quantum_tasks(tasks))
    assert sorted(calls) == [4, 4]  # per call: two tasks' circuits and one width's calibration (2)
    assert sorted(report(r)["calibration"] for r in results) == ["fresh", "fresh", "shared", "shared"]
    assert [len(next(iter(r.counts))) for r in results] == [3, 2, 3, 2]  # each result its own task's


def test_a_shared_calibration_needs_the_recipe_that_ran_it():
    store, batch = CalibrationStore(), set()
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'
    m = parse_mitigation("readout")
    first, first_recipe = plan.build(m, text, 100, ["r", "s"], store, batch=batch)
    second, second_recipe = plan.build(m, text, 100, ["r", "s"], store, batch=batch)
    assert (len(first), len(second)) == (3, 1) and second_recipe["calibration"]["shared"]
    runs = [{"00": 50, "11": 50}, {"00": 95, "01": 5}, {"11": 90, "10": 10}]
    with pytest.raises(MitigationError):
        plan.finish(second_recipe, runs[:1], store)  # finished alone, out of its call
    made = {}
    _, one = plan.finish(first_recipe, runs, store, made=made)
    _, two = plan.finish(second_recipe, runs[:1], CalibrationStore(), made=made)
    assert one["quasi_probabilities"] == two["quasi_probabilities"] and two["calibration"] == "shared"


def test_readout_mitigation_removes_readout_error():
    description = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "seed_simulator": 3,
                                                           "noise": {"readout": 0.08}}}
    with service(description) as pcs:
        qc = QuantumCircuit(3)
        qc.x(0)
        qc.measure_all()
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=20000, mitigation="readout")))
        again = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=20000, mitigation="readout")))
    probs = report(result)["quasi_probabilities"]
    assert result.get_probabilities()["001"] < 0.9  # three bits, each read wrong 8% of the time
    assert probs["001"] == pytest.approx(1.0, abs=0.02)
    mitigated, raw = expectation(result, "ZZZ")
    assert abs(mitigated + 1) < abs(raw + 1) / 5
    assert report(again)["calibration"] == "cached"
    assert report(again)["overhead"]["circuits"] == 1


def test_trex_and_zne_improve_a_ghz_parity():
    with service(NOISY_AER) as pcs:
        out = {}
        for technique in ("trex", "zne+trex"):
            result = pcs.get_result(pcs.submit_quantum_task(
                QuantumTask(circuit=ghz(3), shots=8000, mitigation={"technique": technique, "seed": 1})))
            out[technique] = expectation(result, "ZZI")
    for mitigated, raw in out.values():
        assert abs(1 - mitigated) < abs(1 - raw) / 2


def test_results_without_mitigation_carry_no_report():
    with service(NOISY_AER) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=ghz(2), shots=100)))
    assert report(result) is None
    assert expectation(result, "ZZ")[0] == expectation(result, "ZZ")[1]


def test_a_circuit_zne_cannot_fold_fails_with_the_reason():
    qc = QuantumCircuit(1, 2)
    qc.h(0)
    qc.measure(0, 0)
    qc.h(0)
    qc.measure(0, 1)
    with service(NOISY_AER) as pcs:
        with pytest.raises(MitigationError) as err:
            pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, mitigation="zne")))
    assert "measure" in str(err.value) and err.value.fix
    # Readout mitigation does not rewrite gates: the same circuit runs.
    with service(NOISY_AER) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, mitigation="readout")))
    assert report(result)["technique"] == "readout"


def test_a_simulator_without_a_layout_shares_one_calibration_between_circuits(spy, monkeypatch):
    """Core marks the calibration circuits to follow the task's layout (`layout_like`); an executor
    that lays nothing out ignores that, and its calibration is reused by another circuit. The
    executor's `run` is wrapped by a spy recording the jobs' `layout_like`, then the real run."""
    from qtau_qiskit.simulators import QiskitSimulatorExecutor

    seen = []
    real = QiskitSimulatorExecutor.run

    def recording(self, jobs):
        seen.append([job.layout_like for job in jobs])
        return real(self, jobs)

    monkeypatch.setattr(QiskitSimulatorExecutor, "run", recording)
    assert not QiskitSimulatorExecutor.follows_layout
    other = QuantumCircuit(3)
    other.x(2)
    other.measure_all()
    with service(NOISY_AER) as pcs:
        results = [pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=c, shots=500, mitigation="readout")))
                   for c in (ghz(3), other)]
    assert [report(r)["calibration"] for r in results] == ["fresh", "cached"]
    assert seen == [[None, 0, 0], [None]]


@pytest.mark.parametrize("executor", ["qiskit_local", "braket_local", "pennylane_lightning"])
@pytest.mark.parametrize("technique", ["readout", "trex", "zne+readout", "zne+trex"])
def test_quasi_probabilities_are_keyed_like_the_counts_when_bits_are_left_unwritten(executor, technique):
    """c[3] and c[1] written, c[0] and c[2] not: Braket and PennyLane read only the written bits,
    and the report's quasi-probabilities (and `mitigated_counts`, `expectation`) were keyed over
    those two bits padded at the wrong end ('0001' where the counts said '1000'). TREX refused the
    circuit everywhere: it twirled the unwritten bits too, whose calibration then had no signal."""
    pytest.importorskip({"braket_local": "braket.devices", "pennylane_lightning": "pennylane"}.get(executor, "qiskit"))
    qc = QuantumCircuit(2, 4)
    qc.x(0)
    qc.measure(0, 3)
    qc.measure(1, 1)
    with service({"resource_type": "quantum", "quantum": {"executor": executor}}) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=500, mitigation=technique)))
    assert result.get_counts() == {"1000": 500}
    assert report(result)["quasi_probabilities"] == pytest.approx({"1000": 1.0})
    assert report(result)["unmitigated_probabilities"] == {"1000": 1.0}
    assert mitigated_counts(result) == {"1000": 500}
    assert expectation(result, "ZIII") == pytest.approx((-1.0, -1.0))


MID_CIRCUIT = {
    # x; measure -> c0; x; measure -> c1 on one qubit: '01'
    "measured twice": 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[2];\nx q[0];\n'
                      'measure q[0] -> c[0];\nx q[0];\nmeasure q[0] -> c[1];\n',
    # x; measure -> c0; reset; cx onto q1; measure q1 -> c1: '01'
    "measured then reset": 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[0];\n'
                           'measure q[0] -> c[0];\nreset q[0];\ncx q[0],q[1];\nmeasure q[1] -> c[1];\n',
}


@pytest.mark.parametrize("technique", ["readout", "trex"])
@pytest.mark.parametrize("case", sorted(MID_CIRCUIT))
def test_a_measurement_before_the_end_stays_where_it_was(case, technique):
    """Readout correction and TREX used to write every measurement at the end: 'measured twice'
    and 'measured then reset' both read '00' (a silent wrong answer); TREX also refused the first
    (its twirl of the first reading was not undone before the second). Noisy readout (5%), so the
    correction has something to do."""
    description = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "seed_simulator": 3,
                                                           "noise": {"readout": 0.05}}}
    with service(description) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=MID_CIRCUIT[case], shots=4000,
                                                                    mitigation=technique)))
    assert max(result.counts, key=result.counts.get) == "01"
    assert report(result)["quasi_probabilities"]["01"] == pytest.approx(1.0, abs=0.04)
    assert result.get_probabilities()["01"] < 0.95  # the readout noise was there to correct


IF_PROGRAM = ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[0];\nmeasure q[0] -> c[0];\n'
              'if(c==1) x q[1];\nmeasure q[1] -> c[1];\n')


def test_trex_refuses_a_circuit_that_branches_on_a_measured_bit_and_auto_never_offers_it():
    """A twirl flips the bit the `if` reads: TREX gave '01' half the time where the circuit always
    gives '11'. Readout correction runs it as written; "auto" ranks only techniques that can run it."""
    with service({"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "seed_simulator": 3}}) as pcs:
        with pytest.raises(MitigationError) as refused:
            pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=IF_PROGRAM, shots=500, mitigation="trex")))
        corrected = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=IF_PROGRAM, shots=500,
                                                                       mitigation="readout")))
        offered = {pair.technique for pair in pcs.qdreamer.explain(
            QuantumTask(circuit=IF_PROGRAM, shots=500, mitigation="auto")).pairs.pairs}
    assert "if(c==1)" in str(refused.value) and refused.value.field == "mitigation"
    assert corrected.get_counts() == {"11": 500}
    assert "readout" in offered and not any("trex" in t or "zne" in t for t in offered)


@pytest.mark.parametrize("shots", [2500, 5])
def test_trex_runs_exactly_the_tasks_shots(shots):
    """The twirls share the shots out exactly: 2500 over 8 twirls ran 2496 (so the Estimator, at a
    precision that asks 2500, refused the result as a backend's bug), and 5 shots ran 8."""
    assert sum(plan.split_shots(shots, 8)) == shots and len(plan.split_shots(shots, 8)) == min(8, shots)
    with service({"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "seed_simulator": 3}}) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=ghz(3), shots=shots, mitigation="trex")))
    assert sum(result.counts.values()) == shots
    assert report(result)["overhead"]["shots_multiplier"] == 2.0  # the twirls, then their calibration


def test_the_estimator_runs_trex_at_a_precision_whose_shots_the_twirls_do_not_divide():
    from qiskit.quantum_info import SparsePauliOp
    from qtau_qiskit.primitives import QtauEstimator

    qc = QuantumCircuit(3)
    qc.x(0)
    qc.x(2)
    with service({"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "seed_simulator": 3,
                                                          "noise": {"readout": 0.03}}}) as pcs:
        pub = QtauEstimator(service=pcs, mitigation="trex", seed=1).run(
            [(qc, SparsePauliOp(["IIZ", "ZZI", "ZIZ"]))], precision=0.02).result()[0]
    assert pub.metadata["shots"] == 2500
    assert float(pub.data.evs) == pytest.approx(-1.0, abs=0.03)  # -1 - 1 + 1, read through 3% errors


def test_a_circuit_beyond_openqasm_2_is_told_so_not_told_to_install_a_writer():
    """A Qiskit `if_test` on one bit cannot be written as OpenQASM 2, though the qiskit plugin writes
    Qiskit circuits: the error said no plugin writes Qiskit and told the user to pass Qiskit."""
    qc = classically_controlled()
    with service({"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "seed_simulator": 3}}) as pcs:
        with pytest.raises(MitigationError) as err:
            pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=100, mitigation="readout")))
        plain = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=100)))
    assert "cannot be written in it" in str(err.value) and "register-equality" in str(err.value)
    assert "no installed plugin" not in str(err.value) and "mitigation='none'" in err.value.fix
    assert set(plain.counts) <= {"00", "11"}  # the circuit itself runs


@pytest.mark.parametrize("technique", ["readout", "trex"])
def test_a_circuit_that_initializes_a_qubit_is_readout_corrected(technique):
    """`initialize` resets its qubits, then prepares them: no gate. `qasm2.dumps` wrote it as a `gate`
    whose body holds `reset`, which no reader takes (Qiskit's own refused it), so readout correction,
    which "runs any circuit", failed the task with a CircuitConversionError."""
    qc = QuantumCircuit(2, 2)
    qc.initialize([0, 1], [0])  # |1> on qubit 0
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    description = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "seed_simulator": 3,
                                                           "noise": {"readout": 0.05}}}
    with service(description) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=4000, mitigation=technique)))
    assert max(result.counts, key=result.counts.get) == "11"
    assert report(result)["quasi_probabilities"]["11"] == pytest.approx(1.0, abs=0.04)
