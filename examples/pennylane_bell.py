"""The seed's PennyLane example: a function returning a Bell-state QNode, run through QDREAMER.

The QNode returns the expectation values of Z on both qubits; for a Bell state both are 0, so
the result's `values` read (0, 0) whichever PennyLane device QDREAMER picks.

    python examples/pennylane_bell.py [--executor pennylane_lightning] [--engine ray]
"""

import argparse

import pennylane as qml
from pilot.dreamer import QuantumTask
from pilot.pilot_compute_service import ExecutionEngine, PilotComputeService

EXECUTORS = ("pennylane_default", "pennylane_lightning", "pennylane_qiskit", "pennylane_braket")


def pilot_description(executor: str, engine: str) -> dict:
    return {"resource_type": "quantum", "quantum": {"executor": executor}, "type": engine}


def create_bell_state_qnode():
    dev = qml.device("default.qubit", wires=2)

    @qml.qnode(dev)
    def circuit():
        qml.Hadamard(wires=0)
        qml.CNOT(wires=[0, 1])
        return [qml.expval(qml.PauliZ(0)), qml.expval(qml.PauliZ(1))]

    return circuit


def run(executor: str, engine: str = "local") -> tuple:
    kind = ExecutionEngine.RAY if engine == "ray" else ExecutionEngine.LOCAL
    pcs = PilotComputeService(execution_engine=kind)
    try:
        pcs.create_pilot(pilot_compute_description=pilot_description(executor, engine))
        task = QuantumTask(circuit=create_bell_state_qnode, num_qubits=2, gate_set=["h", "cx"])
        handle = pcs.submit_quantum_task(task)
        pcs.wait_tasks([handle])
        [result] = pcs.get_results([handle])
        values = tuple(round(float(v), 4) for v in result.values)
        print(f"{executor}: task {result.task_id} ran on {result.resource_id}: <Z0>, <Z1> = {values}")
        return result.values
    finally:
        pcs.cancel()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executor", action="append", choices=EXECUTORS + ("pennylane_forest",))
    parser.add_argument("--engine", choices=("ray", "local"), default="local")
    args = parser.parse_args()
    for executor in args.executor or EXECUTORS:
        run(executor, args.engine)


if __name__ == "__main__":
    main()
