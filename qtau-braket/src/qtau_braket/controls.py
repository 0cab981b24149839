"""Controlled gates as explicit unitaries, for Braket's local simulators.

Braket's local simulators (amazon-braket-default-simulator of this install) apply a gate with
control qubits to the wrong amplitudes when the control and target qubits are not neighbours:
`ctrl @ x q[2], q[0];` on 4 qubits left the state with overlap 0.76 to the right one, and 22 of 40
random 5-qubit programs with `ctrl @ rz/ry/rx/h` were wrong. That is any gate the OpenQASM 3
reader gives control qubits (`ctrl @`, `ctrl(n) @`, `negctrl @` written by the user) or the
Circuit API's `control=` argument. The simulators' `unitary` instruction is applied correctly, so
each controlled gate is replaced by the unitary of its control and target qubits before it runs
(its power, from `inv @` / `pow(k) @`, folded in). Uncontrolled gates, with or without a power,
are applied correctly and are left alone. Only the local simulators need this: QPUs and on-demand
simulators read `ctrl @` themselves, and many do not accept `unitary`.
"""

from __future__ import annotations

from typing import Any


def _power(matrix: Any, power: float) -> Any:
    """`matrix` (unitary) to `power`: exact for whole powers, the principal branch otherwise (the
    OpenQASM 3 meaning of `pow(k) @` for a fractional k)."""
    import numpy as np

    if float(power).is_integer():
        return np.linalg.matrix_power(matrix, int(power))
    values, vectors = np.linalg.eig(matrix)
    return vectors @ np.diag(values.astype(complex) ** power) @ np.linalg.inv(vectors)


def controlled_matrix(instruction: Any) -> Any:
    """The unitary of a controlled instruction over its control qubits (first, most significant
    bit first, as Braket orders qubits) then its targets: the gate's matrix where the controls
    are in the instruction's control state (1 for `ctrl`, 0 for `negctrl`), identity elsewhere."""
    import numpy as np

    gate = _power(np.asarray(instruction.operator.to_matrix(), dtype=complex), instruction.power)
    controls = len(instruction.control)
    # A BasisState of all zeros (`negctrl`) is falsy: read its bits, whatever its truth value.
    state = [int(b) for b in instruction.control_state] if instruction.control_state is not None else []
    if len(state) != controls:
        state = [1] * controls
    size = gate.shape[0]
    out = np.eye(size << controls, dtype=complex)
    at = int("".join(map(str, state)), 2) * size if controls else 0
    out[at:at + size, at:at + size] = gate
    return out


def explicit_controls(circuit: Any) -> Any:
    """`circuit` with every controlled gate written as a `unitary` on its control and target
    qubits (the same circuit object when it has none)."""
    from braket.circuits import Circuit, Gate, Instruction
    from braket.circuits.gates import Unitary

    if not any(ins.control and isinstance(ins.operator, Gate) for ins in circuit.instructions):
        return circuit
    out = Circuit()
    for ins in circuit.instructions:
        if ins.control and isinstance(ins.operator, Gate):
            ins = Instruction(Unitary(controlled_matrix(ins), display_name=f"c{ins.operator.name}"),
                              [*ins.control, *ins.target])
        out.add_instruction(ins)
    for result_type in circuit.result_types:
        out.add_result_type(result_type)
    return out
