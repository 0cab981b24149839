"""A robust NoiseProfile from a backend's Target: medians, with distrusted calibrations flagged.

Calibration snapshots carry placeholder values: FakeKyoto reports an error of 1.0 on every one of
its 144 ECR couplers, FakeCusco 0.5 readout errors on 27 qubits. An error at or above
`BROKEN` (a coin flip) is left out of the medians and named in `NoiseProfile.flags`, so one bad
coupler does not make a device look unusable to QDREAMER. When every value of a class is broken,
the class falls back to `FALLBACK` (a pessimistic typical value) and the flag says so. The fake's
own simulation still applies the snapshot as is; the flag is the warning.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable

from qtau.gates import normalize_gate
from qtau.types import NoiseProfile

#: An error rate at or above this is no better than guessing: treated as placeholder data.
BROKEN = 0.5
#: Used when a device has no trustworthy value of a class (documented, deliberately pessimistic).
FALLBACK = {"one_qubit": 1e-3, "two_qubit": 5e-2, "readout": 5e-2}
#: Operations that are not gates for error purposes (virtual, idle, control flow, non-unitary).
NOT_GATES = frozenset({"measure", "reset", "delay", "barrier", "if_else", "for_loop", "while_loop",
                       "switch_case", "box", "break_loop", "continue_loop"})
#: Frame changes implemented in software: error 0 by construction, so they would drag medians down.
VIRTUAL = frozenset({"rz", "p", "u1"})


def _valid(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None and isinstance(v, (int, float)) and math.isfinite(v) and v >= 0]


def _errors(target, op: str) -> list[float]:
    props = target[op]
    return _valid(p.error for p in props.values() if p is not None)


def _split(values: list[float]) -> tuple[list[float], int]:
    good = [v for v in values if v < BROKEN]
    return good, len(values) - len(good)


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _arity(target, op: str) -> int:
    qargs = [q for q in (target.qargs_for_operation_name(op) or ()) if q is not None]
    if qargs:
        return len(next(iter(qargs)))
    return getattr(target.operation_from_name(op), "num_qubits", 1)


def _coherence(target, attr: str) -> float | None:
    props = target.qubit_properties or []
    values = _valid(getattr(p, attr, None) for p in props if p is not None)
    values = [v for v in values if v > 0]
    return None if not values else float(statistics.median(values)) * 1e6


def profile(resource_id: str, target, source: str) -> NoiseProfile:
    """Per-gate medians, pooled 1q/2q/readout medians and T1/T2 (µs) of `target`."""
    flags: list[str] = []
    gate_errors: dict[str, float] = {}
    pooled: dict[int, list[float]] = {1: [], 2: []}
    broken_classes: dict[int, int] = {1: 0, 2: 0}
    for op in sorted(target.operation_names):
        if op in NOT_GATES:
            continue
        raw = _errors(target, op)
        if not raw:
            continue
        good, bad = _split(raw)
        if bad:
            flags.append(f"{op}: {bad} of {len(raw)} calibrations report error >= {BROKEN} "
                         "(placeholder data), left out of the medians")
        med = _median(good)
        if med is not None:
            gate_errors[normalize_gate(op)] = med
        if op in VIRTUAL or op == "id":
            continue
        n = min(_arity(target, op), 2)
        pooled[n].extend(good)
        broken_classes[n] += bad
    one = _median(pooled[1])
    two = _median(pooled[2])
    if one is None:
        one = FALLBACK["one_qubit"]
        flags.append(f"one_qubit_error: no trustworthy calibration, using the fallback {one}")
    if two is None and broken_classes[2]:
        two = FALLBACK["two_qubit"]
        flags.append(f"two_qubit_error: every two-qubit calibration is placeholder data, using the "
                     f"fallback {two}; a simulation of this snapshot applies the placeholders as given")
    elif two is None and target.num_qubits > 1:
        two = FALLBACK["two_qubit"]
        flags.append(f"two_qubit_error: no two-qubit calibration, using the fallback {two}")
    elif two is None:
        two = 0.0
    readout = 0.0
    if "measure" in target.operation_names:
        raw = _errors(target, "measure")
        good, bad = _split(raw)
        if bad:
            flags.append(f"measure: {bad} of {len(raw)} readout errors are >= {BROKEN} (placeholder data), "
                         "left out of the median")
        med = _median(good)
        if med is None and raw:
            med = FALLBACK["readout"]
            flags.append(f"readout_error: no trustworthy calibration, using the fallback {med}")
        readout = med or 0.0
    else:
        flags.append("no measurement calibration in the target: readout error unknown")
    return NoiseProfile(
        resource_id=resource_id, one_qubit_error=one, two_qubit_error=two, readout_error=readout,
        t1_us=_coherence(target, "t1"), t2_us=_coherence(target, "t2"), gate_errors=gate_errors,
        flags=tuple(flags), source=source,
    )
