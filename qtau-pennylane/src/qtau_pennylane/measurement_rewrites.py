"""Tape rewrites that let `qtau.qubit` compute from samples what PennyLane's own transforms cannot
hand it: the variance of a sum, and postselected mid-circuit measurements. Classical shadows,
which need a random basis per shot, are refused with a `UnsupportedMeasurementError`.

Every resource only samples in the computational basis, so each measurement must reach the
device as `qml.sample` of wires; `split_non_commuting` does that for expectation values of sums
(one tape per group of terms) but cannot for a variance, whose value needs the sum's value shot
by shot, and `defer_measurements` can only postselect with a `Projector` gate, which no resource
runs. The transforms below are run by `QtauQubitDevice.preprocess_transforms`.
"""

from __future__ import annotations

import numpy as np
import pennylane as qml
from pennylane.measurements import ClassicalShadowMP, ShadowExpvalMP, VarianceMP
from pennylane.ops import Sum
from pennylane.ops.qubit.observables import BasisStateProjector, Projector
from pennylane.pauli import PauliSentence, PauliWord
from pennylane.tape import QuantumScript
from pennylane.wires import Wires

from qtau_pennylane.device_errors import QtauDeviceError, UnsupportedMeasurementError

#: The widest sum whose variance is measured in the sum's own eigenbasis (a dense 2**n x 2**n
#: matrix, its eigenvectors prepared by a QubitUnitary that is decomposed into O(4**n) gates).
EIGENBASIS_MAX_WIRES = 5


def _null(results):
    return results[0]


# -- classical shadows ------------------------------------------------------------------------------


@qml.transform
def refuse_shadows(tape: QuantumScript):
    """UnsupportedMeasurementError for `qml.classical_shadow` / `qml.shadow_expval`, which measure
    each shot in its own random Pauli basis: QTAU runs a tape's shots in one basis per task, so a
    shadow would be one task per distinct basis (up to one task per shot)."""
    for m in tape.measurements:
        if isinstance(m, (ClassicalShadowMP, ShadowExpvalMP)):
            kind = "qml.shadow_expval" if isinstance(m, ShadowExpvalMP) else "qml.classical_shadow"
            raise UnsupportedMeasurementError(
                f"qtau.qubit does not support classical-shadow measurements ({kind}): each shot of a "
                "shadow needs its own random measurement basis, and QTAU runs a tape's shots in one basis",
                field="measurement", value=repr(m),
                fix="measure qml.expval(observable) instead (qtau.qubit estimates it from the same shots), "
                "or run the shadow QNode on default.qubit",
            )
    return (tape,), _null


# -- variance of a sum ------------------------------------------------------------------------------


def _is_sum(obs) -> bool:
    """Whether `obs` is a sum of more than one term (the measurements `split_non_commuting`
    refuses to split for a variance)."""
    rep = obs.pauli_rep
    if rep is not None:
        return len(rep) > 1
    if isinstance(obs, (qml.ops.SProd, qml.ops.Prod)):
        obs = obs.simplify()
    return isinstance(obs, Sum)


def _z_only(rep: PauliSentence) -> bool:
    return all(word and all(p in ("Z", "I") for p in word.values()) for word in rep)


def _qubit_wise_basis(rep: PauliSentence) -> dict | None:
    """The Pauli letter each wire is read in when the words of `rep` commute qubit-wise, else None."""
    basis: dict = {}
    for word in rep:
        for wire, letter in word.items():
            if basis.setdefault(wire, letter) != letter:
                return None
    return basis


def _needs_rewrite(m) -> bool:
    if not isinstance(m, VarianceMP) or m.obs is None or getattr(m, "mv", None) is not None:
        return False
    rep = m.obs.pauli_rep
    if rep is not None and (_z_only(rep) or not any(rep)):
        return False  # Z words only (already diagonal, read shot by shot: zwords), or a constant
    return _is_sum(m.obs)


def _rewritten_variance(m) -> tuple[list, VarianceMP]:
    """Gates to append and the variance measurement that replaces `var(sum)` on a tape of its own.

    Two ways, chosen per sum:

    * The terms commute qubit-wise (`X0 + X1`, `Z0 + 2 I`, `X0 @ Y1 + Y1`): one product basis
      reads every term, so each wire is rotated into Z (X -> H, Y -> Z S H) and the sum of the
      rotated Z words is evaluated shot by shot; its sample variance is the sum's variance. No
      matrix is formed, so this works at any width. An identity term (a constant) does not change
      a variance and is dropped.
    * Otherwise (`X0 @ X1 + Y0 @ Y1`, `Z0 + X0`, sums holding a Hermitian) the sum is measured in
      its own eigenbasis, as default.qubit does: the variance of `qml.Hermitian(matrix)`, whose
      diagonalizing gates and eigenvalues `rotate_other_observables` applies. Its terms need not
      commute, and no cheaper basis exists in general; the matrix is 2**n square and its eigenbasis
      a QubitUnitary of O(4**n) gates, so sums on more than `EIGENBASIS_MAX_WIRES` wires are
      refused with an UnsupportedMeasurementError.
    """
    obs = m.obs
    rep = obs.pauli_rep
    if rep is not None:
        words = PauliSentence({word: c for word, c in rep.items() if word})
        basis = _qubit_wise_basis(words)
        if basis is not None and words:
            gates = []
            for wire, letter in basis.items():
                if letter == "X":
                    gates.extend(qml.PauliX(wire).diagonalizing_gates())
                elif letter == "Y":
                    gates.extend(qml.PauliY(wire).diagonalizing_gates())
            z_sum = PauliSentence({PauliWord({w: "Z" for w in word}): c for word, c in words.items()})
            return gates, qml.var(z_sum.operation(wire_order=list(basis)))
    wires = obs.wires
    if len(wires) > EIGENBASIS_MAX_WIRES:
        raise UnsupportedMeasurementError(
            f"qtau.qubit measures the variance of a sum whose terms do not commute qubit-wise in the "
            f"sum's eigenbasis, which it computes as a matrix only up to {EIGENBASIS_MAX_WIRES} wires; "
            f"this sum acts on {len(wires)}",
            field="measurement", value=repr(m),
            fix="measure qml.expval of the sum and of its square (var = <H @ H> - <H>**2), use a sum "
            "whose terms commute qubit-wise, or run this QNode on default.qubit",
        )
    return [], qml.var(qml.Hermitian(qml.matrix(obs, wire_order=wires), wires=wires))


@qml.transform
def variance_of_sums(tape: QuantumScript):
    """`qml.var` of a sum (or Hamiltonian) as a measurement `qtau.qubit` can sample: each such
    variance goes on a tape of its own, rewritten by `_rewritten_variance`; the tape's other
    measurements stay together on one tape. Results come back in the tape's order (shot vectors
    included). Tapes without such a variance pass unchanged."""
    targets = [i for i, m in enumerate(tape.measurements) if _needs_rewrite(m)]
    if not targets:
        return (tape,), _null
    rest = [i for i in range(len(tape.measurements)) if i not in targets]
    tapes, layout = [], []
    if rest:
        tapes.append(tape.copy(measurements=[tape.measurements[i] for i in rest]))
        layout.append(rest)
    for i in targets:
        gates, measurement = _rewritten_variance(tape.measurements[i])
        tapes.append(tape.copy(operations=list(tape.operations) + gates, measurements=[measurement]))
        layout.append([i])
    count = len(tape.measurements)

    def merge(results):
        out = [None] * count
        for positions, result in zip(layout, results, strict=True):
            values = [result] if len(positions) == 1 else list(result)
            for position, value in zip(positions, values, strict=True):
                out[position] = value
        return out[0] if count == 1 else tuple(out)

    def postprocessing(results):
        if tape.shots.has_partitioned_shots:
            return tuple(merge([r[b] for r in results]) for b in range(tape.shots.num_copies))
        return merge(results)

    return tapes, postprocessing


# -- postselection ----------------------------------------------------------------------------------


def _fresh_wires(tape_wires: Wires):
    """New wire labels beside `tape_wires`: integers after the largest where every label is an
    integer (QTAU then keeps the wires' numbers), otherwise named labels."""
    integers = all(isinstance(w, int) and not isinstance(w, bool) for w in tape_wires)
    taken = set(tape_wires)
    n = (max(tape_wires, default=-1) + 1) if integers else 0
    while True:
        label = n if integers else f"__qtau_postselect_{n}"
        n += 1
        if label not in taken:
            taken.add(label)
            yield label


@qml.transform
def postselect_on_samples(tape: QuantumScript):
    """Postselection (`qml.measure(w, postselect=v)`) done on the samples, as PennyLane's one-shot
    method and default.qubit's "hw-like" mode do it: shots whose mid-circuit measurement did not
    give `v` are discarded, so results have fewer effective shots (a `qml.sample` fewer rows;
    with none kept, expectation values are NaN as on default.qubit).

    `defer_measurements(allow_postselect=True)` marks each postselection with a basis-state
    `Projector` at the point of the measurement. Here each Projector becomes a readout: when its
    wire is touched again later, a CNOT copies the wire's Z value onto a fresh wire at that point
    (the state kept by conditioning the copy on `v` is the projected state), otherwise the wire
    itself is read at the end. The tape then samples every wire once, and each original
    measurement (already rotated into the computational basis) is computed by PennyLane's
    `process_samples` from the kept shots. A `Projector` placed in the circuit by the user is a
    projection too, and is treated the same way.
    """
    if not any(isinstance(op, Projector) for op in tape.operations):
        return (tape,), _null
    ops = list(tape.operations)
    fresh = _fresh_wires(tape.wires)
    new_ops, checks = [], []
    for i, op in enumerate(ops):
        if not isinstance(op, Projector):
            new_ops.append(op)
            continue
        if not isinstance(op, BasisStateProjector):
            raise QtauDeviceError(
                "qtau.qubit can apply a Projector in a circuit only onto a computational basis state "
                "(it postselects the shots on it); this one projects onto a state vector",
                field="operation", value=repr(op),
                fix="project onto a basis state (qml.Projector([0, 1], wires=[0, 1])) after the gates that "
                "rotate your state vector into it, or use default.qubit",
            )
        later = set().union(*(set(o.wires) for o in ops[i + 1:]))
        for wire, bit in zip(op.wires, np.asarray(op.data[0]).astype(int).ravel(), strict=True):
            if wire in later:
                copy = next(fresh)
                new_ops.append(qml.CNOT([wire, copy]))
                checks.append((copy, int(bit)))
            else:
                checks.append((wire, int(bit)))
    measured = Wires.all_wires([Wires([w for w, _ in checks])] + [m.wires for m in tape.measurements]
                               + [o.wires for o in new_ops])
    new_tape = QuantumScript(new_ops, [qml.sample(wires=measured)], shots=tape.shots)
    columns = [measured.index(w) for w, _ in checks]
    wanted = np.array([bit for _, bit in checks])

    def kept(samples):
        array = np.asarray(samples).reshape(-1, len(measured))
        return array[np.all(array[:, columns] == wanted, axis=1)]

    def values(samples):
        if tape.batch_size:  # one sample array per broadcast parameter: shots are kept per element
            per_element = [values_of(kept(s)) for s in samples]
            return _stack(per_element, len(tape.measurements))
        return values_of(kept(samples))

    def values_of(samples):
        out = [m.process_samples(samples, measured) for m in tape.measurements]
        return out[0] if len(out) == 1 else tuple(out)

    def postprocessing(results):
        samples = results[0]
        if tape.shots.has_partitioned_shots:
            return tuple(values(s) for s in samples)
        return values(samples)

    return (new_tape,), postprocessing


def _stack(per_element: list, count: int):
    """Results of each broadcast element stacked as PennyLane stacks a broadcast measurement."""
    def stack(items):
        return np.stack(items) if all(isinstance(x, np.ndarray) or np.isscalar(x) for x in items) else tuple(items)

    if count == 1:
        return stack(per_element)
    return tuple(stack([element[k] for element in per_element]) for k in range(count))

