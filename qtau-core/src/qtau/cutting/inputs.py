"""What a cut task is given, checked where the user gives it: the circuit (a Qiskit circuit or an
OpenQASM 2/3 program) and its observables (Pauli strings or `SparsePauliOp`s); the `cut` option is
checked in `qtau.cut_options`, where `QuantumTask` checks it too.

Errors name the field, the value and the fix (`InvalidTaskError`); without qiskit or
qiskit-addon-cutting installed, the error says what to install.
"""

from __future__ import annotations

from typing import Any

from qtau.errors import ConfigurationError, InvalidTaskError
from qtau.qasm3 import readable_by_qiskit
from qtau.qasm_header import OPENQASM3, qasm_format


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


def as_circuit(circuit: Any) -> Any:
    """A Qiskit circuit without final measurements and with at most two-qubit gates."""
    from qiskit import QuantumCircuit, qasm2, qasm3, transpile

    if isinstance(circuit, str):
        text = circuit.lstrip()
        try:  # the header says the version, after any comments (as everywhere in QTAU)
            circuit = qasm3.loads(readable_by_qiskit(circuit)) if qasm_format(circuit) == OPENQASM3 else qasm2.loads(
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
