"""PennyLane results in QTAU's shape: `values` as numpy floats, `counts` with qubit 0 rightmost.

`values` mirrors what the QNode returns (a tuple for several measurements), numbers as numpy
float scalars/arrays (complex for `qml.state()`/`qml.density_matrix`), a `qml.counts` dict as plain `{str: int}` in PennyLane's own key order.
`counts` comes from the first wire-based `qml.counts` or `qml.sample` of the circuit; PennyLane
puts the first wire on the left, QTAU's order puts it on the right, so keys are reversed. A
circuit that returns only expectation values, probabilities or variances has empty counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): int(n) for k, n in value.items()}
    if isinstance(value, (tuple, list)):
        return tuple(plain(v) for v in value)
    array = np.asarray(value)
    # States and density matrices stay complex; every other measurement is real.
    array = array.astype(complex if np.iscomplexobj(array) else float, copy=False)
    return array[()] if array.ndim == 0 else array


def _counts_from_samples(samples: Any) -> dict[str, int]:
    array = np.asarray(samples)
    if array.ndim == 1:
        array = array[:, None]
    out: dict[str, int] = {}
    for row in array.astype(int):
        key = "".join(str(b) for b in row[::-1])
        out[key] = out.get(key, 0) + 1
    return out


def common_counts(tape: Any, result: Any) -> dict[str, int]:
    """Counts of the first bit-string measurement of `tape`, keys reversed to put wire 0 right."""
    many = len(tape.measurements) != 1
    for i, m in enumerate(tape.measurements):
        if m.obs is not None or getattr(m, "mv", None) is not None:
            continue
        value = result[i] if many else result
        kind = type(m).__name__
        if kind == "CountsMP":
            return {str(k)[::-1]: int(n) for k, n in value.items() if int(n)}
        if kind == "SampleMP":
            return _counts_from_samples(value)
    return {}
