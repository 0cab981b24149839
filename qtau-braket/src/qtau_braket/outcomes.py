"""Braket results in QTAU's common shape: counts with bit 0 rightmost, and what was measured.

Braket writes the first measured qubit as the LEFTMOST character of a bitstring; QTAU (like Qiskit)
puts bit 0 on the RIGHT, so every key is reversed. Bit i is the i-th measured qubit
(`measured_qubits[i]`); a circuit without measurements measures every qubit (Braket's implicit
measure-all), which `Outcome.metadata` says. What "every qubit" is depends on where the circuit came
from, as on every other backend: a Circuit built with Braket's API measures the qubits it uses, in
order (`Circuit().x(5).cnot(5, 0)`: bit 0 is qubit 0, bit 1 qubit 5; Braket's own OpenQASM export
says the same); one read from OpenQASM measures every qubit the program declared, bit q being qubit
q (`qubit[3] q; x q[2];` reads `100`, as Qiskit's measure_all does).

With result types (`expectation`, `probability`, `sample`, ...), `Outcome.values` holds their values
in the circuit's order (one result type: its value alone), as Braket computes them; the counts are
then read after the basis rotations Braket adds for the observables (an `expectation(X)` circuit's
counts are X-basis outcomes, 0 for +1), which `metadata["counts_basis"]` says.
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
    """Counts over every qubit of a `width`-qubit OpenQASM program, from Braket-order keys over
    `measured` qubits: Braket measures only the qubits a circuit uses, so idle ones read 0 (QTAU's
    order). Qubit q is bit q."""
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


def declared_qubits(circuit: Any) -> int | None:
    """The qubits of the OpenQASM program `circuit` was read from (`formats.from_openqasm3`), None
    for a Circuit built with Braket's API."""
    from qtau_braket.formats import DECLARED_QUBITS

    return getattr(circuit, DECLARED_QUBITS, None)


def counts_of(counts: Mapping[str, int], measured: list[int], explicit: bool, width: int | None) -> dict[str, int]:
    """QTAU-order counts. `width`: the qubits of the OpenQASM program the circuit was read from
    (`declared_qubits`), whose implicit measure-all is widened to them (idle qubits read 0, bit q is
    qubit q), as Qiskit's measure_all reads such a program; None for a Circuit built with Braket's
    API, whose keys are its used qubits in order, as its OpenQASM export measures them."""
    if not explicit and width and (len(measured) != width or measured != list(range(width))):
        return widen(counts, measured, width)
    return common_order(counts)


def _plain(value: Any) -> Any:
    """A result type's value as plain Python/numpy: floats, arrays (complex only where Braket's are)."""
    import numpy as np

    if isinstance(value, Mapping):  # amplitude: {"01": complex}
        return {str(k): complex(v) for k, v in value.items()}
    array = np.asarray(value)
    array = array.astype(complex if np.iscomplexobj(array) else float, copy=False)
    return array[()] if array.ndim == 0 else array


def values_of(result: Any) -> Any:
    """The values of a result's result types, in the circuit's order (one: its value alone), as
    PennyLane's executor gives a QNode's measurements; None when the circuit has none."""
    types = getattr(result, "result_types", None) or []
    if not types:
        return None
    values = [_plain(item.value) for item in types]
    return values[0] if len(values) == 1 else tuple(values)


def result_types_metadata(result: Any) -> dict[str, Any]:
    """What the metadata says of a result with result types: their names and the counts' basis."""
    types = getattr(result, "result_types", None) or []
    if not types:
        return {}
    return {"result_types": [str(getattr(item.type.type, "value", item.type.type)) for item in types],
            "counts_basis": "measured after the basis rotations of the result types' observables"}


def outcome(result: Any, circuit: Any, **metadata: Any) -> Outcome:
    """An Outcome from a GateModelQuantumTaskResult of `circuit` (a Braket Circuit)."""
    from qtau_braket.formats import measured_qubits

    explicit = explicit_measurement(circuit)
    measured = [int(q) for q in (result.measured_qubits or measured_qubits(circuit))]
    meta = {
        "measured_qubits": measured,
        "implicit_measure_all": not explicit,
        "bit_order": "bit i = measured_qubits[i], bit 0 rightmost",
        **result_types_metadata(result),
        **metadata,
    }
    task = getattr(result, "task_metadata", None)
    if task is not None:
        meta.setdefault("task_id", task.id)
        meta.setdefault("device_id", task.deviceId)
    counts = counts_of(result.measurement_counts, measured, explicit, declared_qubits(circuit))
    return Outcome(counts=counts, values=values_of(result), metadata=meta, raw=result)


def program_outcome(result: Any, program: Any, **metadata: Any) -> Outcome:
    """An Outcome from a GateModelQuantumTaskResult of a `qtau_braket.programs.BraketProgram`.

    The simulator reports one bit per measured element of the program's classical register, in
    element order, the first leftmost (`measured_qubits[i]` is the qubit last measured into the
    i-th of them): reversed, bit 0 is the lowest measured element, and core spreads the keys over
    unwritten bits as for a Circuit. A program that measures nothing reads its used qubits, widened
    to every declared qubit (bit q = qubit q), as a Circuit read from OpenQASM does."""
    measured = [int(q) for q in (result.measured_qubits or ())]
    meta = {
        "measured_qubits": measured,
        "implicit_measure_all": not program.explicit,
        "bit_order": "bit i = the i-th measured classical bit, bit 0 rightmost",
        "program_path": "run as an OpenQASM program (" + ", ".join(program.needs) + ")",
        **metadata,
    }
    counts = counts_of(result.measurement_counts, list(program.used_qubits), program.explicit, program.declared_qubits)
    return Outcome(counts=counts, values=values_of(result), metadata=meta, raw=result)
