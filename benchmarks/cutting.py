"""Cutting: circuits 1.5-3x wider than the widest resource, cut and run across backends.

    python benchmarks/cutting.py [--width 4] [--shots 4000] [--seed 7] [--planner-only]

Resources: pilots capped with `quantum.max_qubits=--width` (Aer, Qiskit's BasicSimulator and
Braket's local simulator: two vendors). Circuits: a hardware-efficient ansatz (EfficientSU2, linear,
random angles), a QAOA ring (one layer, random angles) and a GHZ chain, at 1.5x, 2x and up to 3x
the width. For each: the reconstructed expectation value of a few Pauli observables against the
exact value from a statevector, in units of the reconstruction's own bootstrap error (goal: every
|error| within 3 sigma), the sampling overhead, how many subexperiments ran where, and the wall
time against the same circuit run whole (`cut=False`) on an uncapped Aer pilot with the same shots
per circuit. Last (or alone, with `--planner-only`), the planner's time for 30- and 60-qubit
ansatzes in pieces of at most 15 qubits, best of 3 (goal <= 1 s): the whole `plan_cut` (cut search,
the pieces' description and the quote, one per piece), the cut search alone, and apart from the
plan the time its subexperiment circuits take to generate when it runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def ansatz(n: int, rng) -> object:
    from qiskit.circuit.library import efficient_su2

    qc = efficient_su2(n, entanglement="linear", reps=1)
    return qc.assign_parameters(rng.uniform(0, np.pi, qc.num_parameters))


def qaoa_ring(n: int, rng) -> object:
    from qiskit import QuantumCircuit

    gamma, beta = rng.uniform(0, np.pi, 2)
    qc = QuantumCircuit(n)
    qc.h(range(n))
    for i in range(n):
        qc.rzz(2 * gamma, i, (i + 1) % n)
    qc.rx(2 * beta, range(n))
    return qc


def ghz_chain(n: int, rng) -> object:
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n)
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    qc.ry(float(rng.uniform(0, 0.5)), n - 1)
    return qc


def observables(n: int) -> list[str]:
    def pauli(ops: dict[int, str]) -> str:
        return "".join(ops.get(q, "I") for q in reversed(range(n)))

    return [pauli({0: "Z", n - 1: "Z"}), pauli({n // 2: "Z", n // 2 - 1: "Z"}), pauli({q: "X" for q in range(n)})]


def fleet(width: int | None):
    from qtau import ExecutionEngine, PilotComputeService

    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL)
    executors = ("qiskit_local", "braket_local") if width else ("qiskit_local",)
    for executor in executors:
        quantum = {"executor": executor} | ({"max_qubits": width} if width else {})
        pcs.create_pilot({"resource_type": "quantum", "quantum": quantum})
    pcs.initialize_dreamer()
    return pcs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=4)
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--planner-only", action="store_true", help="time the planner alone")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    wide = fleet(None)
    if not args.planner_only:
        cut_circuits(args, rng, wide)
    planner(wide, rng, args.seed)
    wide.cancel()


def cut_circuits(args: argparse.Namespace, rng, wide) -> None:
    """Each circuit cut on the capped fleet against exact values, and run whole on `wide`."""
    from qiskit.quantum_info import SparsePauliOp, Statevector
    from qtau.cutting import run_cut

    small = fleet(args.width)
    sizes = sorted({int(1.5 * args.width), 2 * args.width, 3 * args.width})
    print(f"pieces of at most {args.width} qubits on {sorted(small.quantum_resources)}; "
          f"{args.shots} shots per subexperiment; seed {args.seed}")
    print(f"{'circuit':<12}{'n':>3}{'cuts':>5}{'overhead':>9}{'circuits':>9}{'max |z|':>8}"
          f"{'cut s':>7}{'whole s':>8}  spread")
    worst = 0.0
    for name, build in (("ansatz", ansatz), ("qaoa_ring", qaoa_ring), ("ghz_chain", ghz_chain)):
        for n in sizes:
            qc = build(n, rng)
            obs = observables(n)
            exact = [float(Statevector(qc).expectation_value(SparsePauliOp(o)).real) for o in obs]
            try:
                started = time.perf_counter()
                cut = run_cut(small, qc, obs, shots=args.shots, cut={"max_overhead": 1e4, "seed": args.seed},
                              seed=args.seed)
                cut_s = time.perf_counter() - started
            except Exception as err:  # a circuit whose cheapest cuts cost more than the cap
                print(f"{name:<12}{n:>3}  not cut: {type(err).__name__}: {str(err).splitlines()[0][:80]}")
                continue
            started = time.perf_counter()
            run_cut(wide, qc, obs, shots=args.shots, cut=False, seed=args.seed)
            whole_s = time.perf_counter() - started
            z = max(abs(v - e) / max(s, 1e-12) for v, e, s in zip(cut.values, exact, cut.standard_errors, strict=True))
            worst = max(worst, z)
            spread = ", ".join(f"{rid} {k}" for rid, k in sorted(cut.resources.items()))
            print(f"{name:<12}{n:>3}{cut.plan.num_cuts:>5}{cut.plan.sampling_overhead:>9.0f}"
                  f"{cut.plan.num_circuits:>9}{z:>8.2f}{cut_s:>7.1f}{whole_s:>8.1f}  {spread}")
    print(f"worst |error| / sigma: {worst:.2f} (goal <= 3)")
    small.cancel()


def planner(pcs, rng, seed: int) -> None:
    """Best of 3 `plan_cut` times for 30- and 60-qubit ansatzes, then the generation of the
    subexperiments the plan would run (not part of the plan: it happens when the plan runs)."""
    from qtau.cutting import plan_cut

    for n in (30, 60):
        qc = ansatz(n, rng)
        times, searches = [], []
        for _ in range(3):
            started = time.perf_counter()
            plan = plan_cut(pcs, qc, observables(n), shots=1000, cut={"max_width": 15, "seed": seed})
            times.append(time.perf_counter() - started)
            searches.append(plan.search_seconds)
        started = time.perf_counter()
        plan.tasks()
        generated = time.perf_counter() - started
        print(f"planner, {n}-qubit ansatz into pieces of <= 15: {plan.num_cuts} cuts, overhead "
              f"{plan.sampling_overhead:.0f}x, {plan.num_circuits} subexperiments; plan_cut {min(times):.3f} s "
              f"(cut search {min(searches):.3f} s), best of 3; generating the subexperiments when it runs "
              f"{generated:.3f} s")


if __name__ == "__main__":
    main()
