"""`LevelEstimates`: a plugin's estimate of a circuit's fidelity at each of its transpiler's
optimisation levels on one resource, and the level it would run (the `qtau_optimisation_levels`
hook's answer; see docs/plugins.md).

QDREAMER ranks the resource by the chosen level's estimate instead of its noise profile applied to
the circuit as written, and `explain()` shows every level's estimate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs


def _levels(value: Mapping[int, float] | tuple) -> tuple[tuple[int, float], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((int(k), float(v)) for k, v in items))


@attrs.frozen
class LevelEstimates:
    """Estimated fidelity of one circuit per optimisation level on one resource.

    `estimated_fidelity`: (level, share of shots expected to run without an error, readout
    included) pairs, level order (a `{level: estimate}` mapping is accepted); `chosen`: the level
    the resource will run the circuit at; `gate_fidelity`: the chosen level's estimate without
    readout errors (error mitigation predicts gates and readout apart), None when not known;
    `note`: how the level was chosen, shown by `explain()`.
    """

    estimated_fidelity: tuple[tuple[int, float], ...] = attrs.field(converter=_levels)
    chosen: int = attrs.field(converter=int)
    gate_fidelity: float | None = None
    note: str = ""

    def __attrs_post_init__(self) -> None:
        levels = dict(self.estimated_fidelity)
        if self.chosen not in levels:
            raise ValueError(f"chosen level {self.chosen} is not among the estimated levels {sorted(levels)}")
        for value in [*levels.values(), *(() if self.gate_fidelity is None else (self.gate_fidelity,))]:
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"an estimated fidelity must lie in [0, 1], got {value!r}")

    @property
    def by_level(self) -> dict[int, float]:
        return dict(self.estimated_fidelity)

    @property
    def fidelity(self) -> float:
        """The chosen level's estimate: what QDREAMER ranks the resource by."""
        return self.by_level[self.chosen]

    def describe(self) -> str:
        """`level 2 of 0: 0.812, 1: 0.845, 2: 0.861 (chosen), 3: 0.861`."""
        parts = [f"{k}: {v:.4f}" + (" (chosen)" if k == self.chosen else "") for k, v in self.estimated_fidelity]
        return f"level {self.chosen} of " + ", ".join(parts) + (f"; {self.note}" if self.note else "")


__all__ = ["LevelEstimates"]
