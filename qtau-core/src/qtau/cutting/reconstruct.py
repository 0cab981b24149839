"""Expectation values from the counts of a cut circuit's subexperiments, with a bootstrap error.

QTAU's counts (bit 0 rightmost, registers side by side, from any backend) become the quasi-
distributions qiskit-addon-cutting's `reconstruct_expectation_values` reads; each observable is
the coefficient-weighted sum of its Pauli terms. The error bar resamples every subexperiment's
counts (multinomial, same shots) and reconstructs again: it covers shot noise of every piece, and
nothing else (a biased backend is not in it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Bootstrap resamples behind a standard error (more is steadier and slower).
BOOTSTRAP = 100


def _quasi(counts: Mapping[str, int]) -> dict[int, float]:
    total = sum(counts.values()) or 1
    return {int(key.replace(" ", ""), 2): n / total for key, n in counts.items()}


def _pauli_values(plan: Any, counts: Mapping[Any, Sequence[Mapping[str, int]]]) -> Any:
    import numpy as np
    from qiskit.primitives import SamplerResult
    from qiskit.result import QuasiDistribution
    from qiskit_addon_cutting import reconstruct_expectation_values

    results = {label: SamplerResult(quasi_dists=[QuasiDistribution(_quasi(c)) for c in per],
                                    metadata=[{} for _ in per]) for label, per in counts.items()}
    return np.real(np.asarray(reconstruct_expectation_values(results, plan.coefficients, plan.subobservables)))


def _combine(plan: Any, pauli_values: Any) -> Any:
    import numpy as np

    index = {p.to_label(): i for i, p in enumerate(plan.paulis)}
    return np.array([sum(float(np.real(c)) * pauli_values[index[p.to_label()]]
                         for p, c in zip(op.paulis, op.coeffs, strict=True)) for op in plan.observables])


def values(plan: Any, counts: Mapping[Any, Sequence[Mapping[str, int]]]) -> Any:
    """Each observable's reconstructed expectation value (a numpy array, observables' order)."""
    return _combine(plan, _pauli_values(plan, counts))


def standard_errors(plan: Any, counts: Mapping[Any, Sequence[Mapping[str, int]]], seed: int | None = None,
                    resamples: int = BOOTSTRAP) -> Any:
    """One bootstrap standard error per observable."""
    import numpy as np

    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        fake = {}
        for label, per in counts.items():
            fake[label] = []
            for c in per:
                keys = list(c)
                shots = sum(c.values())
                n = rng.multinomial(shots, np.array([c[k] for k in keys], dtype=float) / max(shots, 1))
                fake[label].append({k: int(v) for k, v in zip(keys, n, strict=True) if v})
        draws.append(values(plan, fake))
    return np.std(np.array(draws), axis=0, ddof=1)
