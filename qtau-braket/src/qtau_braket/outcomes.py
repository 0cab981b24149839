"""Braket results in QTAU's common shape: counts with bit 0 rightmost, and what was measured.

Braket writes the first measured qubit as the LEFTMOST character of a bitstring; QTAU (like Qiskit)
puts bit 0 on the RIGHT, so every key is reversed. Bit i is the i-th measured qubit
(`measured_qubits[i]`); a circuit without measurements measures every qubit (Braket's implicit
measure-all), which `Outcome.metadata` says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qtau.types import Outcome


def common_order(counts: Mapping[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, n in counts.items():
        flipped = str(key)[::-1]
        out[flipped] = out.get(flipped, 0) + int(n)
    return out


def widen(counts: Mapping[str, int], measured: list[int], width: int) -> dict[str, int]:
    """Counts over every qubit of a `width`-qubit task, from Braket-order keys over `measured`
    qubits: Braket measures only the qubits a circuit uses, so idle ones read 0 (QTAU's order)."""
    out: dict[str, int] = {}
    for key, n in counts.items():
        bits = ["0"] * width
        for j, q in enumerate(measured):
            if q < width:
                bits[width - 1 - q] = str(key)[j]
        full = "".join(bits)
        out[full] = out.get(full, 0) + int(n)
    return out


def explicit_measurement(circuit: Any) -> bool:
    return any(ins.operator.name == "Measure" for ins in circuit.instructions)


def counts_of(counts: Mapping[str, int], measured: list[int], explicit: bool, width: int | None) -> dict[str, int]:
    """QTAU-order counts; the implicit measure-all of a circuit with idle qubits is widened to the
    task's width, so every backend's keys have the same length."""
    if not explicit and width and (len(measured) != width or measured != list(range(width))):
        return widen(counts, measured, width)
    return common_order(counts)


def outcome(result: Any, circuit: Any, width: int | None = None, **metadata: Any) -> Outcome:
    """An Outcome from a GateModelQuantumTaskResult of `circuit` (a Braket Circuit)."""
    from qtau_braket.formats import measured_qubits

    explicit = explicit_measurement(circuit)
    measured = [int(q) for q in (result.measured_qubits or measured_qubits(circuit))]
    meta = {
        "measured_qubits": measured,
        "implicit_measure_all": not explicit,
        "bit_order": "bit i = measured_qubits[i], bit 0 rightmost",
        **metadata,
    }
    task = getattr(result, "task_metadata", None)
    if task is not None:
        meta.setdefault("task_id", task.id)
        meta.setdefault("device_id", task.deviceId)
    return Outcome(counts=counts_of(result.measurement_counts, measured, explicit, width), metadata=meta, raw=result)
