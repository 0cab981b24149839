"""A simulator's executor makes its transpiler once, with itself, not per circuit (real Aer and
BasicSimulator).

`qiskit.transpile(circuit, AerSimulator(), ...)` builds a preset pass manager on every call, which
for Aer cost about 83 ms here before any pass ran: every circuit with a library gate Aer lacks
(QFTGate, a random circuit's c3sx) paid it on every run. The executor makes one when it is made
(the cold call QDREAMER learns apart); the spy below wraps Qiskit's real function to count how
often it is made.
"""

from __future__ import annotations

import threading

import pytest
import qiskit.transpiler
from qiskit import QuantumCircuit, transpile
from qiskit.circuit.library import QFTGate
from qtau.executor import CircuitJob
from qtau_qiskit import simulators
from qtau_qiskit.settings import resources
from qtau_qiskit.simulators import create_executor


def resource(backend: str):
    return next(r for r in resources({"backend": backend}) if r.metadata["backend"] == backend)


def qft(width: int, phase: float) -> QuantumCircuit:
    qc = QuantumCircuit(width, width)
    qc.h(range(width))
    for q in range(width):
        qc.p(phase * (q + 1), q)
    qc.append(QFTGate(width), range(width))
    qc.measure(range(width), range(width))
    return qc


@pytest.fixture
def made(monkeypatch):
    """How many pass managers Qiskit was asked to make (the real function, counted)."""
    calls = []
    real = qiskit.transpiler.generate_preset_pass_manager

    def counted(*args, **kwargs):
        calls.append(kwargs.get("optimization_level"))
        return real(*args, **kwargs)

    monkeypatch.setattr(qiskit.transpiler, "generate_preset_pass_manager", counted)
    monkeypatch.setattr(simulators, "_transpilers", {})  # what earlier tests of this process made
    return calls


@pytest.mark.parametrize("backend", ["aer_simulator", "basic_simulator"])
def test_circuits_with_gates_the_simulator_lacks_share_one_transpiler_and_run_as_transpile_runs_them(
        backend, made):
    executor = create_executor(resource(backend), {"seed_simulator": 5})
    assert made == [0]  # with the executor (a cold call), at optimisation level 0 as before
    circuits = [qft(4, 0.1 * i) for i in range(1, 4)]
    jobs = [CircuitJob(f"t{i}", qc, "qiskit", 500) for i, qc in enumerate(circuits)]
    first = executor.run(jobs[:1])
    rest = executor.run(jobs[1:])
    assert made == [0]  # and never again
    for outcomes, batch in ((first, circuits[:1]), (rest, circuits[1:])):  # the same calls, seeded
        plain = executor.backend.run([transpile(qc, executor.backend, optimization_level=0) for qc in batch],
                                     shots=500, seed_simulator=5).result()
        for n, outcome in enumerate(outcomes):
            expected = {key.replace(" ", ""): v for key, v in plain.get_counts(n).items()}
            assert outcome.counts == expected  # the same circuit as transpile's, so the same counts


def test_executors_of_one_simulator_share_one_transpiler_and_other_simulators_have_their_own(made):
    """A level-0 pass manager depends on the backend's target alone: services of one process
    (a test suite's hundreds, a notebook's re-runs) make Aer's once."""
    first = create_executor(resource("aer_simulator"), {"seed_simulator": 1})
    second = create_executor(resource("aer_simulator"), {"seed_simulator": 2})
    assert made == [0] and first._pass_manager is second._pass_manager
    basic = create_executor(resource("basic_simulator"), {})
    assert made == [0, 0] and basic._pass_manager is not first._pass_manager
    [outcome] = basic.run([CircuitJob("q", qft(3, 0.0), "qiskit", 100)])
    assert outcome.counts == {"000": 100}


def test_threads_of_one_executor_share_its_transpiler_safely(made):
    """The LOCAL engine's batch chunks run one executor from several threads at once."""
    executor = create_executor(resource("aer_simulator"), {})
    results, errors = {}, []

    def run(i: int) -> None:
        try:
            [outcome] = executor.run([CircuitJob(f"t{i}", qft(3, 0.0), "qiskit", 200)])
            results[i] = outcome.counts
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and len(results) == 6 and made == [0]
    # H on every qubit with no phase is |+++>; the QFT of it is |000>.
    assert all(counts == {"000": 200} for counts in results.values())
