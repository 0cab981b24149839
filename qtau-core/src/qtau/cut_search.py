"""The one cut search behind both of QTAU's planners: QDREAMER's (`qtau.cutting`, which places the
pieces on resources) and Pilot-Quantum's `get_cut_plan` (`qtau.cut_plan`, which sizes fragments
for given device capacities). It is qiskit-addon-cutting's cut finder (gate cuts by
quasi-probability decomposition, wire cuts, the cheapest combination it finds within
`max_backjumps`), imported only when a search runs.
"""

from __future__ import annotations

import math
from typing import Any


def find_cuts(circuit: Any, width: int, *, gate_cuts: bool = True, wire_cuts: bool = True,
              max_overhead: float | None = None, seed: int | None = 111,
              max_backjumps: int | None = 10_000) -> tuple[Any, dict[str, Any]]:
    """(the circuit with its cuts marked, the add-on's metadata: `cuts`, `sampling_overhead`,
    `minimum_reached`) for pieces of at most `width` qubits. ValueError when no cuts within
    `max_overhead` (the product of the cuts' factors, e.g. 9 per cut CNOT) were found."""
    from qiskit_addon_cutting.automated_cut_finding import (
        DeviceConstraints,
        OptimizationParameters,
    )
    from qiskit_addon_cutting.automated_cut_finding import find_cuts as search

    params = OptimizationParameters(seed=seed, gate_lo=gate_cuts, wire_lo=wire_cuts,
                                    max_gamma=1024.0 if max_overhead is None else math.sqrt(max_overhead),
                                    max_backjumps=max_backjumps)
    return search(circuit, params, DeviceConstraints(qubits_per_subcircuit=width))
