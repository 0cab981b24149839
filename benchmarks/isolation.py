"""What a timeout costs a LOCAL task: the same Bell task with and without `timeout`, in one run.

    python benchmarks/isolation.py [--rounds 3] [--repeat 5] [--shots 100]

A task with a timeout runs in a process of its own forked by QTAU's fork server
(`qtau.engines.isolation`); one without runs on the pool's thread. Each round times `--repeat`
round trips (submit, get_result) of each kind, alternating, and keeps the best of each; the
difference and the ratio come from the same round. Warm-up tasks first start the fork server.
"""

from __future__ import annotations

import argparse
import time

from qtau import ExecutionEngine, PilotComputeService, QuantumTask

QISKIT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}}


def bell():
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return qc


def round_trip(pcs: PilotComputeService, shots: int, timeout: float | None) -> float:
    started = time.perf_counter()
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(bell, num_qubits=2, shots=shots, timeout=timeout)))
    elapsed = time.perf_counter() - started
    assert sum(result.counts.values()) == shots
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--shots", type=int, default=100)
    args = parser.parse_args()
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot(QISKIT)
        for _ in range(3):
            round_trip(pcs, args.shots, None)
            round_trip(pcs, args.shots, 60)
        for i in range(args.rounds):
            untimed, timed = [], []
            for _ in range(args.repeat):
                untimed.append(round_trip(pcs, args.shots, None))
                timed.append(round_trip(pcs, args.shots, 60))
            u, t = min(untimed), min(timed)
            print(f"round {i + 1}: untimed {u * 1e3:.1f} ms, timed {t * 1e3:.1f} ms, "
                  f"isolation costs {(t - u) * 1e3:.1f} ms a task ({t / u:.1f}x)")


if __name__ == "__main__":
    main()
