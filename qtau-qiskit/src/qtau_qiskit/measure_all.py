"""Measurements for a circuit that has none, read as every backend reads it: one bit per qubit.

Why: a circuit without measurements is measured whole (docs/plugins.md, "Bit order": its counts
keys have a character per qubit it declares). Qiskit's `measure_all` adds a register beside the
circuit's own classical bits, so `QuantumCircuit(2, 2)` with no measurement read `0000`/`1100` on
Aer and IBM's simulators and `00`/`11` on PennyLane and Braket. Classical bits no instruction uses
read nothing and are left out first.
"""

from __future__ import annotations

from typing import Any


def without_clbits(circuit: Any) -> Any:
    """`circuit` without its classical bits and registers, which no instruction may use."""
    if not circuit.num_clbits:
        return circuit
    from qiskit.converters import circuit_to_dag, dag_to_circuit

    dag = circuit_to_dag(circuit)
    dag.remove_cregs(*dag.cregs.values())
    dag.remove_clbits(*dag.clbits)
    return dag_to_circuit(dag)


def measured_whole(circuit: Any) -> Any:
    """`circuit`, which measures nothing, with `measure_all`: a bit per qubit, in a register of its
    own. Its classical bits stay where an instruction uses them (a condition, a store)."""
    if circuit.num_clbits and not any(inst.clbits or inst.is_control_flow() for inst in circuit.data):
        circuit = without_clbits(circuit)
    return circuit.measure_all(inplace=False)
