"""QDREAMER's choice under each policy, per-task overrides, constraints and rejection reasons.

Resources come from the real `scripted` test plugin, loaded through its entry point; tasks really
run on Qiskit's BasicSimulator behind it, so the chosen resource is the one that produced counts.
"""

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.errors import ConfigurationError, NoSuitableResourceError
from qtau_scripted import state
from qtau_scripted.testing import pilot, resource
from qtau_test_circuits import bell

# Bell circuit: 1 one-qubit gate, 1 two-qubit gate, 2 readouts, 1000 shots.
PRECISE = resource("precise", two_qubit_error=0.001, readout_error=0.001, queue_wait_s=600, per_shot=0.001)
FAST = resource("fast", two_qubit_error=0.1, readout_error=0.1, queue_wait_s=0, per_shot=0.0005)
CHEAP = resource("cheap", two_qubit_error=0.05, readout_error=0.05, queue_wait_s=120, per_shot=0.0001)


#: The scripted plugin's script (tests/conftest.py::clean_script) is empty before and after each test.
pytestmark = pytest.mark.usefixtures("clean_script")



@pytest.fixture
def pcs(plugins):
    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    service.create_pilot(pilot(PRECISE, FAST, CHEAP))
    yield service
    service.close()


@pytest.mark.parametrize(
    "mode,expected",
    [
        ("high_fidelity", "scripted:precise"),
        ("high_speed", "scripted:fast"),
        ("low_cost", "scripted:cheap"),
        ("balanced", "scripted:fast"),
    ],
)
def test_each_policy_picks_its_resource_and_the_task_runs_there(pcs, mode, expected):
    pcs.initialize_dreamer({"optimization_mode": mode})
    task = QuantumTask(circuit=bell())
    table = pcs.qdreamer.explain(task)
    assert table.chosen.resource_id == expected
    result = pcs.get_result(pcs.submit_quantum_task(task), timeout=60)
    assert result.resource_id == expected
    assert set(result.counts) == {"00", "11"} and sum(result.counts.values()) == 1000
    assert state.runs[expected] == 1


def test_per_task_policy_overrides_the_service_mode(pcs):
    pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
    assert pcs.qdreamer.explain(QuantumTask(circuit=bell())).chosen.resource_id == "scripted:precise"
    assert pcs.qdreamer.explain(QuantumTask(circuit=bell(), policy="low_cost")).chosen.resource_id == "scripted:cheap"
    custom = QuantumTask(circuit=bell(), policy={"speed": 3, "cost": 1})
    table = pcs.qdreamer.explain(custom)
    assert table.policy == {"fidelity": 0.0, "speed": 0.75, "cost": 0.25}
    assert table.chosen.resource_id == "scripted:fast"


def test_custom_weights_in_the_service_config(pcs):
    pcs.initialize_dreamer({"weights": {"cost": 1}})
    assert pcs.qdreamer.explain(QuantumTask(circuit=bell())).chosen.resource_id == "scripted:cheap"
    pcs.initialize_dreamer({"weights": {"fidelity": 1}})
    assert pcs.qdreamer.explain(QuantumTask(circuit=bell())).chosen.resource_id == "scripted:precise"


def test_explain_terms_are_the_scripted_values(pcs):
    table = pcs.qdreamer.explain(QuantumTask(circuit=bell()))
    rows = {r.resource_id: r for r in table.rows}
    # fidelity = (1 - e2) * (1 - readout)^2 for one h (error 0), one cx and two readouts.
    assert rows["scripted:precise"].fidelity == pytest.approx(0.999 * 0.999**2)
    assert rows["scripted:fast"].fidelity == pytest.approx(0.9 * 0.9**2)
    # wait = provider queue + estimated run (a QPU default: 2 s + 1 ms per shot); cost = per_shot * shots.
    assert rows["scripted:cheap"].wait_s == pytest.approx(120 + 3.0)
    assert rows["scripted:precise"].cost == pytest.approx(1.0)
    assert all(r.feasible and r.path == ("qiskit",) for r in table.rows)
    assert [r.score for r in table.rows] == sorted((r.score for r in table.rows), reverse=True)
    dicts = table.to_dicts()
    assert {"resource_id", "feasible", "reason", "fidelity", "wait_s", "cost", "score", "penalty"} <= set(dicts[0])
    text = str(table)
    assert "scripted:precise" in text and "fidelity" in text and "score" in text


def test_task_constraints_max_cost_min_fidelity_deadline(pcs):
    pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
    assert pcs.qdreamer.explain(QuantumTask(circuit=bell(), max_cost=0.6)).chosen.resource_id == "scripted:cheap"
    assert pcs.qdreamer.explain(QuantumTask(circuit=bell(), deadline=60)).chosen.resource_id == "scripted:fast"
    table = pcs.qdreamer.explain(QuantumTask(circuit=bell(), min_fidelity=0.8, policy="high_speed"))
    assert table.chosen.resource_id == "scripted:cheap"
    assert "below min_fidelity 0.8" in {r.resource_id: r.reason for r in table.rows}["scripted:fast"]


def test_every_rejected_candidate_has_its_reason(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(
            resource("small", qubits=1),
            resource("down", online=False),
            resource("braket_only", formats=["braket"]),
            resource("pricey", per_shot=1.0),
            resource("noisy", two_qubit_error=0.5),
            resource("native_only", transpiles=False, native_gates=["rz", "sx", "ecr"]),
            resource("slow", queue_wait_s=1000),
        ))
        task = QuantumTask(circuit=bell(), max_cost=10, min_fidelity=0.9, deadline=100)
        with pytest.raises(NoSuitableResourceError) as info:
            pcs.submit_quantum_task(task)
        why = info.value.rejections
        assert why["scripted:small"] == "needs 2 qubits, has 1"
        assert why["scripted:down"].startswith("offline")
        assert why["scripted:braket_only"] == (
            "no conversion path from qiskit to braket (qtau-braket is installed but not loaded by this "
            "plugin host (see `qtau plugins`, QTAU_PLUGINS, QTAU_BLOCK_PLUGINS; in qtau.testing, "
            "companion_plugins))")
        assert why["scripted:pricey"] == "costs 1000 USD, over max_cost 10"
        assert why["scripted:noisy"].startswith("estimated fidelity 0.500 below min_fidelity 0.9")
        assert why["scripted:native_only"] == "gates cx, h are not native (ecr, rz, sx) and it does not transpile"
        assert why["scripted:slow"].startswith("expected completion 1e+03 s is past the deadline of 100 s")
        for rid in why:
            assert rid in str(info.value)
        # explain shows the same reasons as data, and no task was counted in flight.
        rows = {r.resource_id: r for r in pcs.qdreamer.explain(task).rows}
        assert not any(r.feasible for r in rows.values())
        assert rows["scripted:small"].reason == why["scripted:small"]
        assert set(pcs.qdreamer.in_flight().values()) == {0}


def test_a_candidate_with_several_problems_lists_them_all(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(resource("bad", qubits=1, online=False), resource("good")))
        row = next(r for r in pcs.qdreamer.explain(QuantumTask(circuit=bell())).rows if r.resource_id == "scripted:bad")
        assert row.reason == "needs 2 qubits, has 1; offline: scripted offline"


@pytest.mark.parametrize(
    "config,field,listed",
    [
        ({"optimization_mode": "fastest"}, "optimization_mode", "high_fidelity, high_speed, low_cost, balanced"),
        ({"weights": {"speed": -1}}, "weights", "fidelity, speed, cost"),
        ({"max_attempts": 0}, "max_attempts", "max_attempts=3"),
        ({"cache_ttl_seconds": "30"}, "cache_ttl_seconds", "cache_ttl_seconds=30.0"),
        ({"cache_ttl": 30}, "cache_ttl", "optimization_mode, weights, cache_ttl_seconds, max_attempts"),
    ],
)
def test_invalid_config_lists_valid_values(pcs, config, field, listed):
    with pytest.raises(ConfigurationError) as info:
        pcs.initialize_dreamer(config)
    assert info.value.field == field and listed in str(info.value)


def test_invalid_task_policy_lists_modes(pcs):
    with pytest.raises(ConfigurationError, match="high_fidelity, high_speed, low_cost, balanced"):
        pcs.submit_quantum_task(QuantumTask(circuit=bell(), policy="cheapest"))
    assert set(pcs.qdreamer.in_flight().values()) == {0}


def test_report_errors_reject_the_candidate_and_are_not_asked_every_task(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(resource("broken", report_error="noise"), resource("fine", queue_wait_s=50)))
        for _ in range(5):
            table = pcs.qdreamer.explain(QuantumTask(circuit=bell()))
        rows = {r.resource_id: r for r in table.rows}
        assert table.chosen.resource_id == "scripted:fine"
        assert rows["scripted:broken"].reason.startswith("noise report failed: PluginError")
        assert state.calls[("scripted:broken", "noise")] == 1


def test_high_fidelity_prefers_fewer_errors_over_a_fast_free_noisy_simulator(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {
            "executor": "qiskit_local", "backend": "aer_simulator",
            "noise": {"depolarizing_1q": 0.001, "depolarizing_2q": 0.02, "readout": 0.03}}})
        pcs.create_pilot(pilot(resource("qpu", queue_wait_s=1800, two_qubit_error=0.004, readout_error=0.01,
                                        per_task=0.3, per_shot=0.00035)))
        pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
        table = pcs.qdreamer.explain(QuantumTask(circuit=bell()))
        rows = {r.resource_id: r for r in table.rows}
        assert table.chosen.resource_id == "scripted:qpu"
        # score = fidelity^0.8 x speed^0.1 x cost^0.1; the simulator is the fastest and cheapest
        # (free against priced counts as half the price), so only its fidelity term is below 1:
        # 0.02 / (0.02 + the points it is below the QPU).
        points = rows["scripted:qpu"].fidelity - rows["qiskit:aer_simulator_noisy"].fidelity
        assert rows["qiskit:aer_simulator_noisy"].score == pytest.approx((0.02 / (0.02 + points)) ** 0.8)
        speed = (rows["qiskit:aer_simulator_noisy"].wait_s + 1) / (rows["scripted:qpu"].wait_s + 1)
        assert rows["scripted:qpu"].score == pytest.approx(speed ** 0.1 * 0.5 ** 0.1)
        pcs.initialize_dreamer({"optimization_mode": "high_speed"})
        assert pcs.qdreamer.explain(QuantumTask(circuit=bell())).chosen.resource_id == "qiskit:aer_simulator_noisy"


@pytest.mark.parametrize("deadline", [None, 200, 650])
@pytest.mark.parametrize("policy", ["balanced", "high_fidelity", {"speed": 1, "cost": 2}])
def test_place_follows_the_explained_ranking(pcs, policy, deadline):
    pcs.initialize_dreamer({"max_attempts": 3})
    pcs.qdreamer.task_started("scripted:fast", 2)
    task = QuantumTask(circuit=bell(), policy=policy, deadline=deadline)
    feasible = [r.resource_id for r in pcs.qdreamer.explain(task).rows if r.feasible]
    assert [p.resource.id for p in pcs.qdreamer.place(task)] == feasible
    if deadline == 200:
        assert "scripted:precise" not in feasible
    pcs.qdreamer.task_finished("scripted:fast")
    pcs.qdreamer.task_finished("scripted:fast")
