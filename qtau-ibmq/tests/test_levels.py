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
