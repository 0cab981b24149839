"""QDREAMER and mitigation (issue 27 item 3): predicted error per (resource, technique) pair from
the noise profile, overhead priced into rankings and quotes before anything is sent, `explain()`
showing the pairs, and what "auto" chooses (including no mitigation where it only adds noise).
The `scripted` test plugin reports the noise and prices it is given; Aer runs with real noise."""

import math

import pytest
from qtau import ExecutionEngine, NoSuitableResourceError, PilotComputeService, QuantumTask
from qtau.mitigation import report
from qtau.mitigation.choice import RESIDUAL, predict
from qtau.mitigation.extrapolation import richardson_weights
from qtau.mitigation_options import parse_mitigation
from qtau.types import CircuitSummary, NoiseProfile
from qtau_test_circuits import ghz

pytest.importorskip("qiskit")

SUMMARY = CircuitSummary(num_qubits=3, gate_counts={"h": 1, "cx": 2, "measure": 3}, num_measured=3)
NOISE = NoiseProfile("r", one_qubit_error=0.001, two_qubit_error=0.02, readout_error=0.03)


def noisy(name, p2, readout):
    return {"resource_type": "quantum", "quantum": {
        "executor": "qiskit_local", "seed_simulator": 2,
        "noise": {"depolarizing_1q": p2 / 10, "depolarizing_2q": p2, "readout": readout}}, "name": name}


def test_predicted_bias_follows_each_technique_exactly():
    fid = (1 - 0.001) * (1 - 0.02) ** 2
    kept = (1 - 2 * 0.03) ** 3
    bias, stat = predict(NOISE, SUMMARY, parse_mitigation("none"), 1000)
    assert bias == pytest.approx(1 - fid * kept)
    assert stat == pytest.approx(math.sqrt(1 / 1000))  # a +-1 outcome's variance at its bound, 1
    bias, _ = predict(NOISE, SUMMARY, parse_mitigation("readout"), 1000)
    assert bias == pytest.approx(1 - fid * (1 - RESIDUAL["readout"] * (1 - kept)))
    bias, stat = predict(NOISE, SUMMARY, parse_mitigation("zne"), 1000)
    w = richardson_weights([1, 3, 5])
    assert bias == pytest.approx(abs(1 - kept * sum(wi * fid ** s for wi, s in zip(w, [1, 3, 5], strict=True))))
    variance = sum(wi ** 2 for wi in w)  # each scale's variance at its bound, weighted by the fit
    assert stat == pytest.approx(math.sqrt(variance / 1000))
    # Routing: SWAPs the device needs count as three two-qubit gates each.
    routed, _ = predict(NOISE, SUMMARY, parse_mitigation("none"), 1000, routed=3)
    assert routed == pytest.approx(1 - fid * (1 - 0.02) ** 3 * kept)


def test_no_noise_means_no_bias_and_mitigation_only_adds_spread():
    for technique in ("none", "readout", "zne", "zne+trex"):
        bias, _ = predict(None, SUMMARY, parse_mitigation(technique), 1000)
        assert bias == pytest.approx(0.0)
    assert predict(None, SUMMARY, parse_mitigation("zne"), 1000)[1] > predict(None, SUMMARY, parse_mitigation("none"), 1000)[1]


def test_auto_runs_unmitigated_where_mitigation_only_adds_noise():
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=ghz(3), shots=500, mitigation="auto")))
    found = report(result)
    assert found["technique"] == "none" and found["auto"] is True
    assert found["overhead"] == {"circuits": 1, "shots_multiplier": 1.0}


def test_auto_chooses_the_device_and_technique_together():
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot(noisy("bad", 0.08, 0.08))
        pcs.create_pilot(noisy("fair", 0.02, 0.03))
        task = QuantumTask(circuit=ghz(3), shots=4000, mitigation="auto")
        explanation = pcs.qdreamer.explain(task)
        table = explanation.pairs
        assert {p.technique for p in table.pairs} == {"none", "readout", "trex", "zne", "zne+readout", "zne+trex"}
        assert len(table.pairs) == 12
        assert "mitigation pairs" in str(explanation) and "zne+trex" in str(explanation)
        best = table.chosen
        assert best.resource_id.endswith("fair") and best.technique.startswith("zne")
        result = pcs.get_result(pcs.submit_quantum_task(task))
    assert result.resource_id == best.resource_id
    assert report(result)["technique"] == best.technique and report(result)["auto"] is True


SCRIPTED = {"resource_type": "quantum", "quantum": {"executor": "scripted", "resources": [
    {"name": "qpu", "per_task": 0.3, "per_shot": 0.001, "two_qubit_error": 0.02, "readout_error": 0.03}]}}


def test_quote_prices_the_overhead_before_anything_is_sent():
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot(SCRIPTED)
        base = pcs.quote(QuantumTask(circuit=ghz(2), shots=1000)).tasks[0].price
        zne = pcs.quote(QuantumTask(circuit=ghz(2), shots=1000, mitigation="zne")).tasks[0].price
        both = pcs.quote(QuantumTask(circuit=ghz(2), shots=1000, mitigation="zne+readout")).tasks[0].price
        assert base == pytest.approx(0.3 + 1.0)
        assert zne == pytest.approx(3 * base)  # three circuits, each with the task's shots
        assert both == pytest.approx(5 * base)
        # What the task is charged is the price with the overhead.
        charged = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=ghz(2), shots=1000, mitigation="zne")))
        assert charged.cost == pytest.approx(zne) and report(charged)["technique"] == "zne"
        # A cost ceiling the overhead breaks is refused before anything runs, naming the price.
        with pytest.raises(NoSuitableResourceError):
            pcs.submit_quantum_task(QuantumTask(circuit=ghz(2), shots=1000, mitigation="zne", max_cost=2.0))
        # "auto" under the same ceiling chooses a pair that fits it.
        auto = QuantumTask(circuit=ghz(2), shots=1000, mitigation="auto", max_cost=2.0)
        assert all(p.cost <= 2.0 for p in pcs.qdreamer.explain(auto).pairs.pairs)
        assert pcs.quote(auto).tasks[0].price <= 2.0


def test_pairs_learn_the_readout_error_a_calibration_measured():
    """The scripted resource's profile says 3% readout error; it runs noiselessly, so its first
    readout calibration measures 0 and later predictions use that."""
    from qtau.mitigation.calibration import STORE

    STORE.clear()
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot(SCRIPTED)
        task = QuantumTask(circuit=ghz(2), shots=1000, mitigation="readout")
        [before] = pcs.qdreamer.explain(task).pairs.pairs
        assert before.readout_source == "profile"
        pcs.get_result(pcs.submit_quantum_task(task))
        explained = pcs.qdreamer.explain(task).pairs
    STORE.clear()
    [after] = explained.pairs
    assert after.readout_source == "observed (1 calibrations)" and "observed" in str(explained)
    assert after.statistical < before.statistical  # no readout gain to pay for any more
