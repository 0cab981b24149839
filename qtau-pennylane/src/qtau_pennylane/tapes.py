"""Turning a QNode, a bound QNode or a tape into the tapes one resource runs, with the shot rule.

A QNode is not run on its own device: its tape is rebuilt (user transforms applied, as
`qml.workflow.construct_batch(qnode, level="user")` does) and executed on the resource's device.

Shot rule, what a PennyLane user expects of `qnode()`:
- A circuit is *analytic* when its QNode (or tape) has no shots of its own and returns only
  analytic measurements (expval, var, probs, state...): it then runs exactly, ignoring the task's
  shots, on devices that can (`Resource.metadata["analytic"]`).
- Otherwise it is *sampled* with the task's shots (`QuantumTask.shots`, which replace the QNode's
  own count): when it returns counts or samples, when the QNode was given shots
  (`qml.set_shots(qnode, shots=...)`), or when the device only samples (Qiskit, AWS, QVM).
Shots go on the tapes (the current API); devices are created without shots.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
from qtau.errors import InvalidTaskError, QtauError

from qtau_pennylane.binding import BoundQNode

#: Measurements that need samples (no analytic value exists).
SAMPLED = frozenset({"CountsMP", "SampleMP", "ClassicalShadowMP", "ShadowExpvalMP"})
#: Computational-basis measurements whose empty wires mean "every device wire".
ALL_WIRES = frozenset({"CountsMP", "SampleMP", "ProbabilityMP"})


@attrs.frozen(eq=False)
class Built:
    """What one job runs: its tapes, how to fold their results, the device wires, sampled or not."""

    tapes: tuple
    post: Callable[[Sequence[Any]], Any]
    wires: tuple
    sampled: bool
    #: Every measurement names its wires, so a device with more wires gives the same results
    #: and the job can share one `qml.execute` call with jobs of other widths.
    shareable: bool = True


def _first(results: Sequence[Any]) -> Any:
    return results[0]


def ordered_wires(wires) -> tuple:
    """Integer wires in numeric order (so wire 0 is bit 0); other labels in the order seen."""
    labels = tuple(wires)
    if all(isinstance(w, int) for w in labels):
        return tuple(sorted(labels))
    return labels


def qnode_batch(qnode: Any, args: tuple = (), kwargs: dict | None = None) -> tuple[list, Callable, tuple | None]:
    """The QNode's tapes at the user-transform level, their post-processing, its device's wires."""
    import pennylane as qml

    if isinstance(qnode, BoundQNode):
        qnode, args, kwargs = qnode.qnode, qnode.args + tuple(args), {**qnode.kwargs, **(kwargs or {})}
    name = getattr(getattr(qnode, "func", None), "__name__", "qnode")
    try:
        tapes, post = qml.workflow.construct_batch(qnode, level="user")(*args, **(kwargs or {}))
    except QtauError:
        raise
    except Exception as err:
        raise InvalidTaskError(
            f"building the circuit of QNode {name}() raised {type(err).__name__}: {err}",
            field="circuit", value=name,
            fix="if the QNode takes arguments, pass circuit=qtau_pennylane.bind(qnode, *args), or a "
            "function returning the QNode; otherwise fix the quantum function",
        ) from err
    dev_wires = getattr(getattr(qnode, "device", None), "wires", None)
    # The transform program folds results into one entry per initial tape; a QNode has one.
    return list(tapes), lambda results: post(results)[0], (tuple(dev_wires) if dev_wires else None)


def explicit_wires(tape: Any, wires: tuple) -> Any:
    """`tape` with wire-less counts/sample/probs measuring `wires`, so its width survives conversion."""
    import pennylane as qml

    changed = False
    measurements = []
    for m in tape.measurements:
        kind = type(m).__name__
        if kind in ALL_WIRES and m.obs is None and getattr(m, "mv", None) is None and not m.wires:
            if kind == "CountsMP":
                m = qml.counts(wires=wires, all_outcomes=m.all_outcomes)
            elif kind == "SampleMP":
                m = qml.sample(wires=wires)
            else:
                m = qml.probs(wires=wires)
            changed = True
        measurements.append(m)
    # Passing the operations keeps them shared: `copy` would otherwise copy every operator.
    return tape.copy(operations=tape.operations, measurements=measurements) if changed else tape


def is_sampled(tapes: Sequence[Any]) -> bool:
    return any(t.shots for t in tapes) or any(type(m).__name__ in SAMPLED for t in tapes for m in t.measurements)


def build(circuit: Any, circuit_format: str, shots: int, analytic_ok: bool,
          args: tuple = (), kwargs: dict | None = None) -> Built:
    """The tapes a job runs on a resource, shots set by the rule in this module's docstring."""
    if circuit_format == "pennylane_qnode":
        tapes, post, dev_wires = qnode_batch(circuit, args, kwargs)
    elif circuit_format == "pennylane_tape":
        tapes, post, dev_wires = [circuit], _first, None
    else:
        raise InvalidTaskError(
            f"the PennyLane executor cannot run circuit format {circuit_format!r}", field="circuit_format",
            value=circuit_format, fix="let QTAU convert the circuit (formats: pennylane_qnode, pennylane_tape)",
        )
    if dev_wires is None:
        seen: dict = {}
        for tape in tapes:
            seen.update(dict.fromkeys(tape.wires))
        dev_wires = ordered_wires(seen) or (0,)
    dev_wires = tuple(dev_wires)
    sampled = not analytic_ok or is_sampled(tapes)
    tapes = [_with_shots(explicit_wires(t, dev_wires), shots if sampled else None) for t in tapes]
    shareable = all(m.wires for t in tapes for m in t.measurements)
    return Built(tuple(tapes), post, dev_wires, sampled, shareable)


def _with_shots(tape: Any, shots: int | None) -> Any:
    """`tape` with `shots`, sharing its operators (the tape runs; nothing mutates them)."""
    from pennylane.measurements import Shots

    if tape.shots == Shots(shots):
        return tape
    return tape.copy(operations=tape.operations, shots=shots)


def union_wires(groups: Sequence[tuple]) -> tuple:
    seen: dict = {}
    for wires in groups:
        seen.update(dict.fromkeys(wires))
    return ordered_wires(seen)
