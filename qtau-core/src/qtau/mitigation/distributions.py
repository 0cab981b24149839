"""Counts and distributions as dense vectors over bitstrings, and Z-string expectation values.

Index k of a vector is the bitstring whose integer value is k, bit 0 rightmost (QTAU's counts
convention). Quasi-probabilities may be negative; they sum to 1.

numpy is imported by the functions that use it, where a mitigated task's counts are corrected:
QDREAMER and the service import this package in the driver, and `import qtau` stays without numpy
(qtau-core/tests/test_import.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from qtau.errors import InvalidArgumentError, MitigationError

if TYPE_CHECKING:
    import numpy as np

#: Widest register whose full distribution is held as a dense vector (2**20 floats, 8 MiB).
MAX_DENSE_BITS = 20


def clean_key(key: str) -> str:
    """A counts key without the spaces some SDKs put between classical registers."""
    return key.replace(" ", "")


def width_of(counts: Mapping[str, int]) -> int:
    return max((len(clean_key(k)) for k in counts), default=0)


def check_width(bits: int, what: str) -> None:
    if bits > MAX_DENSE_BITS:
        raise MitigationError(
            f"{what} needs the full distribution over {bits} classical bits, more than the {MAX_DENSE_BITS} "
            "QTAU mitigates densely", field="mitigation", value=bits,
            fix="measure fewer bits, or use mitigation='zne' (no readout correction)")


def to_vector(counts: Mapping[str, int | float], bits: int) -> np.ndarray:
    """Counts (or probabilities) as a normalised vector of length 2**bits."""
    import numpy as np

    check_width(bits, "readout mitigation")
    vec = np.zeros(2 ** bits)
    for key, n in counts.items():
        vec[int(clean_key(key), 2)] += n
    total = vec.sum()
    return vec / total if total else vec


def to_dict(vec: np.ndarray, bits: int, cutoff: float = 1e-12) -> dict[str, float]:
    """A vector as {bitstring: value}, dropping entries of magnitude below `cutoff`."""
    return {format(i, f"0{bits}b"): float(v) for i, v in enumerate(vec) if abs(v) > cutoff}


def z_mask(pauli: int | str, bits: int | None = None) -> int:
    """The bits a Z-string reads: `pauli` is a label of 'Z' and 'I' (either case, bit 0 rightmost,
    as Qiskit writes Pauli labels) or an int mask. Anything else is an InvalidArgumentError naming
    it: an X or Y (counts are Z-basis readings, which no X or Y term can be read from; it had been
    read as I), and, with `bits` (the width of the counts read), a label of another length or a
    mask beyond them (a missing bit had been read as 0)."""
    has = f"; the result has {bits} bits" if bits is not None else ""
    fix = "pass a label of 'Z' and 'I' with bit 0 rightmost (e.g. 'IZ'), one letter per bit, or an int mask"
    if isinstance(pauli, str):
        label = pauli.upper()
        if not label or set(label) - {"Z", "I"}:
            raise InvalidArgumentError(
                f"pauli {pauli!r} is not a Z-string: counts are Z-basis readings, so X or Y terms (or "
                f"other letters) cannot be read from them{has}", field="pauli", value=pauli,
                fix=fix + "; measure X or Y terms in their basis (rotate first, or use QtauEstimator)")
        if bits is not None and len(label) != bits:
            raise InvalidArgumentError(f"pauli {pauli!r} has {len(label)} letters{has}", field="pauli",
                                       value=pauli, fix=fix)
        return int(label.replace("Z", "1").replace("I", "0"), 2)
    if isinstance(pauli, bool) or not isinstance(pauli, int) or pauli < 0 \
            or (bits is not None and pauli >= 1 << bits):
        raise InvalidArgumentError(f"pauli {pauli!r} is neither a Z-string nor a mask of the bits{has}",
                                   field="pauli", value=repr(pauli), fix=fix)
    return pauli


def z_expectation(dist: Mapping[str, float], mask: int | str) -> float:
    """<Z_S>: the expectation of the product of Z on the bits set in `mask` (an int, or a string of
    'Z'/'I' with bit 0 rightmost, as Qiskit writes Pauli labels: `z_mask`), over probabilities or counts."""
    mask = z_mask(mask)
    total = sum(dist.values()) if dist else 0.0
    if not total:
        return 0.0
    value = 0.0
    for key, p in dist.items():
        parity = bin(int(clean_key(key), 2) & mask).count("1") & 1
        value += -p if parity else p
    return value / total


def local_spread(dist: Mapping[str, float], bits: int) -> float | None:
    """The mean of 1 - <Z_S>^2 over the Z-strings S of weight 1 and 2 on `bits` bits: the
    per-shot variance of the local observables (one- and two-body terms, what Hamiltonians and
    parities read) of the state `dist` describes (probabilities, quasi-probabilities or counts).
    None for an empty distribution or no bits."""
    if bits < 1 or not dist:
        return None
    import numpy as np

    keys = list(dist)
    p = np.array([float(dist[k]) for k in keys])
    total = p.sum()
    if not total:
        return None
    ints = np.array([int(clean_key(k), 2) for k in keys], dtype=np.int64)
    signs = 1.0 - 2.0 * ((ints[:, None] >> np.arange(bits)) & 1)  # (keys, bits): +-1 per bit
    one = np.clip(p @ signs / total, -1.0, 1.0)
    two = np.clip((signs * p[:, None]).T @ signs / total, -1.0, 1.0)
    upper = two[np.triu_indices(bits, 1)]
    values = np.concatenate([1.0 - one ** 2, 1.0 - upper ** 2])
    return float(values.mean())


def walsh_hadamard(vec: np.ndarray) -> np.ndarray:
    """The unnormalised Walsh-Hadamard transform: entry S is sum_x (-1)^{|x & S|} vec[x], i.e.
    <Z_S> of a probability vector. Its own inverse up to 1/len(vec)."""
    import numpy as np

    out = np.array(vec, dtype=float)
    n = len(out)
    h = 1
    while h < n:
        out = out.reshape(-1, 2, h)
        out = np.stack([out[:, 0] + out[:, 1], out[:, 0] - out[:, 1]], axis=1).reshape(n)
        h *= 2
    return out


def nearest_probabilities(quasi: Mapping[str, float]) -> dict[str, float]:
    """The probability distribution closest (in 2-norm) to quasi-probabilities: negative entries
    set to 0 and their (negative) mass spread evenly over the rest (Smolin, Gambetta and
    Smith, PRL 108, 070502)."""
    items = sorted(quasi.items(), key=lambda kv: kv[1])
    total = sum(v for _, v in items) or 1.0
    values = [v / total for _, v in items]
    deficit = 0.0
    out = {}
    n = len(values)
    for i, v in enumerate(values):
        remaining = n - i
        if v + deficit / remaining < 0:
            deficit += v
            continue
        shift = deficit / remaining
        out[items[i][0]] = v + shift
        for j in range(i + 1, n):
            out[items[j][0]] = values[j] + shift
        break
    return out


def rounded_counts(probs: Mapping[str, float], shots: int) -> dict[str, int]:
    """Counts summing to `shots` whose shares are closest to `probs` (largest remainders)."""
    raw = {k: p * shots for k, p in probs.items() if p > 0}
    counts = {k: int(v) for k, v in raw.items()}
    left = shots - sum(counts.values())
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[:left]:
        counts[k] += 1
    return {k: n for k, n in counts.items() if n}
