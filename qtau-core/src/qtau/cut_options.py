"""The `cut=` option of a cut task (`QuantumTask(cut=...)`, `qtau.cutting`, `QtauEstimator(cutting=...)`),
checked where it is written: "auto", True, False or a dict of `CUT_KEYS`. No SDK is imported here,
so `QuantumTask` can check it when it is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from qtau.errors import InvalidTaskError
from qtau.scalars import plain

#: Keys a `cut={...}` dict may hold.
CUT_KEYS = ("max_width", "gate_cuts", "wire_cuts", "max_overhead", "seed", "max_backjumps")
#: The cut search's default effort: 100 backjumps found the same overhead as the add-on's 10,000 on
#: the benchmark's circuits, 13x faster on a 60-qubit ansatz (benchmarks/cutting.py).
MAX_BACKJUMPS = 100


@attrs.frozen
class CutOptions:
    """`cut="auto"` cuts only when no resource is wide enough; `cut=True` or a dict always plans
    (a circuit that fits gets no cuts); `cut=False` never cuts."""

    mode: str = "auto"  # "auto" | "always" | "never"
    max_width: int | None = None
    gate_cuts: bool = True
    wire_cuts: bool = True
    max_overhead: float | None = None
    seed: int = 111
    max_backjumps: int | None = MAX_BACKJUMPS


def cut_options(cut: Any) -> CutOptions:
    """`cut` as given by the user ("auto", True, False or a dict of CUT_KEYS; numpy's scalars as
    Python's, `qtau.scalars`)."""
    cut = plain(cut)
    if cut is None or cut == "auto":
        return CutOptions()
    if cut is True:
        return CutOptions(mode="always")
    if cut is False or cut == "never":
        return CutOptions(mode="never")
    if isinstance(cut, Mapping):
        cut = {key: plain(value) for key, value in cut.items()}
        unknown = sorted(set(cut) - set(CUT_KEYS))
        if unknown:
            raise InvalidTaskError(
                f"unknown cut option(s) {unknown}", field="cut", value=dict(cut),
                fix=f"use only {', '.join(CUT_KEYS)}",
            )
        width = cut.get("max_width")
        if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < 1):
            raise InvalidTaskError("cut max_width must be a positive whole number of qubits",
                                   field="cut.max_width", value=width, fix="pass e.g. {'max_width': 5}")
        overhead = cut.get("max_overhead")
        if overhead is not None and (isinstance(overhead, bool) or not isinstance(overhead, (int, float))
                                     or overhead < 1):
            raise InvalidTaskError("cut max_overhead must be a number of at least 1",
                                   field="cut.max_overhead", value=overhead, fix="pass e.g. {'max_overhead': 1000}")
        flags = {k: cut.get(k, True) for k in ("gate_cuts", "wire_cuts")}
        for key, value in flags.items():
            if not isinstance(value, bool):
                raise InvalidTaskError(f"cut {key} must be True or False", field=f"cut.{key}",
                                       value=value, fix=f"pass {{'{key}': True}} or leave it out")
        if not any(flags.values()):
            raise InvalidTaskError("cut allows neither gate nor wire cuts", field="cut", value=dict(cut),
                                   fix="allow gate_cuts or wire_cuts, or pass cut=False")
        seed = cut.get("seed", 111)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InvalidTaskError("cut seed must be an integer", field="cut.seed", value=seed,
                                   fix="pass e.g. {'seed': 7}")
        backjumps = cut.get("max_backjumps", MAX_BACKJUMPS)
        if backjumps is not None and (isinstance(backjumps, bool) or not isinstance(backjumps, int) or backjumps < 0):
            raise InvalidTaskError("cut max_backjumps must be a whole number or None (search until proven best)",
                                   field="cut.max_backjumps", value=backjumps, fix="pass e.g. {'max_backjumps': 1000}")
        return CutOptions("always", width, flags["gate_cuts"], flags["wire_cuts"],
                          None if overhead is None else float(overhead), seed, backjumps)
    raise InvalidTaskError(
        "cut must be 'auto', True, False or a dict of cut options", field="cut", value=cut,
        fix="pass cut='auto' (cut only when no resource is wide enough), cut=False, or e.g. {'max_width': 5}",
    )
