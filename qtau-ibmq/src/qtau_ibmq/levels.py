"""`optimization_level="auto"`: the transpiler level chosen per circuit and device by the estimated
fidelity of the circuit as it will run.

Each level (0-3) places and routes the circuit its own way; which one runs best depends on the
circuit and on the device's calibration (a higher level may move the circuit onto better qubits,
or spend more two-qubit gates than it saves). The estimate multiplies (1 - error) over every
instruction of the transpiled circuit on the physical qubits it landed on, readout included, from
the backend's Target: the calibration data the device (or fake) publishes. The level with the
highest estimate runs (a tie goes to the lower level: less transpile work and the same gates).

QDREAMER asks for the same weighing before the task runs (the `qtau_optimisation_levels` hook,
`executor.level_estimates`): it ranks the resource by the chosen level's estimate and `explain()`
shows every level's. The transpiled circuits are cached per circuit and resource, so the run that
follows in the same process runs the chosen level's circuit without transpiling it again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

LEVELS = (0, 1, 2, 3)
#: Instructions that take no time and carry no error.
FREE = frozenset({"barrier", "delay"})


def estimated_fidelity(isa: Any, target: Any, readout: bool = True) -> float:
    """Product of (1 - error) over the ISA circuit's instructions, errors from `target` (an
    instruction the target gives no error for counts as error-free); without the measurements'
    errors when `readout` is False (the gates' fidelity, which error mitigation predicts apart)."""
    log_f = 0.0
    for inst in isa.data:
        name = inst.operation.name
        if name in FREE or (not readout and name == "measure"):
            continue
        qargs = tuple(isa.find_bit(q).index for q in inst.qubits)
        try:
            props = target[name].get(qargs)
        except KeyError:
            props = None
        error = getattr(props, "error", None) or 0.0
        log_f += math.log1p(-min(max(float(error), 0.0), 0.999999))
    return math.exp(log_f)


def choose(transpile: Callable[[int], Any], target: Any) -> tuple[Any, dict[str, Any]]:
    """The ISA circuit of the level with the highest estimated fidelity, and what was weighed:
    `{"optimization_level": chosen, "estimated_fidelity": {level: estimate}}`."""
    best = None
    estimates = {}
    for level in LEVELS:
        isa = transpile(level)
        estimates[level] = estimated_fidelity(isa, target)
        if best is None or estimates[level] > estimates[best[1]] + 1e-12:
            best = (isa, level)
    return best[0], {"optimization_level": best[1], "estimated_fidelity": estimates}
