"""Braket's gate names in QTAU's canonical spelling (`qtau.gates`), with no SDK import."""

from __future__ import annotations

from qtau.gates import normalize_gate

#: Braket spellings QTAU's gate aliases do not cover.
BRAKET_NAMES = {
    "phaseshift": "p", "cphaseshift": "cp", "ccnot": "ccx", "v": "sx", "vi": "sxdg", "xx": "rxx",
    "yy": "ryy", "zz": "rzz", "i": "id",
}


def canonical(name: str, controls: int = 0) -> str:
    base = BRAKET_NAMES.get(name.lower(), name.lower())
    return normalize_gate("c" * controls + base)
