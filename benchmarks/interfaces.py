"""The host-library interfaces against the simulators they wrap, measured in the same run.

    python benchmarks/interfaces.py [--grads 200] [--pubs 1000] [--shots 1000] [--rounds 3]

1. PennyLane: `--grads` parameter-shift gradient evaluations of a 4-qubit, 8-parameter QNode
   (17 tapes each) on `qtau.qubit` (mode="high_speed") against the same QNode on
   `lightning.qubit` directly, same shots. qtau.qubit runs twice: pinned to lightning (the same
   simulator, so the ratio is QTAU's routing overhead) and with its default executors (every
   installed local simulator). Goal: >= 0.5x lightning's throughput.
2. Qiskit: `--pubs` Bell-circuit pubs in one `run` through `QtauSampler` (pinned to Aer, and with
   its default executors) against qiskit-aer's own `SamplerV2`. Goal: >= 0.75x Aer's throughput.

Rounds alternate between the baseline and QTAU so machine noise hits both alike; the medians are
reported. A ratio is baseline time / QTAU time (1.0: as fast as the SDK alone).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

warnings.filterwarnings("ignore")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def gradient_workload(device, grads: int, shots: int):
    import pennylane as qml
    from pennylane import numpy as pnp

    @qml.set_shots(shots)
    @qml.qnode(device, diff_method="parameter-shift")
    def circuit(params):
        for layer in range(2):
            for w in range(4):
                qml.RY(params[layer * 4 + w], wires=w)
            for w in range(4):
                qml.CNOT(wires=[w, (w + 1) % 4])
        return qml.expval(qml.Z(0) @ qml.Z(3))

    params = pnp.array([0.1 * i for i in range(8)], requires_grad=True)
    grad = qml.grad(circuit)
    grad(params)  # warm up: devices, imports, caches

    def run():
        for _ in range(grads):
            grad(params)

    return run


def sampler_workload(sampler, pubs: int, shots: int):
    from qiskit import QuantumCircuit

    bell = QuantumCircuit(2, 2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure([0, 1], [0, 1])
    sampler.run([bell] * 4, shots=shots).result()  # warm up

    def run():
        result = sampler.run([bell] * pubs, shots=shots).result()
        assert len(result) == pubs and result[0].data.c.num_shots == shots

    return run


def compare(name: str, baseline, contenders: dict, rounds: int, goal: float) -> None:
    base_times: list[float] = []
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(rounds):
        base_times.append(timed(baseline))
        for key, fn in contenders.items():
            times[key].append(timed(fn))
    base = statistics.median(base_times)
    print(f"\n{name}: baseline {base:.2f} s (median of {rounds})")
    for key, values in times.items():
        t = statistics.median(values)
        ratio = base / t
        verdict = "meets" if ratio >= goal else "misses"
        print(f"  {key:45s} {t:7.2f} s  ratio {ratio:.2f}x  ({verdict} the {goal}x goal)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grads", type=int, default=200)
    parser.add_argument("--pubs", type=int, default=1000)
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import pennylane as qml
    from qiskit_aer.primitives import SamplerV2 as AerSampler
    from qtau_qiskit.primitives import QtauSampler

    lightning = gradient_workload(qml.device("lightning.qubit", wires=4), args.grads, args.shots)
    pinned = gradient_workload(qml.device("qtau.qubit", wires=4, mode="high_speed",
                                          executors=["pennylane_lightning"]), args.grads, args.shots)
    default = gradient_workload(qml.device("qtau.qubit", wires=4, mode="high_speed"), args.grads, args.shots)
    compare(f"{args.grads} parameter-shift gradients, 4 qubits, 8 parameters, {args.shots} shots (vs lightning.qubit)",
            lightning, {"qtau.qubit, executors=[pennylane_lightning]": pinned,
                        "qtau.qubit, default executors": default}, args.rounds, 0.5)

    aer = sampler_workload(AerSampler(), args.pubs, args.shots)
    qtau_aer = sampler_workload(QtauSampler(executors=["qiskit_local"]), args.pubs, args.shots)
    qtau_all = sampler_workload(QtauSampler(), args.pubs, args.shots)
    compare(f"{args.pubs} Bell pubs x {args.shots} shots (vs qiskit-aer SamplerV2)", aer,
            {"QtauSampler, executors=[qiskit_local]": qtau_aer, "QtauSampler, default executors": qtau_all},
            args.rounds, 0.75)


if __name__ == "__main__":
    main()
