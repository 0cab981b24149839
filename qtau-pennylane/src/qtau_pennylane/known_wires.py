"""Handing a new tape the wires of the tape it was made from, instead of recomputing them.

`QuantumScript.wires` is computed on first use by asking every operation for its wires, and a
controlled gate (CNOT, CZ...) builds a new `Wires` each time it is asked. A sampled gradient makes
several tapes from each shifted tape on its way to the simulator (the sample tape, QTAU's job
tape, the simulator's sample measurement), and recomputing the same wires on each was a tenth of
its time. When a new tape provably has the wires of an old one (same operations, measurements on
wires in the order the old tape lists them), they are set on it directly; a tape whose
operations' wires are already at hand gets its wires from them (`settle`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any


def computed(tape: Any) -> Any:
    """The tape's wires if already computed (cached), else None."""
    return tape.__dict__.get("wires") if _cached(tape) else None


def with_wires(tape: Any, wires: Any) -> Any:
    """`tape` with `wires` as its (not yet computed) wires; unchanged where PennyLane does not
    cache them as a `functools.cached_property` (a later version computing them differently)."""
    if wires is not None and _cached(tape) and "wires" not in tape.__dict__:
        tape.__dict__["wires"] = wires
    return tape


def _cached(tape: Any) -> bool:
    return isinstance(getattr(type(tape), "wires", None), functools.cached_property)


def settle(tape: Any, op_wires: Sequence[Any]) -> Any:
    """The tape's wires, computed as PennyLane does from `op_wires` (each operation's `wires`,
    already asked for) and its measurements' wires, and handed to the tape; the tape's own when
    already computed."""
    found = computed(tape)
    if found is None:
        from pennylane.wires import Wires

        found = Wires.all_wires(dict.fromkeys([*op_wires, *(m.wires for m in tape.measurements)]))
        with_wires(tape, found)
    return found
