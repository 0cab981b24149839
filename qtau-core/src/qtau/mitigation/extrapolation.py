"""Zero-noise extrapolation's fits: values measured at noise scales, extrapolated to scale 0.

Both fits are linear in the measured values (`sum(w_i * values_i)`), so one set of weights
extrapolates an expectation value and every quasi-probability of a distribution alike, and the
statistical error of the result is the measured one times the weights' norm (what QDREAMER
charges as ZNE's shot overhead). Plain Python: QDREAMER ranks with these weights in the driver,
which imports no numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qtau.errors import MitigationError


def _distinct(scales: Sequence[float], what: str, example: str) -> list[float]:
    s = [float(x) for x in scales]
    if len(set(s)) != len(s) or len(s) < 2:
        raise MitigationError(f"{what} needs at least two distinct scale factors",
                              field="mitigation.scale_factors", value=tuple(scales), fix=f"pass {example}")
    return s


def richardson_weights(scales: Sequence[float]) -> list[float]:
    """Weights w with sum(w * f(scales)) = p(0) for the polynomial p of degree len(scales)-1
    through the points: the Lagrange basis evaluated at 0, prod_{j != i} s_j / (s_j - s_i)."""
    s = _distinct(scales, "Richardson extrapolation", "[1, 3, 5]")
    w = []
    for i, si in enumerate(s):
        weight = 1.0
        for j, sj in enumerate(s):
            if j != i:
                weight *= sj / (sj - si)
        w.append(weight)
    return w


def linear_weights(scales: Sequence[float]) -> list[float]:
    """Weights giving the intercept of the least-squares line through (scale, value):
    1/n - mean * (s_i - mean) / sum_j (s_j - mean)^2."""
    s = _distinct(scales, "a linear fit", "[1, 3]")
    mean = sum(s) / len(s)
    spread = sum((x - mean) ** 2 for x in s)
    return [1 / len(s) - mean * (x - mean) / spread for x in s]


def weights(scales: Sequence[float], fit: str) -> list[float]:
    return richardson_weights(scales) if fit == "richardson" else linear_weights(scales)


def extrapolate(scales: Sequence[float], values: Sequence[Any], fit: str = "richardson") -> Any:
    """The zero-noise estimate from values at `scales`: numbers, or equal-length rows (one per
    scale: a distribution's entries), extrapolated entry by entry."""
    w = weights(scales, fit)
    if all(isinstance(v, (int, float)) for v in values):
        return sum(wi * float(v) for wi, v in zip(w, values, strict=True))
    rows = [list(map(float, v)) for v in values]
    return [sum(wi * row[k] for wi, row in zip(w, rows, strict=True)) for k in range(len(rows[0]))]


def variance_factor(scales: Sequence[float], fit: str) -> float:
    """How much the fit multiplies a measured value's variance (sum of squared weights), with the
    same shots at every scale."""
    return sum(x * x for x in weights(scales, fit))
