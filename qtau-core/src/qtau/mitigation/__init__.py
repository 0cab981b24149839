"""Error mitigation QTAU runs for a task: readout correction, TREX and zero-noise extrapolation.

Own implementations in Python and numpy (mitiq, GPL-3.0, is never required). A task's `mitigation` setting
(`qtau.mitigation_options`) is expanded where the task runs into the circuits its technique needs,
sent as one backend batch with the rest of the task's batch (`qtau.mitigation.executors`), and the
counts come back corrected: quasi-probabilities beside the unmitigated counts, with the technique
and its overhead (docs/mitigation.md).
"""

from __future__ import annotations

from qtau.mitigation.distributions import z_expectation
from qtau.mitigation.extrapolation import extrapolate, linear_weights, richardson_weights
from qtau.mitigation.overhead import Overhead, declared, summed
from qtau.mitigation.readout import Assignment
from qtau.mitigation.report import expectation, mitigated_counts, report
from qtau.mitigation_options import TECHNIQUES, Mitigation, parse_mitigation

__all__ = [
    "TECHNIQUES", "Assignment", "Mitigation", "Overhead", "declared", "expectation", "extrapolate",
    "linear_weights", "mitigated_counts", "parse_mitigation", "report", "richardson_weights", "summed", "z_expectation",
]
