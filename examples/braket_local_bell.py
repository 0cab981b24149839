"""A Bell circuit built with braket.circuits.Circuit, run on Braket's LocalSimulator through QTAU.

    python examples/braket_local_bell.py

Needs only qtau-core and qtau-braket. Counts use QTAU's bit order (qubit 0 rightmost).
"""

from braket.circuits import Circuit
from pilot.pilot_compute_service import ExecutionEngine, PilotComputeService
from qtau import QuantumTask


def bell() -> Circuit:
    return Circuit().h(0).cnot(0, 1)


def main() -> dict[str, int]:
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL)
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_local"}})
        ref = pcs.submit_quantum_task(QuantumTask(circuit=bell(), num_qubits=2, gate_set=["h", "cnot"], shots=1000))
        result = pcs.get_result(ref, timeout=120)
        print(f"{result.resource_id}: {result.get_counts()}")
        print(f"measured qubits: {result.metadata.get('measured_qubits')}, "
              f"implicit measure-all: {result.metadata.get('implicit_measure_all')}")
        return result.get_counts()
    finally:
        pcs.close()


if __name__ == "__main__":
    main()
