"""What a cut task is given, checked where the user gives it: the circuit (a Qiskit circuit or an
OpenQASM 2/3 program), its observables (Pauli strings or `SparsePauliOp`s) and the `cut` option.

Errors name the field, the value and the fix (`InvalidTaskError`); without qiskit or
qiskit-addon-cutting installed, the error says what to install.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from qtau.errors import ConfigurationError, InvalidTaskError

#: Keys a `cut={...}` dict may hold.
CUT_KEYS = ("max_width", "gate_cuts", "wire_cuts", "max_overhead", "seed", "spread")


@attrs.frozen
class CutOptions:
    """`cut="auto"` cuts only when no resource is wide enough; `cut=True` or a dict always plans
    (a circuit that fits gets no cuts); `cut=False` never cuts."""

    mode: str = "auto"  # "auto" | "always" | "never"
    max_width: int | None = None
    gate_cuts: bool = True
    wire_cuts: bool = True
    max_overhead: float | None = None
    seed: int = 111


def require_sdk() -> None:
    """Raise a ConfigurationError naming what to install if Qiskit or the add-on is missing."""
    try:
        import qiskit  # noqa: F401
        import qiskit_addon_cutting  # noqa: F401
    except ImportError as err:
        raise ConfigurationError(
            f"cutting a circuit needs qiskit and qiskit-addon-cutting ({err.name} is not installed)",
            field="cut", value=None, fix="pip install 'qtau-core[cutting]' (qiskit and qiskit-addon-cutting)",
        ) from err


def cut_options(cut: Any) -> CutOptions:
    """`cut` as given by the user ("auto", True, False or a dict of CUT_KEYS)."""
    if cut is None or cut == "auto":
        return CutOptions()
    if cut is True:
        return CutOptions(mode="always")
    if cut is False or cut == "never":
        return CutOptions(mode="never")
    if isinstance(cut, Mapping):
        unknown = sorted(set(cut) - set(CUT_KEYS))
        if unknown:
            raise InvalidTaskError(
                f"unknown cut option(s) {unknown}", field="cut", value=dict(cut),
                fix=f"use only {', '.join(CUT_KEYS)}",
            )
        width = cut.get("max_width")
        if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < 1):
            raise InvalidTaskError("cut max_width must be a positive whole number of qubits",
                                   field="cut.max_width", value=width, fix="pass e.g. {'max_width': 5}")
        overhead = cut.get("max_overhead")
        if overhead is not None and (isinstance(overhead, bool) or not isinstance(overhead, (int, float))
                                     or overhead < 1):
            raise InvalidTaskError("cut max_overhead must be a number of at least 1",
                                   field="cut.max_overhead", value=overhead, fix="pass e.g. {'max_overhead': 1000}")
        flags = {k: cut.get(k, True) for k in ("gate_cuts", "wire_cuts")}
        for key, value in flags.items():
            if not isinstance(value, bool):
                raise InvalidTaskError(f"cut {key} must be True or False", field=f"cut.{key}",
                                       value=value, fix=f"pass {{'{key}': True}} or leave it out")
        if not any(flags.values()):
            raise InvalidTaskError("cut allows neither gate nor wire cuts", field="cut", value=dict(cut),
                                   fix="allow gate_cuts or wire_cuts, or pass cut=False")
        seed = cut.get("seed", 111)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InvalidTaskError("cut seed must be an integer", field="cut.seed", value=seed,
                                   fix="pass e.g. {'seed': 7}")
        return CutOptions("always", width, flags["gate_cuts"], flags["wire_cuts"],
                          None if overhead is None else float(overhead), seed)
    raise InvalidTaskError(
        "cut must be 'auto', True, False or a dict of cut options", field="cut", value=cut,
        fix="pass cut='auto' (cut only when no resource is wide enough), cut=False, or e.g. {'max_width': 5}",
    )


def as_circuit(circuit: Any) -> Any:
    """A Qiskit circuit without final measurements and with at most two-qubit gates."""
    from qiskit import QuantumCircuit, qasm2, qasm3, transpile

    if isinstance(circuit, str):
        text = circuit.lstrip()
        try:
            circuit = qasm3.loads(circuit) if text.startswith("OPENQASM 3") else qasm2.loads(
                circuit, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
        except Exception as err:
            raise InvalidTaskError(f"the OpenQASM program could not be read: {err}", field="circuit",
                                   value=text[:60], fix="pass a valid OpenQASM 2/3 program or a QuantumCircuit") from err
    if not isinstance(circuit, QuantumCircuit):
        raise InvalidTaskError(
            "a cut task takes a Qiskit QuantumCircuit or an OpenQASM program", field="circuit",
            value=type(circuit).__name__, fix="convert the circuit to a qiskit.QuantumCircuit first",
        )
    if circuit.parameters:
        raise InvalidTaskError(
            f"the circuit has unbound parameters {sorted(p.name for p in circuit.parameters)[:5]}",
            field="circuit", value=circuit.name, fix="bind them with circuit.assign_parameters(...) first",
        )
    plain = circuit.remove_final_measurements(inplace=False)
    for inst in plain.data:
        if inst.operation.name in ("measure", "reset") or getattr(inst.operation, "condition", None) is not None \
                or inst.operation.name in ("if_else", "while_loop", "for_loop", "switch_case"):
            raise InvalidTaskError(
                f"a cut task's circuit may not measure, reset or branch mid-circuit ({inst.operation.name!r})",
                field="circuit", value=circuit.name,
                fix="cut the unitary part and measure the observables through `observables=`",
            )
    if any(len(inst.qubits) > 2 or not hasattr(inst.operation, "to_matrix") for inst in plain.data
           if inst.operation.name != "barrier"):
        plain = transpile(plain, basis_gates=["rz", "sx", "x", "rx", "ry", "h", "s", "sdg", "cx", "cz",
                                              "rzz", "rxx", "ryy", "swap", "p", "u"], optimization_level=0)
    return plain


def as_observables(observables: Any, width: int) -> list[Any]:
    """Each observable as a `SparsePauliOp` on `width` qubits (Pauli strings: bit 0 rightmost)."""
    from qiskit.quantum_info import Pauli, SparsePauliOp

    items = [observables] if isinstance(observables, (str, SparsePauliOp, Pauli)) else observables
    if items is None or not hasattr(items, "__iter__") or not list(items):
        raise InvalidTaskError("a cut task needs at least one observable", field="observables",
                               value=observables, fix="pass e.g. observables=['ZZII', 'XIIX']")
    out = []
    for item in items:
        try:
            op = item if isinstance(item, SparsePauliOp) else SparsePauliOp(item)
        except Exception as err:
            raise InvalidTaskError(f"{item!r} is not a Pauli observable: {err}", field="observables",
                                   value=item, fix="pass Pauli strings such as 'ZIZ' or SparsePauliOp objects") from err
        if op.num_qubits != width:
            raise InvalidTaskError(
                f"observable {item!r} acts on {op.num_qubits} qubits, the circuit has {width}",
                field="observables", value=str(item), fix=f"give each observable {width} qubits (bit 0 rightmost)",
            )
        out.append(op)
    return out
