"""The gate counts of a circuit as an optimising transpiler will run it: inverse pairs cancelled.

A resource whose SDK optimises circuits before running them (IBM backends and their fakes at
`optimization_level` 1 or more, which their plugin publishes in the resource's metadata) removes
a gate followed, on the same qubits and with nothing between, by its inverse, and the pairs this
uncovers in turn. A mirror circuit (random layers, then their inverse) collapses to nothing there:
its gates as written predict a fidelity of 0.84 on `fake_manila`, the fake runs it at 0.999, and
QDREAMER's mitigation pairs ranked the fake's pairs far below what they achieve. Resources that
run the circuit as written (Aer at level 0, Braket's simulators) keep the written counts.
"""

from __future__ import annotations

import ast
import itertools
import math
import operator
from collections import Counter
from collections.abc import Mapping
from typing import Any

from qtau.errors import QtauError
from qtau.mitigation.qasm_program import CALL, Program, _split_top, invert_call

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}


def optimises(metadata: Mapping[str, Any]) -> bool:
    """Whether a resource's transpiler cancels inverse pairs (`optimization_level` 1+ or "auto")."""
    level = metadata.get("optimization_level")
    return level == "auto" or (isinstance(level, int) and not isinstance(level, bool) and level >= 1)


def _number(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id == "pi":
        return math.pi
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_number(node.left), _number(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_number(node.operand))
    raise ValueError("not a number")


def _call(statement: str) -> tuple[str, tuple[float, ...], tuple[str, ...]] | None:
    """(name, parameter values, qubit refs) of a gate call; None when a parameter is no number."""
    m = CALL.match(statement.rstrip(";").strip())
    if not m:
        return None
    try:
        params = tuple(_number(ast.parse(p, mode="eval").body) for p in _split_top(m.group(2) or ""))
    except (ValueError, SyntaxError, ZeroDivisionError, OverflowError):
        return None
    return m.group(1), params, tuple(r.replace(" ", "") for r in _split_top(m.group(3)))


def _same(a: tuple[str, tuple[float, ...], tuple[str, ...]] | None,
          b: tuple[str, tuple[float, ...], tuple[str, ...]] | None) -> bool:
    return a is not None and b is not None and a[0] == b[0] and len(a[1]) == len(b[1]) \
        and all(math.isclose(x, y, abs_tol=1e-9) for x, y in zip(a[1], b[1], strict=True))


def _expand(ref: str, prog: Program) -> list[int]:
    """The qubit indices of an argument (a whole register is all of its qubits)."""
    sizes = dict(prog.qregs)
    refs = [f"{ref}[{i}]" for i in range(sizes[ref])] if ref in sizes else [ref]
    return [prog.index(r, True) for r in refs]


def _cancels(kept: list, last: dict[int, list[int]], call: tuple, qubits: tuple[int, ...],
             prog: Program) -> bool:
    """Whether the gate on `qubits` undoes the last gate standing there (then that one goes)."""
    tops = {last[q][-1] if last.get(q) else None for q in qubits}
    top = tops.pop() if len(tops) == 1 else None
    if top is None or kept[top] is None or "barrier" in (kept[top][0], call[0]) or kept[top][2] != qubits:
        return False
    try:
        inverse = _call(invert_call(kept[top][1], prog.defs, {}))
    except QtauError:
        return False
    if not _same(inverse, call):
        return False
    kept[top] = None
    for q in qubits:
        last[q].pop()
    return True


def _standing(text: str) -> list[tuple[str, str, tuple[int, ...]]] | None:
    """The gate calls left once inverse pairs cancel (barriers block it), as (name, statement,
    qubits); None when the text is no OpenQASM 2 program QTAU reads."""
    try:
        prog = Program.parse(text)
    except QtauError:
        return None
    last: dict[int, list[int]] = {}  # qubit -> indices of the gates on it still standing
    kept: list[tuple[str, str, tuple[int, ...]] | None] = []
    for st in prog.body:
        call = _call(st)
        if call is None:
            return None
        try:
            lists = [_expand(ref, prog) for ref in call[2]]
        except (QtauError, AttributeError, KeyError):
            return None
        width = max((len(qs) for qs in lists), default=0)
        # A whole-register argument broadcasts: one gate per qubit (per pair, ...) of the register.
        for i in range(width):
            qubits = tuple(qs[i] if len(qs) > 1 else qs[0] for qs in lists)
            if not _cancels(kept, last, call, qubits, prog):
                kept.append((call[0], st, qubits))
                for q in qubits:
                    last.setdefault(q, []).append(len(kept) - 1)
    return [k for k in kept if k is not None and k[0] != "barrier"]


def cancelled_counts(text: str) -> Counter | None:
    """Gate name -> count of the gates left once inverse pairs cancel; None when unreadable."""
    kept = _standing(text)
    return None if kept is None else Counter(k[0] for k in kept)


def cancelled_interactions(text: str) -> Counter | None:
    """(qubit, qubit) -> multi-qubit gates left on the pair once inverse pairs cancel."""
    kept = _standing(text)
    if kept is None:
        return None
    pairs: Counter = Counter()
    for _, _, qubits in kept:
        for a, b in itertools.combinations(sorted(set(qubits)), 2):
            pairs[a, b] += 1
    return pairs


__all__ = ["cancelled_counts", "cancelled_interactions", "optimises"]
