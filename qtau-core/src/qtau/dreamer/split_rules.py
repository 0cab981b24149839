"""Which resources may share a task's shots, and how many shots each gets.

Interchangeable for a task: feasible candidates (every constraint holds) whose QDREAMER score is
within `score_margin` of the best (score >= best x (1 - score_margin)), whose estimated fidelity is
within `fidelity_margin` of the best one's (absolute), and which price in the best one's currency
(so the merged cost is one number). At most `max_parts` of them, best first. The best one's twins
(the same simulator with the same settings on other pilots) qualify whatever their scores: they
differ only by the estimates' noise and the work each has in flight, which the shares follow.

Shots are divided in proportion to each resource's expected throughput for this task, the task's
shots over its expected completion time there (queue, in-flight work, run time), by largest
remainder; no part gets fewer than `min_part_shots` (a smaller share goes to the others).

Settings: `initialize_dreamer({"split": {"score_margin": 0.1, "fidelity_margin": 0.02,
"max_parts": 4, "min_part_shots": 100}})`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from qtau.errors import ConfigurationError
from qtau.scalars import plain

DEFAULTS = {"score_margin": 0.10, "fidelity_margin": 0.02, "max_parts": 4, "min_part_shots": 100}


@attrs.frozen
class SplitConfig:
    score_margin: float = DEFAULTS["score_margin"]
    fidelity_margin: float = DEFAULTS["fidelity_margin"]
    max_parts: int = DEFAULTS["max_parts"]
    min_part_shots: int = DEFAULTS["min_part_shots"]

    @classmethod
    def parse(cls, raw: Any) -> SplitConfig:
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ConfigurationError("split settings are a mapping", field="split", value=raw,
                                     fix=f"use e.g. {DEFAULTS}")
        out = {}
        for key, value in raw.items():
            if key not in DEFAULTS:
                raise ConfigurationError(f"unknown split setting {key!r}", field=f"split.{key}", value=value,
                                         fix=f"use {', '.join(DEFAULTS)}")
            integer = isinstance(DEFAULTS[key], int)
            value = plain(value)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            ok = ok and ((value >= 2 if key == "max_parts" else value >= 1) if integer else 0 <= value <= 1)
            if not ok or (integer and not isinstance(value, int)):
                raise ConfigurationError(
                    f"split.{key} must be {'an integer of at least 1' if integer else 'a number in [0, 1]'}"
                    + (" (2 for max_parts)" if key == "max_parts" else ""),
                    field=f"split.{key}", value=value, fix=f"use {DEFAULTS[key]!r} (the default)",
                )
            out[key] = value
        return cls(**out)


def interchangeable(rows: Sequence[Any], config: SplitConfig) -> list[Any]:
    """The feasible rows (best first) that may share the task's shots with the best one."""
    feasible = [r for r in rows if r.feasible]
    if not feasible:
        return []
    best = feasible[0]
    floor = best.score * (1.0 - config.score_margin)
    chosen = [r for r in feasible
              if (r.score >= floor - 1e-12 or (best.twin_group and r.twin_group == best.twin_group))
              and r.fidelity >= best.fidelity - config.fidelity_margin - 1e-12 and r.currency == best.currency]
    return chosen[: config.max_parts]


def allocate(shots: int, throughputs: Sequence[float], min_part_shots: int = 1) -> list[int]:
    """`shots` divided in proportion to `throughputs` (largest remainder); tiny shares dropped."""
    active = list(range(len(throughputs)))
    while True:
        total = sum(throughputs[i] for i in active)
        if total <= 0:
            shares = {i: shots / len(active) for i in active}
        else:
            shares = {i: shots * throughputs[i] / total for i in active}
        small = [i for i in active if shares[i] < min_part_shots]
        if not small or len(active) == 1:
            break
        active.remove(min(small, key=lambda i: shares[i]))
    counts = {i: int(math.floor(shares[i])) for i in active}
    left = shots - sum(counts.values())
    for i in sorted(active, key=lambda i: shares[i] - counts[i], reverse=True)[:left]:
        counts[i] += 1
    return [counts.get(i, 0) for i in range(len(throughputs))]
