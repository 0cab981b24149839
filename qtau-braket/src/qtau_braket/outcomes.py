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


def outcome(result: Any, circuit: Any, **metadata: Any) -> Outcome:
    """An Outcome from a GateModelQuantumTaskResult of `circuit` (a Braket Circuit)."""
    from qtau_braket.formats import measured_qubits

    explicit = any(ins.operator.name == "Measure" for ins in circuit.instructions)
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
    return Outcome(counts=common_order(result.measurement_counts), metadata=meta, raw=result)
