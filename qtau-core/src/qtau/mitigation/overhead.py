"""What a technique costs: circuits run per task, and shots run per shot asked for.

Declared before anything runs (QDREAMER prices it into quotes and ranks with it) and reported
after (a cached calibration makes the real overhead smaller than the declared worst case).
"""

from __future__ import annotations

from typing import Any

import attrs

from qtau.mitigation_options import Mitigation


@attrs.frozen
class Overhead:
    """`circuits` per task and `shots_multiplier`: total shots run / the task's shots."""

    circuits: int = 1
    shots_multiplier: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"circuits": self.circuits, "shots_multiplier": self.shots_multiplier}


#: No mitigation: one circuit, the task's shots (shared, as QDREAMER asks for it on every decision).
NO_OVERHEAD = Overhead()


def declared(m: Mitigation, bits: int | None = None) -> Overhead:
    """The overhead of `m` with no cached calibration (the worst case), for `bits` measured bits
    (fewer twirls when all 2**bits masks are fewer than asked)."""
    if not m.active or m.technique == "auto":
        return NO_OVERHEAD
    scales = len(m.scale_factors) if m.zne else 1
    if m.readout == "trex":
        twirls = m.twirls if bits is None else min(m.twirls, 2 ** bits)
        return Overhead(scales * twirls + twirls, float(scales + 1))
    if m.readout == "readout":
        return Overhead(scales + 2, float(scales + 2))
    return Overhead(scales, float(scales))
