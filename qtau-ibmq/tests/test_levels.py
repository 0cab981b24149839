"""optimization_level="auto" (issue 27 item 5): each level's transpiled circuit is weighed by its
estimated fidelity on the device's calibration (the fake backends' Targets), the best one runs,
and the outcome says which level ran and what each was estimated at."""

import math

import pytest
from qiskit import QuantumCircuit
from qtau.errors import ConfigurationError
from qtau.executor import CircuitJob
from qtau_ibmq import backends, levels
from qtau_ibmq.executor import create_executor


def executor(name, **config):
    res = backends.resources(f"ibmq_{name}", config)[0]
    return create_executor(res, config)


def ghz(n):
    qc = QuantumCircuit(n)
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    qc.measure_all()
    return qc


def test_the_estimate_is_the_product_over_the_circuit_as_it_runs():
    ex = executor("fake_lima", seed_transpiler=1)
    isa = ex.isa(ghz(3))
    target = ex.backend.target
    expected = 1.0
    for inst in isa.data:
        if inst.operation.name in ("barrier", "delay"):
            continue
        qargs = tuple(isa.find_bit(q).index for q in inst.qubits)
        props = target[inst.operation.name].get(qargs)
        expected *= 1 - ((props.error if props is not None else 0.0) or 0.0)
    assert levels.estimated_fidelity(isa, target) == pytest.approx(expected)
    assert 0.5 < expected < 1.0  # real calibration errors, readout included


def test_auto_runs_the_level_with_the_best_estimate_and_says_so():
    ex = executor("fake_lima", optimization_level="auto", seed_transpiler=1, seed_simulator=2)
    [out] = ex.run([CircuitJob("t", ghz(5), "qiskit", 300)])
    estimates = out.metadata["estimated_fidelity_by_level"]
    assert set(estimates) == {0, 1, 2, 3}
    chosen = out.metadata["optimization_level"]
    assert estimates[chosen] == max(estimates.values())
    assert chosen == min(level for level, f in estimates.items() if math.isclose(f, estimates[chosen]))
    fixed = executor("fake_lima", optimization_level=chosen, seed_transpiler=1)
    assert out.metadata["isa_depth"] == fixed.isa(ghz(5)).depth()
    assert sum(out.counts.values()) == 300


def test_a_fixed_level_reports_no_weighing():
    ex = executor("fake_lima", optimization_level=1, seed_transpiler=1)
    [out] = ex.run([CircuitJob("t", ghz(3), "qiskit", 100)])
    assert "optimization_level" not in out.metadata


def test_an_unknown_level_is_refused():
    with pytest.raises(ConfigurationError, match="'auto'"):
        executor("fake_lima", optimization_level="best")


# -- QDREAMER weighs the levels before the task runs (the `qtau_optimisation_levels` hook) ----------

def weighed_circuit(angle):
    """A GHZ chain of 4 with an rz of its own angle: a circuit no other test transpiled."""
    qc = QuantumCircuit(4)
    qc.h(0)
    qc.rz(angle, 0)
    for i in range(3):
        qc.cx(i, i + 1)
    qc.measure_all()
    return qc


def service(host, *pilots):
    from qtau.service import PilotComputeService

    pcs = PilotComputeService(execution_engine="local", plugins=host)
    for quantum in pilots:
        pcs.create_pilot({"resource_type": "quantum", "quantum": quantum})
    return pcs


def rows_by_resource(explanation):
    return {r.resource_id: r for r in explanation.rows}


def test_explain_shows_every_level_and_the_run_uses_the_chosen_one_without_transpiling_again(host, monkeypatch):
    from qtau import QuantumTask
    from qtau_ibmq import executor as ex_module

    circuit = weighed_circuit(0.123)
    with service(host, {"executor": "ibmq_fake_lima", "optimization_level": "auto", "seed_transpiler": 3,
                        "seed_simulator": 4}) as pcs:
        explanation = pcs.qdreamer.explain(QuantumTask(circuit=circuit, shots=200))
        row = rows_by_resource(explanation)["ibmq:fake_lima"]
        estimates = row.levels.by_level
        assert set(estimates) == {0, 1, 2, 3}
        assert estimates[row.levels.chosen] == max(estimates.values())
        assert row.fidelity == estimates[row.levels.chosen]  # QDREAMER ranks by the chosen level's estimate
        assert 0 < row.levels.fidelity and row.levels.fidelity <= row.levels.gate_fidelity < 1  # readout apart
        text = str(explanation)
        assert all(f"level {k}" in text for k in range(4)) and f"{estimates[row.levels.chosen]:.4f}*" in text

        transpiled = []
        real = ex_module.SamplerExecutor._transpiled

        def spy(self, circ, level):  # a spy: records, then runs the real transpilation
            transpiled.append(level)
            return real(self, circ, level)

        monkeypatch.setattr(ex_module.SamplerExecutor, "_transpiled", spy)
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=circuit, shots=200)))
    assert result.metadata["optimization_level"] == row.levels.chosen
    assert result.metadata["estimated_fidelity_by_level"] == pytest.approx(estimates)
    assert transpiled == []  # the run took the circuit QDREAMER's weighing transpiled
    assert sum(result.counts.values()) == 200


def test_a_fixed_level_and_a_plugin_without_the_hook_are_ranked_as_before(host):
    from qtau import QuantumTask
    from qtau.dreamer.ranking import fidelity

    circuit = weighed_circuit(0.456)
    with service(host, {"executor": "ibmq_fake_manila", "optimization_level": 2},
                 {"executor": "qiskit_local"}) as pcs:
        explanation = pcs.qdreamer.explain(QuantumTask(circuit=circuit, shots=100))
        summary, _ = pcs.qdreamer.summarize(QuantumTask(circuit=circuit, shots=100))
        candidates = pcs.qdreamer.candidates()
    rows = rows_by_resource(explanation)
    assert "ibmq:fake_manila" in rows and any(rid.startswith("qiskit:") for rid in rows)
    for rid, row in rows.items():
        assert row.levels is None
        assert row.fidelity == fidelity(candidates[rid].noise, summary)
    assert "optimisation level" not in str(explanation)


@pytest.mark.parametrize("fault", [RuntimeError("transpiler bug"), ConfigurationError("bad", field="f", value=1, fix="x"),
                                   {"not": "LevelEstimates"}])
def test_a_failing_hook_is_logged_and_the_resource_ranked_by_its_profile(fault, monkeypatch, caplog):
    """The fault is injected into the plugin's real weighing function (no other part is replaced)."""
    from qtau import QuantumTask
    from qtau.dreamer.ranking import fidelity
    from qtau.plugins import PluginHost
    from qtau_ibmq import executor as ex_module

    def broken(resource, config, circuit):
        if isinstance(fault, Exception):
            raise fault
        return fault

    monkeypatch.setattr(ex_module, "level_estimates", broken)
    lenient = PluginHost(strict=False)
    lenient.register_module("ibmq", "qtau_ibmq.plugin")
    lenient.register_module("qiskit", "qtau_qiskit.plugin")
    circuit = weighed_circuit(0.789)
    with caplog.at_level("WARNING"), service(lenient, {"executor": "ibmq_fake_lima", "optimization_level": "auto"}) as pcs:
        task = QuantumTask(circuit=circuit, shots=100)
        row = rows_by_resource(pcs.qdreamer.explain(task))["ibmq:fake_lima"]
        summary, _ = pcs.qdreamer.summarize(task)
        noise = pcs.qdreamer.candidates()["ibmq:fake_lima"].noise
    assert row.feasible and row.levels is None
    assert row.fidelity == fidelity(noise, summary)
    assert "qtau_optimisation_levels" in caplog.text
