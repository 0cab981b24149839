"""Readout-error mitigation with tensored per-qubit assignment matrices.

Two calibration circuits per resource and width (every qubit in |0>, every qubit in |1>) give each
qubit's 2x2 assignment matrix A_q = [[P(0|0), P(0|1)], [P(1|0), P(1|1)]] (column: prepared,
row: read). Assuming readout errors independent between qubits, the noisy distribution is
(A_q(k) for each classical bit k, tensored) times the true one, so applying each inverse along its
bit's axis gives quasi-probabilities: the unbiased estimate, which may be slightly negative.
Correlated readout errors (crosstalk) are outside this model; the full 2**n matrix would need
2**n calibration circuits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from qtau.errors import MitigationError
from qtau.mitigation.distributions import to_dict, to_vector

if TYPE_CHECKING:
    import numpy as np


def calibration_programs(width: int) -> tuple[str, str]:
    """OpenQASM 2 programs preparing all-0 and all-1 on `width` qubits, qubit i read into bit i."""
    head = f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{width}];\ncreg c[{width}];\n'
    measure = "".join(f"measure q[{i}] -> c[{i}];\n" for i in range(width))
    zeros = head + "barrier q;\n" + measure
    ones = head + "".join(f"x q[{i}];\n" for i in range(width)) + "barrier q;\n" + measure
    return zeros, ones


def _marginal_one(counts: Mapping[str, int], bit: int) -> float:
    """P(bit reads 1) over counts whose keys have bit 0 rightmost."""
    total = sum(counts.values())
    ones = sum(n for key, n in counts.items() if len(key.replace(" ", "")) > bit
               and key.replace(" ", "")[-1 - bit] == "1")
    return ones / total if total else 0.0


@attrs.frozen(eq=False)
class Assignment:
    """Per-qubit assignment matrices: `matrices[q]` is qubit q's 2x2 A (column = prepared)."""

    matrices: tuple[tuple[tuple[float, float], tuple[float, float]], ...]

    @classmethod
    def from_errors(cls, p1_given_0: Sequence[float], p0_given_1: Sequence[float]) -> Assignment:
        mats = tuple(((1 - a, b), (a, 1 - b)) for a, b in zip(p1_given_0, p0_given_1, strict=True))
        return cls(mats)

    @classmethod
    def calibrate(cls, zeros: Mapping[str, int], ones: Mapping[str, int], width: int) -> Assignment:
        """From the counts of the two calibration circuits of `calibration_programs(width)`."""
        return cls.from_errors([_marginal_one(zeros, q) for q in range(width)],
                               [1 - _marginal_one(ones, q) for q in range(width)])

    @property
    def width(self) -> int:
        return len(self.matrices)

    def errors(self) -> list[float]:
        """Each qubit's mean readout error (P(1|0) + P(0|1)) / 2."""
        return [(m[1][0] + m[0][1]) / 2 for m in self.matrices]

    def inverse(self, qubit: int) -> np.ndarray:
        import numpy as np  # where counts are corrected, not where QTAU is imported

        mat = np.array(self.matrices[qubit], dtype=float)
        if abs(np.linalg.det(mat)) < 1e-6:
            raise MitigationError(
                f"qubit {qubit}'s readout cannot be told apart from noise (P(1|0) + P(0|1) is 1)",
                field="mitigation", value="readout",
                fix="use another resource, or mitigation='zne' without readout correction")
        return np.linalg.inv(mat)

    def to_plain(self) -> list:
        return [[list(row) for row in m] for m in self.matrices]

    @classmethod
    def from_plain(cls, plain: Sequence) -> Assignment:
        return cls(tuple(tuple(tuple(float(x) for x in row) for row in m) for m in plain))


def apply_inverse(vec: np.ndarray, inverses: Sequence[np.ndarray]) -> np.ndarray:
    """(inverse of bit k applied along bit k's axis, every k): `inverses[k]` acts on bit k."""
    import numpy as np

    bits = len(inverses)
    tensor = vec.reshape((2,) * bits) if bits else vec
    for k, inv in enumerate(inverses):
        axis = bits - 1 - k  # bit 0 is the last axis of a C-order reshape
        tensor = np.moveaxis(np.tensordot(inv, tensor, axes=([1], [axis])), 0, axis)
    return tensor.reshape(-1)


def mitigate(counts: Mapping[str, float], assignment: Assignment, qubit_of_bit: Sequence[int | None]) -> dict[str, float]:
    """Quasi-probabilities of the counts of a circuit whose classical bit k read qubit
    `qubit_of_bit[k]`, corrected with that qubit's inverse assignment matrix."""
    import numpy as np

    bits = len(qubit_of_bit)
    vec = to_vector(counts, bits)
    # A bit no measurement wrote reads 0 whatever the readout: nothing to correct.
    inverses = [np.eye(2) if q is None else assignment.inverse(q) for q in qubit_of_bit]
    return to_dict(apply_inverse(vec, inverses), bits)
