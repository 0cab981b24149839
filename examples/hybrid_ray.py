"""A hybrid workflow: QTAU task handles are Ray ObjectRefs, so classical Ray tasks consume them.

Each quantum task estimates <Z0 Z1> of a parameterised two-qubit circuit; a plain `@ray.remote`
function turns the counts into the expectation value without the driver fetching anything.

    python examples/hybrid_ray.py
"""

import math

import ray
from qiskit import QuantumCircuit
from qtau import ExecutionEngine, PilotComputeService, QuantumTask


def ansatz(theta: float) -> QuantumCircuit:
    # RY(theta) on qubit 0, qubit 1 left in |0>: <Z0 Z1> = cos(theta).
    qc = QuantumCircuit(2, 2)
    qc.ry(theta, 0)
    qc.measure([0, 1], [0, 1])
    return qc


@ray.remote
def zz_expectation(result) -> float:
    """<Z0 Z1> from counts: +1 for even parity, -1 for odd."""
    total = sum(result.counts.values())
    return sum((1 if key.count("1") % 2 == 0 else -1) * n for key, n in result.counts.items()) / total


def main() -> None:
    with PilotComputeService(execution_engine=ExecutionEngine.RAY) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        thetas = [i * math.pi / 4 for i in range(5)]
        # The circuit function runs on the Ray worker, with the task's args.
        refs = pcs.submit_quantum_tasks(
            [QuantumTask(circuit=ansatz, args=(t,), num_qubits=2, gate_set=["ry"]) for t in thetas]
        )
        values = ray.get([zz_expectation.remote(ref) for ref in refs])
        for theta, value in zip(thetas, values, strict=True):
            print(f"theta={theta:.3f}  <Z0 Z1>={value:+.3f}")


if __name__ == "__main__":
    main()
