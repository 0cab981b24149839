"""Zero-noise extrapolation's fits: values measured at noise scales, extrapolated to scale 0.

Both fits are linear in the measured values (`weights(...) @ values`), so one set of weights
extrapolates an expectation value and every quasi-probability of a distribution alike, and the
statistical error of the result is the measured one times the weights' norm (what QDREAMER
charges as ZNE's shot overhead).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qtau.errors import MitigationError


def richardson_weights(scales: Sequence[float]) -> np.ndarray:
    """Weights w with sum(w * f(scales)) = p(0) for the polynomial p of degree len(scales)-1
    through the points: the Lagrange basis evaluated at 0, prod_{j != i} s_j / (s_j - s_i)."""
    s = np.asarray(scales, dtype=float)
    if len(set(s.tolist())) != len(s) or len(s) < 2:
        raise MitigationError("Richardson extrapolation needs at least two distinct scale factors",
                              field="mitigation.scale_factors", value=tuple(scales), fix="pass [1, 3, 5]")
    w = np.ones(len(s))
    for i in range(len(s)):
        for j in range(len(s)):
            if j != i:
                w[i] *= s[j] / (s[j] - s[i])
    return w


def linear_weights(scales: Sequence[float]) -> np.ndarray:
    """Weights giving the intercept of the least-squares line through (scale, value)."""
    s = np.asarray(scales, dtype=float)
    if len(set(s.tolist())) < 2:
        raise MitigationError("a linear fit needs at least two distinct scale factors",
                              field="mitigation.scale_factors", value=tuple(scales), fix="pass [1, 3]")
    design = np.stack([np.ones_like(s), s], axis=1)
    return np.linalg.pinv(design)[0]


def weights(scales: Sequence[float], fit: str) -> np.ndarray:
    return richardson_weights(scales) if fit == "richardson" else linear_weights(scales)


def extrapolate(scales: Sequence[float], values: Sequence[float] | np.ndarray, fit: str = "richardson") -> np.ndarray:
    """The zero-noise estimate from values at `scales` (values may be arrays: one row per scale)."""
    return np.tensordot(weights(scales, fit), np.asarray(values, dtype=float), axes=1)


def variance_factor(scales: Sequence[float], fit: str) -> float:
    """How much the fit multiplies a measured value's variance (sum of squared weights), with the
    same shots at every scale."""
    return float(np.sum(weights(scales, fit) ** 2))
