"""QDREAMER's mitigation pairs learn how a resource's gates ran (issue 27 item 3): a ZNE run's
measured circuit fidelity, against what the profile predicts for the gates as they ran, scales the
profile's gate infidelity for that resource. Aer runs with real noise; no mocks."""

import math

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.mitigation import report
from qtau.mitigation.calibration import STORE
from qtau.mitigation.choice import gate_scale
from qtau.mitigation.plan import observed_fidelity
from qtau.types import NoiseProfile
from qtau_test_circuits import ghz

NOISE = NoiseProfile("r", one_qubit_error=0.001, two_qubit_error=0.02, readout_error=0.03)


def test_observed_fidelity_reads_the_decay_and_ignores_what_does_not_scale():
    zero = {"00": 0.5, "11": 0.5}
    uniform = 0.25

    def at(scale, fidelity, spam):  # the distribution's distance from uniform shrinks as spam * F^s
        a = spam * fidelity ** scale
        return {k: uniform + a * (v - uniform) for k, v in {**zero, "01": 0.0, "10": 0.0}.items()}

    for spam in (1.0, 0.8):
        dists = [at(s, 0.9, spam) for s in (1, 3, 5)]
        assert observed_fidelity([1, 3, 5], dists, 2) == pytest.approx(0.9)
    assert observed_fidelity([1, 3], [{"0": 0.5, "1": 0.5}] * 2, 1) is None  # no signal: uniform


def test_gate_scale_is_the_median_ratio_over_runs_that_witness_the_gates():
    cx4 = {"cx": 4}  # the profile predicts 0.98**4
    predicted = 0.98 ** 4
    runs = [(predicted ** k, cx4, cx4) for k in (0.4, 0.5, 3.0)]
    scale, label = gate_scale(NOISE, runs, optimising=False)
    assert scale == pytest.approx(0.5) and label == "observed (x0.50, 3 runs)"
    # A mirror circuit on an optimising resource runs no gates: it witnesses nothing there.
    mirror = [(0.999, {"cx": 8}, {})]
    assert gate_scale(NOISE, mirror, optimising=True) == (1.0, "profile")
    assert gate_scale(NOISE, mirror, optimising=False)[0] == pytest.approx(0.2)  # clamped
    assert gate_scale(NOISE, [], optimising=False) == (1.0, "profile")


def test_a_zne_run_teaches_the_pairs_how_the_gates_ran():
    """Aer's depolarising channel of rate p leaves 1/4 (one qubit) or 1/16 (two) of the state as
    it was, so the circuit decays by less than the profile's p per gate: after a ZNE run there the
    pairs predict a smaller gate bias, and say they learned it."""
    pytest.importorskip("qiskit")
    STORE.clear()
    try:
        with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
            pcs.create_pilot({"resource_type": "quantum", "quantum": {
                "executor": "qiskit_local", "seed_simulator": 5,
                "noise": {"depolarizing_1q": 0.004, "depolarizing_2q": 0.04, "readout": 0.03}}})
            task = QuantumTask(circuit=ghz(3), shots=8000, mitigation="readout")
            [before] = pcs.qdreamer.explain(task).pairs.pairs
            ran = pcs.get_result(pcs.submit_quantum_task(
                QuantumTask(circuit=ghz(3), shots=8000, mitigation="zne+readout")))
            [after] = pcs.qdreamer.explain(task).pairs.pairs
    finally:
        STORE.clear()
    assert report(ran)["technique"] == "zne+readout"
    assert before.gates_source == "profile" and after.gates_source.startswith("observed (x")
    scale = float(after.gates_source.split("x")[1].split(",")[0])
    assert 0.4 < scale < 1.0 and after.bias < before.bias
    assert not math.isclose(after.bias, before.bias)


def test_local_spread_is_the_mean_variance_of_one_and_two_qubit_z_strings():
    from qtau.mitigation.distributions import local_spread

    # GHZ(3): <Z_i> = 0 (variance 1), <Z_i Z_j> = 1 (variance 0): three of each.
    assert local_spread({"000": 0.5, "111": 0.5}, 3) == pytest.approx(0.5)
    assert local_spread({"00": 400, "00 ": 0, "11": 0}, 2) == pytest.approx(0.0)  # counts; |0..0>: all +1
    assert local_spread({"0": 0.5, "1": 0.5}, 1) == pytest.approx(1.0)
    # A quasi-probability's overshoot is clipped: no variance below 0.
    assert local_spread({"0": 1.1, "1": -0.1}, 1) == pytest.approx(0.0)
    assert local_spread({}, 2) is None and local_spread({"0": 1.0}, 0) is None


def test_a_mitigated_run_teaches_the_pairs_the_circuits_shot_noise():
    """A GHZ state's ZZ terms are near +-1 and its Z terms 0: the local spread a readout-corrected
    run measures is about 1/2, and the pairs' statistical error for that circuit shrinks by about
    sqrt(1/2) from the bound; another circuit keeps the bound. Aer runs with real noise; no mocks."""
    pytest.importorskip("qiskit")
    STORE.clear()
    noise = {"depolarizing_1q": 0.001, "depolarizing_2q": 0.01, "readout": 0.02}
    try:
        with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
            pcs.create_pilot({"resource_type": "quantum", "quantum": {
                "executor": "qiskit_local", "seed_simulator": 5, "noise": noise}})
            task = QuantumTask(circuit=ghz(3), shots=8000, mitigation="readout")
            [before] = pcs.qdreamer.explain(task).pairs.pairs
            pcs.get_result(pcs.submit_quantum_task(task))
            [after] = pcs.qdreamer.explain(task).pairs.pairs
            [other] = pcs.qdreamer.explain(QuantumTask(circuit=ghz(4), shots=8000, mitigation="readout")).pairs.pairs
    finally:
        STORE.clear()
    assert before.spread_source == "bound" and other.spread_source == "bound"
    seen = float(after.spread_source.split("(")[1].rstrip(")"))
    assert 0.4 < seen < 0.6
    # The shot-noise part scales by sqrt(spread); the readout calibration's own noise is the same.
    assert after.statistical < before.statistical * 0.8
    assert after.bias == pytest.approx(before.bias, rel=0.2)
