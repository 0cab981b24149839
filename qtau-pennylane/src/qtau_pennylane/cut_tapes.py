"""`qml.device("qtau.qubit", cutting=...)`: a tape wider than every resource of the device's pilots
(or any tape, with `cutting=True` or a dict) whose measurements are expectation values of Pauli
sums is run as one QTAU task with `observables` (`QuantumTask(observables=..., cut=...)`), which
QDREAMER cuts into pieces that fit, runs across its resources and reconstructs (docs/cutting.md).

This is the first transform of the device's program: a cut tape leaves no tape for the device to
execute; its values are computed here and handed to PennyLane's post-processing. Other tapes pass
unchanged to the rest of the program. The circuit travels as OpenQASM 2 (its gates decomposed to
the standard ones first), so the plugin imports no other SDK; cutting itself needs
`qtau-core[cutting]`.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pennylane as qml
from pennylane.measurements import ExpectationMP
from pennylane.tape import QuantumScript
from qtau.types import QuantumTask

from qtau_pennylane.tapes import ordered_wires


def _terms(mp: Any, order: tuple) -> list[tuple[str, float]] | None:
    """The Pauli terms of an expectation value as (label, coefficient), bit 0 rightmost; None if
    its observable is no Pauli sum."""
    if not isinstance(mp, ExpectationMP) or mp.obs is None:
        return None
    rep = mp.obs.pauli_rep
    if rep is None:
        return None
    index = {w: i for i, w in enumerate(order)}
    out = []
    for word, coeff in rep.items():
        if abs(complex(coeff).imag) > 1e-12:
            return None
        label = ["I"] * len(order)
        for wire, pauli in word.items():
            label[len(order) - 1 - index[wire]] = pauli
        out.append(("".join(label), float(complex(coeff).real)))
    return out


def can_cut() -> bool:
    """Whether QTAU's cutting is installed here (qiskit-addon-cutting), found without importing it."""
    return importlib.util.find_spec("qiskit_addon_cutting") is not None


def wants_cut(tape: QuantumScript, cutting: Any, widest: int) -> bool:
    """Whether `tape` goes through QTAU's cutting: "auto" when it is wider than every resource."""
    if cutting is False or cutting == "never":
        return False
    if cutting == "auto" or cutting is None:
        return len(tape.wires) > widest
    return True


@qml.transform
def cut_wide_tapes(tape: QuantumScript, service: Any, cutting: Any, widest: int, mode: Any,
                   decompose: Any, error: type, provenance: list):
    """Run `tape` through QTAU's cutting when `wants_cut`; else leave it to the rest of the program."""
    if not wants_cut(tape, cutting, widest):
        return [tape], lambda results: results[0]
    order = ordered_wires(tape.wires)
    terms = [_terms(mp, order) for mp in tape.measurements]
    if not terms or any(t is None for t in terms):
        raise error(
            f"a tape of {len(order)} wires (the widest resource has {widest}) is cut only when it "
            "returns expectation values of Pauli sums", field="measurements",
            value=[type(m).__name__ for m in tape.measurements],
            fix="return qml.expval(...) of Pauli words or sums, or add a resource wide enough",
        )
    if not tape.shots:
        raise error("a cut tape needs shots", field="shots", value=None, fix="pass shots=... to the device")
    [plain], _ = decompose(QuantumScript(tape.operations, [], shots=tape.shots))
    text = qml.to_openqasm(plain, wires=order, rotations=False, measure_all=False)
    labels = sorted({label for per in terms for label, _ in per})
    task = QuantumTask(circuit=text, num_qubits=len(order), circuit_format="openqasm2", observables=labels,
                       shots=int(tape.shots.total_shots), cut=cutting, policy=mode)
    result = service.get_result(service.submit_quantum_task(task))
    value = dict(zip(labels, result.values, strict=True))
    provenance.append({"resource": result.resource_id, "cost": result.cost, "cut": dict(result.metadata["cut"]),
                       "standard_errors": dict(zip(labels, result.metadata["standard_errors"], strict=True))})
    out = [sum(c * value[label] for label, c in per) for per in terms]
    return [], lambda _results: out[0] if len(out) == 1 else tuple(out)
