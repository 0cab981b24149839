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

from collections.abc import Collection

from qtau.gates import STANDARD_GATES, normalize_gate

#: Instructions counted by name although they are no standard gate (they have no definition).
KEPT = frozenset({"measure", "barrier", "reset", "delay", "store"})
#: Definitions nest at most this deep before inlining gives up (Qiskit's own gates nest ~3 deep).
MAX_NESTING = 16


def user_defined(op) -> bool:
    """Whether `op` is a gate its circuit defines (`to_gate()`, an OpenQASM `gate` read back)."""
    from qiskit.circuit import Gate, Instruction

    return type(op) in (Gate, Instruction) or type(op).__name__ == "_DefinedGate"


def definition(op):
    """The circuit `op` stands for when it is not a standard gate (or defines itself), else None."""
    if op.name in KEPT or (normalize_gate(op.name) in STANDARD_GATES and not user_defined(op)):
        return None
    try:
        return op.definition
    except Exception:  # a gate that cannot synthesise itself: judged by its name
        return None


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
