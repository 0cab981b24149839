"""The error QDREAMER charges a gate that a noise profile does not list by name.

A device reports errors for its native gates (`r` and `rxx` on a trapped-ion machine, `sx` and
`ecr` on IBM's), while the circuit QDREAMER ranks counts the task's logical gates (`h`, `cx`),
which the device's transpiler turns into native ones. A profile that gives only per-gate errors
would then charge every logical gate nothing. So a gate without an entry is charged the profile's
one- or two-qubit rate (by the gate's arity); when the plugin left that rate at 0 but listed
gates of the same arity, the mean of those listed errors stands in for it.
"""

from __future__ import annotations

from collections.abc import Mapping

from qtau.gates import DIRECTIVES, arity


def unlisted_gate_error(gate: str, gate_errors: Mapping[str, float], one_qubit_error: float,
                        two_qubit_error: float) -> float:
    """The error of `gate`, which `gate_errors` does not list: the rate of its arity, or, when that
    rate is 0, the mean error of the listed gates of the same arity (one qubit, or two and more)."""
    wide = arity(gate) >= 2
    rate = two_qubit_error if wide else one_qubit_error
    if rate:
        return rate
    same = [err for name, err in gate_errors.items() if name not in DIRECTIVES and (arity(name) >= 2) == wide]
    return sum(same) / len(same) if same else rate
