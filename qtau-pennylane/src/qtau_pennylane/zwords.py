"""Expectation values and variances of Z-word observables read straight from samples.

A sampled gradient asks for `expval(Z(0) @ Z(3))` on every shifted tape. PennyLane's
`ExpectationMP.process_samples` builds the observable's eigenvalue vector (a Kronecker product)
and indexes it with the samples on every call; for a sum of Z words the value of one shot is
simply sum_w c_w * prod_{i in w} (1 - 2 * bit_i), computed here with numpy in one pass. Only
`expval` and `var` of Z words on wires that were sampled take this path, and only for a plain
shots x wires sample array; anything else is PennyLane's own processing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def _terms(obs: Any, wire_order: Sequence) -> list[tuple[float, list[int]]] | None:
    """(coefficient, sample columns) per Z word of `obs`, or None when it is anything else."""
    rep = getattr(obs, "pauli_rep", None)
    if rep is None:
        return None
    column = {w: i for i, w in enumerate(wire_order)}
    terms = []
    for word, coeff in rep.items():
        if not word or any(p not in ("Z", "I") for p in word.values()):
            return None
        try:
            value = complex(coeff)
        except TypeError:  # a trainable coefficient: PennyLane's processing keeps it differentiable
            return None
        if value.imag or any(w not in column for w, p in word.items() if p == "Z"):
            return None
        terms.append((value.real, [column[w] for w, p in word.items() if p == "Z"]))
    return terms or None


def reader(measurement: Any, wire_order: Sequence) -> Callable[[Any], Any]:
    """A function of a sample array giving `measurement`'s value: the Z-word shortcut for
    expval/var of Z words, otherwise `measurement.process_samples` with `wire_order`."""
    def pennylane(samples: Any) -> Any:
        return measurement.process_samples(samples, wire_order)

    kind = type(measurement).__name__
    if kind not in ("ExpectationMP", "VarianceMP") or getattr(measurement, "mv", None) is not None:
        return pennylane
    terms = _terms(measurement.obs, wire_order)
    if terms is None:
        return pennylane
    reduce = np.mean if kind == "ExpectationMP" else np.var

    def from_z_words(samples: Any) -> Any:
        array = np.asarray(samples)
        if array.ndim != 2 or array.shape[1] != len(wire_order):
            return pennylane(samples)
        signs = 1 - 2 * array.astype(np.int8)
        values = np.zeros(array.shape[0])
        for coeff, columns in terms:
            values += coeff * (np.prod(signs[:, columns], axis=1) if len(columns) > 1 else signs[:, columns[0]])
        return np.float64(reduce(values))

    return from_z_words
