"""Logical gate names: one canonical spelling per gate, and what a transpiler can always reach.

Users write `cnot`, `CNOT` or `cx`; QDREAMER compares canonical names. A resource that transpiles
(every simulator, and QPUs whose SDK transpiles to their basis) accepts any gate of STANDARD_GATES.
"""

from __future__ import annotations

from collections.abc import Iterable

ALIASES = {
    "cnot": "cx",
    "not": "x",
    "toffoli": "ccx",
    "fredkin": "cswap",
    "cphase": "cp",
    "cu1": "cp",
    "phase": "p",
    "u1": "p",
    "u3": "u",
    "i": "id",
    "identity": "id",
    "pauli_x": "x",
    "paulix": "x",
    "pauli_y": "y",
    "pauliy": "y",
    "pauli_z": "z",
    "pauliz": "z",
    "hadamard": "h",
    "cnz": "cz",
    "si": "sdg",
    "ti": "tdg",
    "v": "sx",
    "vi": "sxdg",
    "measurement": "measure",
    "m": "measure",
    "iswap": "iswap",
    "xx": "rxx",
    "yy": "ryy",
    "zz": "rzz",
}

#: Gates every transpiling backend can reach, in canonical spelling.
STANDARD_GATES = frozenset(
    {
        "id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "sxdg", "p", "rx", "ry", "rz", "u",
        "u2", "cx", "cy", "cz", "ch", "cp", "crx", "cry", "crz", "cu", "swap", "iswap", "ecr",
        "rxx", "ryy", "rzz", "rzx", "ccx", "cswap", "ccz", "measure", "barrier", "reset", "delay",
    }
)

#: Non-unitary directives that are not "gates" for fidelity purposes.
DIRECTIVES = frozenset({"measure", "barrier", "delay"})


def normalize_gate(name: str) -> str:
    key = str(name).strip().lower()
    return ALIASES.get(key, key)


def normalize_gates(names: Iterable[str]) -> tuple[str, ...]:
    """Canonical, de-duplicated, sorted gate names."""
    return tuple(sorted({normalize_gate(n) for n in names}))


def arity(name: str) -> int:
    """How many qubits a canonical gate acts on (1 for unknown names, the common case)."""
    if name in {"ccx", "cswap", "ccz"}:
        return 3
    if name in {
        "cx", "cy", "cz", "ch", "cp", "crx", "cry", "crz", "cu", "swap", "iswap", "ecr", "rxx",
        "ryy", "rzz", "rzx",
    }:
        return 2
    return 1
