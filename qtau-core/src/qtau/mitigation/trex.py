"""Twirled readout error extinction (TREX): random bit flips before measurement, undone in software.

Averaged over flips, any readout noise acts on a distribution as a diagonal in the Walsh-Hadamard
(Z-string) basis: each <Z_S> is multiplied by a factor f_S. Running the same flips on the empty
circuit (every qubit |0>, ideally <Z_S> = 1) measures f_S, so dividing the task's Z-string
expectations by them, and transforming back, gives quasi-probabilities. With every one of the 2**m
flip masks the average is exact; otherwise `masks` draws pairs of a random mask and its complement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from qtau.errors import MitigationError
from qtau.mitigation.distributions import check_width, clean_key, to_dict, to_vector, walsh_hadamard

if TYPE_CHECKING:
    import numpy as np

#: Smallest calibration factor |f_S| divided by; below it the readout leaves no signal to recover.
MIN_FACTOR = 1e-3


def twirl_count(bits: int, twirls: int) -> int:
    """How many masks `masks(bits, twirls, seed)` gives: all 2**bits when they are no more than
    `twirls` (one, the empty mask, for no bits), else `twirls`."""
    return min(twirls, 2 ** bits)


def masks(bits: int, twirls: int, seed: int | None) -> list[int]:
    """`twirls` flip masks over `bits` classical bits: all of them when there are few enough, else
    random masks in complementary pairs (each bit flipped in exactly half the twirls)."""
    if twirl_count(bits, twirls) == 2 ** bits:
        return list(range(2 ** bits))
    import numpy as np  # where a mitigated task runs, not where QTAU is imported

    rng = np.random.default_rng(seed)
    full = (1 << bits) - 1
    out: list[int] = []
    while len(out) < twirls:
        m = int(rng.integers(0, 2 ** min(bits, 62))) if bits <= 62 else int(rng.integers(0, 2 ** 62))
        out.append(m & full)
        if len(out) < twirls:
            out.append(~m & full)
    return out


def random_masks(bits: int, twirls: int, seed: int | None) -> bool:
    """Whether `masks(bits, twirls, seed)` draws unseeded random masks (any such set will do)."""
    return seed is None and twirl_count(bits, twirls) < 2 ** bits


def masks_over(written: Sequence[int], twirls: int, seed: int | None) -> list[int]:
    """`masks` over the classical bits a measurement writes (`written`, bit indices), each mask's
    j-th bit moved to bit written[j]. An unwritten bit reads 0 whatever was flipped before it is
    read, so flipping it would only undo nothing: its calibration would show no signal and every
    Z-string holding it could not be corrected."""
    out = []
    for mask in masks(len(written), twirls, seed):
        out.append(sum(1 << bit for j, bit in enumerate(written) if mask >> j & 1))
    return out


def unflip(counts: Mapping[str, int], mask: int, bits: int) -> dict[str, int]:
    """Counts of a twirled run with the flips of `mask` undone."""
    out: dict[str, int] = {}
    for key, n in counts.items():
        value = int(clean_key(key), 2) ^ mask
        k = format(value, f"0{bits}b")
        out[k] = out.get(k, 0) + int(n)
    return out


def merged(runs: Sequence[Mapping[str, int]], mask_list: Sequence[int], bits: int) -> dict[str, int]:
    """The counts of every twirl, flips undone, added up."""
    total: dict[str, int] = {}
    for counts, mask in zip(runs, mask_list, strict=True):
        for key, n in unflip(counts, mask, bits).items():
            total[key] = total.get(key, 0) + n
    return total


def factors(calibration: Mapping[str, int], bits: int) -> np.ndarray:
    """f_S for every Z-string S, from the merged twirled counts of the empty circuit."""
    check_width(bits, "TREX")
    return walsh_hadamard(to_vector(calibration, bits))


def correct(counts: Mapping[str, float], f: np.ndarray, bits: int) -> dict[str, float]:
    """Quasi-probabilities of merged twirled counts, each Z-string's expectation divided by f_S."""
    import numpy as np

    small = np.abs(f) < MIN_FACTOR
    if small.any():
        raise MitigationError(
            f"TREX's calibration left {int(small.sum())} Z-strings without signal (|f| < {MIN_FACTOR})",
            field="mitigation", value="trex", fix="use more shots, or mitigation='readout'")
    spectrum = walsh_hadamard(to_vector(counts, bits)) / f
    return to_dict(walsh_hadamard(spectrum) / len(spectrum), bits)
