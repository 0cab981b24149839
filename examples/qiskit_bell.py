"""The seed's Qiskit example, unchanged in spirit: a Bell circuit through QDREAMER on Ray.

    python examples/qiskit_bell.py [--engine local]
"""

import argparse

from pilot.dreamer import QuantumTask
from pilot.pilot_compute_service import ExecutionEngine, PilotComputeService
from qiskit import QuantumCircuit

pilot_quantum_description = {
    "resource_type": "quantum",
    "quantum": {"executor": "qiskit_local", "backend_options": {"method": "statevector"}},
    "type": "ray",
}


def create_bell_state_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("ray", "local"), default="ray")
    args = parser.parse_args()
    engine = ExecutionEngine.RAY if args.engine == "ray" else ExecutionEngine.LOCAL
    pcs = PilotComputeService(execution_engine=engine)
    try:
        pcs.create_pilot(pilot_compute_description=pilot_quantum_description)
        pcs.initialize_dreamer({"optimization_mode": "high_speed"})
        for name, resource in pcs.quantum_resources.items():
            print(f"resource {name}: {resource.num_qubits} qubits, {resource.kind}")
        task = QuantumTask(circuit=create_bell_state_circuit(), num_qubits=2, gate_set=["h", "cx", "measure"])
        handle = pcs.submit_quantum_task(task)
        pcs.wait_tasks([handle])
        [result] = pcs.get_results([handle])
        print(f"task {result.task_id} ran on {result.resource_id}: {result.get_counts()}")
    finally:
        pcs.cancel()


if __name__ == "__main__":
    main()
