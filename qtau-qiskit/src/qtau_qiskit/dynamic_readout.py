"""How QtauSampler reads out a dynamic circuit: one that measures mid-circuit or has control flow
(`if_test`, `for_loop`, `while_loop`, `switch`).

Why: such a circuit's bits are not a function of its final state alone (a bit measured before a
gate, a gate conditioned on a bit), so the readout of final measurements (`readout_plan`) cannot
serve it. Aer's SamplerV2 and BackendSamplerV2 run these circuits; QtauSampler refused them.
Here the circuit runs as it is written, with its own classical registers, and every bit reads
what the simulator's counts say it holds at the end: QTAU's counts key has a character per
classical bit of the circuit, bit 0 rightmost (docs/plugins.md, "Bit order"). QDREAMER places the
circuit only on resources that measure mid-circuit and run classical control (Aer; Braket's local
simulator for mid-circuit measurements), and says why where none can.
"""

from __future__ import annotations

from qiskit.circuit import QuantumCircuit

from qtau_qiskit.idle_qubits import on_qubits, used_qubits


def is_dynamic(body: QuantumCircuit) -> bool:
    """Whether `body` (a circuit without its final measurements) still measures or has control flow."""
    return any(inst.is_control_flow() or inst.operation.name == "measure" for inst in body.data)


def dynamic_plan(circuit: QuantumCircuit) -> tuple[QuantumCircuit, list[tuple[str, int, int]]]:
    """The circuit to run (without idle qubits) and, for every bit of every classical register,
    the column of the counts that holds it: the bit's own index in the circuit."""
    plan = [(creg.name, i, circuit.find_bit(clbit).index) for creg in circuit.cregs for i, clbit in enumerate(creg)]
    return on_qubits(circuit, used_qubits(circuit)), plan
