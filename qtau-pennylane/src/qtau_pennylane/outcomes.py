"""PennyLane results in QTAU's shape: `values` as numpy floats, `counts` with qubit 0 rightmost.

`values` mirrors what the QNode returns (a tuple for several measurements), numbers as numpy
float scalars/arrays (complex for `qml.state()`/`qml.density_matrix`), a `qml.counts` dict as plain `{str: int}` in PennyLane's own key order.
`counts` comes from the first wire-based `qml.counts` or `qml.sample` of the circuit; PennyLane
puts the first wire on the left, QTAU's order puts it on the right, so keys are reversed. A
circuit that returns only expectation values, probabilities or variances has empty counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qtau_pennylane import known_wires


def plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): int(n) for k, n in value.items()}
    if isinstance(value, (tuple, list)):
        return tuple(plain(v) for v in value)
    array = np.asarray(value)
    # States and density matrices stay complex; every other measurement is real.
    array = array.astype(complex if np.iscomplexobj(array) else float, copy=False)
    return array[()] if array.ndim == 0 else array


def bit_counts(samples: Any, all_outcomes: bool = False) -> dict[str, Any]:
    """PennyLane's `qml.counts` of computational-basis samples (shots x wires of 0/1), computed
    with numpy: keys are bit strings with the first wire on the left, ascending, values numpy
    int64, every outcome present when `all_outcomes`. The same dict `CountsMP` builds, without
    its per-shot Python string joins (the largest cost of a sampled gradient on a fast simulator)."""
    array = np.asarray(samples)
    if array.ndim == 1:
        array = array[:, None]
    width = array.shape[1]
    weights = 1 << np.arange(width - 1, -1, -1, dtype=np.int64)
    index = array.astype(np.int64) @ weights
    values, counts = np.unique(index, return_counts=True)
    found = {f"{int(v):0{width}b}": np.int64(c) for v, c in zip(values, counts, strict=True)}
    if not all_outcomes:
        return found
    return {key: found.get(key, np.int64(0)) for key in (f"{v:0{width}b}" for v in range(2 ** width))}


#: Devices that return `qml.sample` of computational-basis wires (braket.local.qubit, for one,
#: answers counts but not samples), where counts are cheaper made from samples with numpy.
SAMPLES_FAST = frozenset({"lightning.qubit", "lightning.gpu", "lightning.kokkos", "default.qubit"})


def _plain_counts(m: Any) -> bool:
    return (type(m).__name__ == "CountsMP" and m.obs is None and getattr(m, "mv", None) is None
            and len(m.wires) > 0)


def counts_as_samples(tapes: Sequence[Any]) -> tuple[list[Any], list[dict[int, bool]]]:
    """Tapes whose computational-basis `qml.counts(wires=...)` measure `qml.sample` instead, and
    per tape {measurement index: all_outcomes} of what was swapped (`samples_as_counts` turns the
    samples back). Tapes with shot vectors, broadcasting or a single shot run unchanged."""
    import pennylane as qml

    out, swapped = [], []
    for tape in tapes:
        shots = tape.shots
        if (not shots or shots.has_partitioned_shots or shots.total_shots < 2 or tape.batch_size is not None
                or not any(_plain_counts(m) for m in tape.measurements)):
            out.append(tape)
            swapped.append({})
            continue
        marks = {i: bool(m.all_outcomes) for i, m in enumerate(tape.measurements) if _plain_counts(m)}
        measurements = [qml.sample(wires=m.wires) if i in marks else m for i, m in enumerate(tape.measurements)]
        # Same operations, measurements on the same wires: the same wires, handed over.
        out.append(known_wires.with_wires(tape.copy(operations=tape.operations, measurements=measurements),
                                          known_wires.computed(tape)))
        swapped.append(marks)
    return out, swapped


def samples_as_counts(results: Sequence[Any], swapped: Sequence[dict[int, bool]]) -> list[Any]:
    """Results of `counts_as_samples`' tapes with each swapped measurement's samples as the counts
    dict `qml.counts` would have returned (`bit_counts`)."""
    out = []
    for result, marks in zip(results, swapped, strict=True):
        if not marks:
            out.append(result)
        elif isinstance(result, tuple):
            out.append(tuple(bit_counts(r, marks[i]) if i in marks else r for i, r in enumerate(result)))
        else:
            out.append(bit_counts(result, marks[0]))
    return out


def _counts_from_samples(samples: Any) -> dict[str, int]:
    """QTAU counts (wire 0 rightmost) of computational-basis samples."""
    return {key[::-1]: int(n) for key, n in bit_counts(samples).items()}


def common_counts(tape: Any, result: Any) -> dict[str, int]:
    """Counts of the first bit-string measurement of `tape`, keys reversed to put wire 0 right."""
    many = len(tape.measurements) != 1
    for i, m in enumerate(tape.measurements):
        mv = getattr(m, "mv", None)
        if m.obs is not None or (mv is not None and not isinstance(mv, (list, tuple))):
            continue  # a list of measurement values is a bit string (formats._readings_tape)
        value = result[i] if many else result
        kind = type(m).__name__
        if kind == "CountsMP":
            return {str(k)[::-1]: int(n) for k, n in value.items() if int(n)}
        if kind == "SampleMP":
            return _counts_from_samples(value)
    return {}
