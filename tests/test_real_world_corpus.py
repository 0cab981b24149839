"""Real-world circuits on every local backend: MQT Bench, Qiskit's circuit library, and their OpenQASM.

The corpus is what users actually submit, generated here rather than written for QTAU:
- MQT Bench (`mqt.bench.get_benchmark`, algorithm level): barriers before the final measurements,
  composite gates (`qft`, DJ's `Oracle`, Grover's `Q`), several quantum registers (Grover's `flag`),
  ancillas left unmeasured (DJ, BV), parametrised layers (QAOA, VQE), qelib1's `rccx` (the modular
  adder), gates the OpenQASM 3 export defines under standard names (`xx_plus_yy`, BMW's copula),
  controlled gates of every kind on an entangled state (randomcircuit: `cu`, `ch`, `c3sx`, `ecr`);
- Qiskit's circuit library as gates: `QFTGate`, `UnitaryGate`, `real_amplitudes(...).to_gate()`,
  `efficient_su2(...)` composed, a user `sub.to_gate()`, measurements into two classical
  registers, and classical bits no measurement writes (read as 0 at their place everywhere);
- the `qiskit.qasm2.dumps` and `qiskit.qasm3.dumps` text of each.
Every one runs on every installed local backend (Aer, BasicSimulator, IBM's local qasm_simulator,
PennyLane's default.qubit, lightning.qubit and qiskit.aer, Braket's local state vector) through
QDREAMER, pinned to that resource with `resource=`. IBM's fake devices are left out: they are
noisy by design (tests/test_cross_format_matrix.py covers one with a noise allowance).

The bound. Counts of N shots from a distribution p over k outcomes (k: the outcomes the exact
distribution gives a nonzero probability) have E[TVD] <= 1/2 sum_i sqrt(p_i (1 - p_i) / N)
<= 1/2 sqrt(k / N) (Cauchy-Schwarz). The TVD changes by at most 1/N when one shot changes, so by
McDiarmid's inequality P(TVD > E[TVD] + t) <= exp(-2 N t^2). With t = sqrt(ln(1e9) / (2N)) a correct
backend fails one comparison with probability below 1e-9, and the ~300 comparisons of this file
below 1e-6 together; at N = 2000 the bound is 0.07 + 0.5 sqrt(k / 2000) (0.10 for k = 8). A wrong
bit order, a dropped gate or a transposed unitary moves the TVD by far more (0.1 to 1 here).
Seeds are fixed where a backend accepts one (Qiskit's simulators, IBM's local simulator).
"""

from __future__ import annotations

import math

import pytest
from qtau import PilotComputeService, QuantumTask
from qtau.errors import NoSuitableResourceError
from qtau.plugins import PluginHost

SHOTS = 2000
FAILURE_PROBABILITY = 1e-9

#: One pilot per local backend, each offering exactly one resource.
BACKENDS = {
    "qiskit:aer_simulator": {"executor": "qiskit_local", "backend": "aer_simulator", "seed_simulator": 7},
    "qiskit:basic_simulator": {"executor": "qiskit_local", "backend": "basic_simulator", "seed_simulator": 7},
    "ibmq:qasm_simulator": {"executor": "ibmq_qasm_simulator", "seed_simulator": 7},
    "pennylane:default.qubit": {"executor": "pennylane_default", "device": "default.qubit"},
    "pennylane:lightning.qubit": {"executor": "pennylane_lightning", "device": "lightning.qubit"},
    "pennylane:qiskit.aer": {"executor": "pennylane_qiskit", "device": "qiskit.aer"},
    "braket:local_sv": {"executor": "braket_local"},
}
#: (benchmark, qubits) from MQT Bench.
MQT = [("ghz", 3), ("qft", 3), ("dj", 4), ("wstate", 3), ("graphstate", 4), ("qaoa", 3), ("vqe_su2", 3),
       ("grover", 3), ("bv", 4), ("qpeexact", 3), ("qwalk", 3), ("modular_adder", 4), ("bmw_quark_copula", 4),
       ("randomcircuit", 5)]


def _library() -> dict:
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.circuit.library import QFTGate, UnitaryGate, efficient_su2, real_amplitudes
    from qiskit.quantum_info import random_unitary

    out = {}
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.x(2)
    qc.append(QFTGate(3), [0, 1, 2])
    qc.measure(range(3), range(3))
    out["QFTGate"] = qc
    qc = QuantumCircuit(3, 3)
    qc.append(UnitaryGate(random_unitary(4, seed=3)), [0, 2])
    qc.x(1)
    qc.measure(range(3), range(3))
    out["UnitaryGate"] = qc
    ansatz = real_amplitudes(3, reps=1)
    ansatz = ansatz.assign_parameters([0.3 * (i + 1) for i in range(ansatz.num_parameters)])
    qc = QuantumCircuit(3, 3)
    qc.append(ansatz.to_gate(), [0, 1, 2])
    qc.measure(range(3), range(3))
    out["real_amplitudes.to_gate"] = qc
    su2 = efficient_su2(3, reps=1)
    qc = QuantumCircuit(3, 3).compose(su2.assign_parameters([0.2 * (i + 1) for i in range(su2.num_parameters)]))
    qc.measure(range(3), range(3))
    out["efficient_su2.compose"] = qc
    sub = QuantumCircuit(2, name="bellprep")
    sub.h(0)
    sub.cx(0, 1)
    qc = QuantumCircuit(3, 3)
    qc.append(sub.to_gate(), [1, 2])
    qc.x(0)
    qc.measure(range(3), range(3))
    out["to_gate"] = qc
    a, b = QuantumRegister(2, "a"), QuantumRegister(1, "b")
    ca, cb = ClassicalRegister(2, "ca"), ClassicalRegister(1, "cb")
    qc = QuantumCircuit(a, b, ca, cb)
    qc.ry(1.1, a[0])
    qc.cx(a[0], b[0])
    qc.x(a[1])
    qc.barrier()
    qc.measure(a, ca)
    qc.measure(b, cb)
    out["two_registers"] = qc
    # Bits no measurement writes, in the middle and at the top (a cut piece's empty register, a
    # register declared larger than what is read): every backend reads them as 0, at their place.
    q, meas, spare = QuantumRegister(3, "q"), ClassicalRegister(3, "meas"), ClassicalRegister(2, "spare")
    qc = QuantumCircuit(q, meas, spare)
    qc.ry(0.8, q[0])
    qc.cx(q[0], q[2])
    qc.x(q[1])
    qc.measure(q[0], meas[2])
    qc.measure(q[1], meas[0])
    qc.measure(q[2], spare[0])
    out["unwritten_bits"] = qc
    return out


def _corpus() -> dict:
    """name -> (Qiskit circuit, {format: circuit in that format})."""
    from mqt.bench import BenchmarkLevel, get_benchmark
    from qiskit import qasm2, qasm3

    circuits = {f"mqt_{name}_{n}": get_benchmark(name, BenchmarkLevel.ALG, n) for name, n in MQT}
    circuits.update(_library())
    return {name: (qc, {"qiskit": qc, "openqasm2": qasm2.dumps(qc), "openqasm3": qasm3.dumps(qc)})
            for name, qc in circuits.items()}


def exact(qc) -> dict[str, float]:
    """The exact distribution of the circuit's classical bits (bit 0 rightmost), from its state vector.

    MQT Bench's QAOA has no measurement: QTAU measures every qubit of such a circuit, so its
    distribution is that of all qubits."""
    from qiskit.quantum_info import Statevector

    qubit_of = {}
    for inst in qc.data:
        if inst.operation.name == "measure":
            for qubit, clbit in zip(inst.qubits, inst.clbits, strict=True):
                qubit_of[qc.find_bit(clbit).index] = qc.find_bit(qubit).index
    state = Statevector(qc.remove_final_measurements(inplace=False))
    if not qubit_of:  # QTAU measures every qubit of a circuit without measurements (MQT's QAOA)
        return {k: p for k, p in state.probabilities_dict().items() if p > 1e-12}
    bits = sorted(qubit_of)
    probs = state.probabilities_dict(qargs=[qubit_of[c] for c in bits])
    out = {}
    for key, p in probs.items():  # bits no measurement writes read 0
        if p > 1e-12:
            full = ["0"] * qc.num_clbits
            for j, bit in enumerate(bits):
                full[qc.num_clbits - 1 - bit] = key[len(key) - 1 - j]
            out["".join(full)] = p
    return out


def tvd(counts: dict[str, int], probs: dict[str, float]) -> float:
    total = sum(counts.values())
    return 0.5 * sum(abs(counts.get(k, 0) / total - probs.get(k, 0.0)) for k in set(counts) | set(probs))


def bound(probs: dict[str, float], shots: int = SHOTS) -> float:
    """E[TVD] <= 0.5 sqrt(k/N), plus McDiarmid's deviation at FAILURE_PROBABILITY (module docstring)."""
    return 0.5 * math.sqrt(len(probs) / shots) + math.sqrt(math.log(1 / FAILURE_PROBABILITY) / (2 * shots))


def run_all(pcs, tasks: list, labels: list[str]) -> tuple[list, list[str]]:
    """Every task's Result (None where it failed) and a line per failure, under its label."""
    results = pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=600, return_exceptions=True)
    failures = [f"{label}: {type(r).__name__}: {r}" for label, r in zip(labels, results, strict=True)
                if isinstance(r, BaseException)]
    return [None if isinstance(r, BaseException) else r for r in results], failures


@pytest.fixture(scope="module")
def corpus():
    return _corpus()


@pytest.fixture(scope="module")
def pcs():
    host = PluginHost(strict=True)
    host.load_entry_points(allow={"qiskit", "ibmq", "pennylane", "braket"})
    service = PilotComputeService(plugins=host)
    for rid, quantum in BACKENDS.items():
        pilot = service.create_pilot({"resource_type": "quantum", "quantum": quantum})
        assert [r.id for r in pilot.resources] == [rid]
    yield service
    service.close()


def test_the_bound_separates_right_from_wrong():
    """The bound is loose enough for sampling noise and tight enough for a swapped bit order."""
    probs = {"001": 0.75, "100": 0.25}
    assert bound(probs) < 0.12
    assert tvd({"001": 1500, "100": 500}, probs) == 0
    assert tvd({"100": 1500, "001": 500}, probs) == pytest.approx(0.5)


def test_every_corpus_circuit_is_feasible_everywhere(pcs, corpus):
    """QDREAMER, unpinned, finds every backend able to run every circuit in every format."""
    refused = []
    for name, (_, forms) in corpus.items():
        for fmt, circuit in forms.items():
            for row in pcs.qdreamer.explain(QuantumTask(circuit=circuit, shots=SHOTS)).rows:
                if not row.feasible:
                    refused.append(f"{name} as {fmt} on {row.resource_id}: {row.reason}")
    assert not refused, "\n".join(refused)


@pytest.mark.parametrize("rid", sorted(BACKENDS))
def test_the_corpus_gives_the_exact_distribution(pcs, corpus, rid):
    cases = [(name, fmt) for name, (_, forms) in corpus.items() for fmt in forms]
    tasks = [QuantumTask(circuit=corpus[name][1][fmt], shots=SHOTS, resource=rid) for name, fmt in cases]
    done, failures = run_all(pcs, tasks, [f"{name} as {fmt}" for name, fmt in cases])
    for (name, fmt), result in zip(cases, done, strict=True):
        if result is None:
            continue
        assert result.resource_id == rid
        probs = exact(corpus[name][0])
        distance = tvd(result.counts, probs)
        if distance > bound(probs):
            failures.append(f"{name} as {fmt} via {' -> '.join(result.conversion_path)}: TVD {distance:.3f} > "
                            f"{bound(probs):.3f}, counts {dict(sorted(result.counts.items()))}")
    assert not failures, f"{len(failures)} of {len(cases)} on {rid}:\n" + "\n".join(failures)


def test_only_a_gate_without_definition_is_refused(pcs):
    """An instruction with no definition that no resource lists as native: refused, saying so."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Gate

    qc = QuantumCircuit(2)
    qc.h(0)
    qc.append(Gate("magic", 1, []), [1])
    opaque = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nopaque magic a;\nqreg q[2];\nh q[0];\nmagic q[1];\n'
    for circuit in (qc, opaque):
        with pytest.raises(NoSuitableResourceError) as info:
            pcs.submit_quantum_task(QuantumTask(circuit=circuit))
        assert set(info.value.rejections) == set(BACKENDS)
        for rid, why in info.value.rejections.items():
            assert why == f"gate magic has no definition and is not native to {rid}"


def test_pennylane_templates_count_as_their_decompositions_and_run_everywhere(pcs):
    """A tape with `qml.QFT` and a two-qubit `qml.QubitUnitary`: its summary holds the gates of
    their decompositions (no `qft` name to refuse), and every backend gives the exact distribution."""
    import pennylane as qml
    from qiskit.quantum_info import random_unitary

    ops = [qml.PauliX(0), qml.QFT(wires=[0, 1, 2]), qml.QubitUnitary(random_unitary(4, seed=5).data, wires=[1, 2])]
    tape = qml.tape.QuantumScript(ops, [qml.counts(wires=[0, 1, 2])], shots=SHOTS)
    summary, _ = pcs.qdreamer.summarize(QuantumTask(circuit=tape))
    assert "qft" not in summary.gate_counts and "qubitunitary" not in summary.gate_counts
    assert summary.gate_counts["swap"] == 1 and summary.gate_counts["cp"] == 3
    [probs] = qml.execute([qml.tape.QuantumScript(ops, [qml.probs(wires=[0, 1, 2])])], qml.device("default.qubit"))
    exact_probs = {format(i, "03b")[::-1]: float(p) for i, p in enumerate(probs) if p > 1e-12}  # wire 0 rightmost
    failures = []
    for rid in BACKENDS:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=tape, shots=SHOTS, resource=rid)))
        if tvd(result.counts, exact_probs) > bound(exact_probs):
            failures.append(f"{rid} via {' -> '.join(result.conversion_path)}: {dict(sorted(result.counts.items()))}")
    assert not failures, "\n".join(failures)


def test_a_braket_unitary_runs_where_it_is_native(pcs):
    """Braket's `unitary` instruction is a matrix with no definition in gates: Braket's local
    simulator runs it; every other resource refuses it, saying why."""
    import numpy as np
    from braket.circuits import Circuit

    circuit = Circuit().h(0).unitary(matrix=np.array([[0, 1], [1, 0]]), targets=[1])
    rows = {row.resource_id: row for row in pcs.qdreamer.explain(QuantumTask(circuit=circuit)).rows}
    assert rows["braket:local_sv"].feasible
    for rid, row in rows.items():
        if rid != "braket:local_sv":
            assert row.reason == f"gate unitary has no definition and is not native to {rid}"
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=circuit, shots=SHOTS)))
    assert result.resource_id == "braket:local_sv" and set(result.counts) == {"10", "11"}


@pytest.mark.parametrize("rid", ["qiskit:aer_simulator", "braket:local_sv"])
def test_mitigation_runs_the_corpus_and_keeps_its_distribution(pcs, corpus, rid):
    """Mitigation rewrites circuits (folds, twirls, calibrations) in its own OpenQASM 2 reader, so
    it is a second place that can refuse real input: ZNE refused MQT Bench's modular adder (rccx)
    and random circuit (c3sqrtx, rc3x, csx). On a noise-free simulator readout correction and TREX
    change nothing, so their quasi-probabilities keep the counts' bound; ZNE's are a weighted sum of
    three runs, each within the bound, so within it times the weights' absolute sum. Braket reads
    only the written bits (DJ's and BV's unmeasured ancillas)."""
    from qtau.mitigation import report
    from qtau.mitigation.extrapolation import weights

    # Folding and the readout calibration, and the twirls: every rewrite, in two techniques.
    cases = [(name, technique) for name in corpus for technique in ("zne+readout", "trex")]
    tasks = [QuantumTask(circuit=corpus[name][1]["qiskit"], shots=SHOTS, resource=rid, mitigation=technique)
             for name, technique in cases]
    done, failures = run_all(pcs, tasks, [f"{name} with {technique}" for name, technique in cases])
    for (name, technique), result in zip(cases, done, strict=True):
        if result is None:
            continue
        found = report(result)
        probs = exact(corpus[name][0])
        scales = found["scale_factors"]
        allowed = bound(probs) * (sum(abs(w) for w in weights(scales, found["fit"])) if scales else 1.0)
        distance = tvd(found["quasi_probabilities"], probs)  # the quasi-probabilities sum to 1
        if distance > allowed:
            failures.append(f"{name} with {technique}: TVD {distance:.3f} > {allowed:.3f}")
    assert not failures, f"{len(failures)} of {len(cases)} on {rid}:\n" + "\n".join(failures)
