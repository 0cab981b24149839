"""Unitary folding: the same circuit with its noise scaled by a factor, for zero-noise extrapolation.

Global folding runs U (U^-1 U)^k, then, for a scale between odd integers, the last gates L once
more as L^-1 L; local folding replaces gates G by G (G^-1 G)^k, the extra folds spread evenly over
the circuit. Barriers separate each fold, so no transpiler cancels U^-1 U back to nothing. The
scale actually reached (gates run / gates written) is returned beside each program: it is what
the extrapolation uses.
"""

from __future__ import annotations

import math

import attrs

from qtau.errors import MitigationError
from qtau.mitigation.qasm_program import CALL, Program, ordered_defs


@attrs.frozen
class Folded:
    """A folded body (`Program.text(body, extra_defs=defs)` writes it) and the scale it reached."""

    body: list[str]
    defs: list[str]
    scale: float

    def text(self, program: Program, flips: frozenset[int] = frozenset()) -> str:
        return program.text(self.body, flips, self.defs)


def _check(program: Program) -> None:
    if program.non_unitary:
        raise MitigationError(
            f"zero-noise extrapolation folds circuits that only measure at the end; this one has "
            f"{program.non_unitary[:60]!r}", field="mitigation", value="zne",
            fix="move measurements to the end and drop reset/if, or use mitigation='readout' / 'trex'")


def _split(scale: float, n: int) -> tuple[int, int]:
    """(whole folds k, extra single folds) for `scale` over n gates."""
    if scale < 1:
        raise MitigationError("a scale factor is at least 1", field="mitigation.scale_factors", value=scale,
                              fix="pass scale_factors=[1, 3, 5]")
    k = int(math.floor((scale - 1) / 2 + 1e-9))
    extra = int(round(n * (scale - 1 - 2 * k) / 2))
    return k, min(extra, n)


def fold_global(program: Program, scale: float) -> Folded:
    """The program's body folded globally to `scale`, the inverse definitions it calls, and the
    scale reached."""
    _check(program)
    gates = program.body
    n = len(program.gates())
    if n == 0:
        return Folded(list(gates), [], 1.0)
    k, extra = _split(scale, n)
    needed: dict[str, str] = {}
    inverse = [program.inverse(st, needed) for st in reversed(gates)]
    sep = f"barrier {program.all_qubits()};"
    body = list(gates)
    for _ in range(k):
        body += [sep, *inverse, sep, *gates]
    if extra:
        tail = _last_gates(gates, extra)
        body += [sep, *[program.inverse(st, needed) for st in reversed(tail)], sep, *tail]
    return Folded(body, ordered_defs(needed), (n * (1 + 2 * k) + 2 * extra) / n)


def _last_gates(body: list[str], count: int) -> list[str]:
    """The shortest tail of `body` holding `count` gate calls (barriers inside it kept)."""
    seen = 0
    for i in range(len(body) - 1, -1, -1):
        if not body[i].startswith("barrier"):
            seen += 1
            if seen == count:
                return body[i:]
    return list(body)


def _args(st: str) -> str:
    """The qubit arguments of a gate call."""
    return CALL.match(st.rstrip(";").strip()).group(3).strip()


def fold_local(program: Program, scale: float) -> Folded:
    """The program's body with each gate folded locally to `scale` (as `fold_global` returns it)."""
    _check(program)
    n = len(program.gates())
    if n == 0:
        return Folded(list(program.body), [], 1.0)
    k, extra = _split(scale, n)
    needed: dict[str, str] = {}
    body: list[str] = []
    g = 0
    for st in program.body:
        body.append(st)
        if st.startswith("barrier"):
            continue
        # Extra folds at evenly spaced gates: gate g gets one when floor((g+1)*extra/n) steps up.
        folds = k + ((g + 1) * extra // n - g * extra // n)
        g += 1
        if folds:
            inv = program.inverse(st, needed)
            sep = f"barrier {_args(st)};"
            for _ in range(folds):
                body += [sep, inv, sep, st]
    return Folded(body, ordered_defs(needed), (n * (1 + 2 * k) + 2 * extra) / n)


def fold(program: Program, scale: float, method: str = "global") -> Folded:
    return fold_global(program, scale) if method == "global" else fold_local(program, scale)
