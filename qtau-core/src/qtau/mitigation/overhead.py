"""What a technique costs: circuits run per task, and shots run per shot asked for.

Declared before anything runs (QDREAMER prices it into quotes and ranks with it) and reported
after (a cached calibration makes the real overhead smaller than the declared worst case).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from qtau.mitigation.trex import twirl_count
from qtau.mitigation_options import Mitigation
from qtau.types import CircuitSummary, CostEstimate


@attrs.frozen
class Overhead:
    """`circuits` per task and `shots_multiplier`: total shots run / the task's shots."""

    circuits: int = 1
    shots_multiplier: float = 1.0

    def price(self, cost: CostEstimate, shots: int, summary: CircuitSummary | None = None) -> float:
        """What `cost` charges for a task of `shots` shots run with this overhead: each of its
        circuits with its share of the shots run."""
        return cost.total(shots * self.shots_multiplier / self.circuits, tasks=self.circuits, summary=summary)

    def to_dict(self) -> dict[str, Any]:
        return {"circuits": self.circuits, "shots_multiplier": self.shots_multiplier}


#: No mitigation: one circuit, the task's shots (shared, as QDREAMER asks for it on every decision).
NO_OVERHEAD = Overhead()


def declared(m: Mitigation, bits: int | None = None, calibrated: bool = False) -> Overhead:
    """The overhead of `m` for `bits` measured bits (fewer twirls when all 2**bits masks are
    fewer than asked): with its calibration circuits (the worst case), or without them when
    `calibrated` (a calibration that is cached, or that an earlier task of the same batch runs)."""
    if not m.active or m.technique == "auto":
        return NO_OVERHEAD
    scales = len(m.scale_factors) if m.zne else 1
    if m.readout == "trex":
        twirls = m.twirls if bits is None else twirl_count(bits, m.twirls)
        return Overhead(scales * twirls + (0 if calibrated else twirls), float(scales + (0 if calibrated else 1)))
    if m.readout == "readout":
        extra = 0 if calibrated else 2
        return Overhead(scales + extra, float(scales + extra))
    return Overhead(scales, float(scales))


def summed(reported: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What several tasks of equal shots cost together (the tasks of one Estimator or Sampler
    pub): every circuit they ran, and their shots run per shot asked for. How many calibrations
    ran depends on what was cached when each task was planned, so a pub's sum is what its tasks
    really cost, where the first task's own overhead would depend on which finished first."""
    return {"circuits": sum(int(o["circuits"]) for o in reported),
            "shots_multiplier": sum(float(o["shots_multiplier"]) for o in reported) / max(len(reported), 1),
            "tasks": len(reported)}
