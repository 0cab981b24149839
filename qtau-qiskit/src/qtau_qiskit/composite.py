"""Composite gates in Qiskit circuits: what they are made of, and running them where names clash.

A circuit may hold gates that are not standard gates: library gates (`QFTGate`, `UnitaryGate`, the
n-local circuits appended as gates), `sub.to_gate()` results, and the gates an OpenQASM file
defines, read back by `qasm2.loads`/`qasm3.loads`. Each carries a `definition`, the circuit Qiskit's
transpiler (HighLevelSynthesis) falls back to, so each is as runnable as its definition.

A gate the circuit itself defines can bear any name, including one a simulator reserves for an
instruction of its own: `qasm2.dumps` writes a `UnitaryGate` as `gate unitary q0,q1 { ... }`,
which reads back as a user gate named `unitary`, and Aer, finding `unitary` in its target, takes
it for its matrix instruction and fails (IndexError: no matrix). Such gates are inlined first.
"""

from __future__ import annotations

import functools
from collections.abc import Collection

from qtau.gates import STANDARD_GATES, normalize_gate

#: Instructions counted by name although they are no standard gate (they have no definition).
KEPT = frozenset({"measure", "barrier", "reset", "delay", "store"})
#: Definitions nest at most this deep before inlining gives up (Qiskit's own gates nest ~3 deep).
MAX_NESTING = 16


def user_defined(op) -> bool:
    """Whether `op` is a gate its circuit defines (`to_gate()`, an OpenQASM `gate` read back)."""
    return defines_itself(type(op))


@functools.cache
def defines_itself(kind: type) -> bool:
    """Whether instructions of class `kind` are gates their circuit defines: Qiskit's plain `Gate`
    and `Instruction` (what `to_gate()` makes) or an OpenQASM `gate` read back. Answered once per
    class: the simulators ask for every instruction they run."""
    from qiskit.circuit import Gate, Instruction

    return kind in (Gate, Instruction) or kind.__name__ == "_DefinedGate"


def definition(op):
    """The circuit `op` stands for when it is not a standard gate (or defines itself), else None.

    Its `definition` where it has one; else what HighLevelSynthesis makes of it in standard gates
    (Qiskit 2 leaves some library gates, such as `PermutationGate`, to synthesis plugins alone).
    """
    if op.name in KEPT or (normalize_gate(op.name) in STANDARD_GATES and not user_defined(op)):
        return None
    try:
        found = op.definition
    except Exception:  # a gate that cannot synthesise itself: left to HighLevelSynthesis
        found = None
    return found if found is not None else _synthesised(op)


def _synthesised(op):
    from qiskit import QuantumCircuit
    from qiskit.circuit import Gate
    from qiskit.transpiler.passes import HighLevelSynthesis

    if not isinstance(op, Gate) or getattr(op, "is_parameterized", lambda: False)():
        return None
    alone = QuantumCircuit(op.num_qubits)
    alone.append(op, range(op.num_qubits))
    try:
        out = HighLevelSynthesis(basis_gates=sorted(STANDARD_GATES - KEPT), qubits_initially_zero=False)(alone)
    except Exception:  # no synthesis either: the gate has no definition, and is judged by its name
        return None
    return None if any(inst.operation.name == op.name for inst in out.data) else out


def inline(circuit, expand):
    """`circuit` with every instruction `expand(op)` selects replaced by its definition, recursively
    (control-flow blocks are left as they are)."""
    out = circuit.copy_empty_like()
    for inst in circuit.data:
        found = definition(inst.operation) if expand(inst.operation) else None
        if found is None:
            out.append(inst)
            continue
        out.compose(inline(found, expand), qubits=inst.qubits, clbits=inst.clbits, inplace=True)
    return out


def _clashing(circuit, reserved: Collection[str]) -> set[str]:
    """Names of the circuit's own gates that bear a reserved name or hold one that does."""
    found = set()
    for inst in circuit.data:
        op = inst.operation
        if not user_defined(op) or op.definition is None:
            continue
        if op.name in reserved or _clashing(op.definition, reserved):
            found.add(op.name)
    return found


def without_name_clashes(circuit, reserved: Collection[str]):
    """`circuit` with every gate it defines under a name in `reserved` replaced by its definition."""
    for _ in range(MAX_NESTING):
        clashing = _clashing(circuit, reserved)
        if not clashing:
            break
        circuit = circuit.decompose(gates_to_decompose=sorted(clashing))
    return circuit
