"""The `qiskit` circuit format: summaries, and conversion to and from OpenQASM 2 and 3."""

from __future__ import annotations

import functools
from typing import Any

from qtau.errors import CircuitConversionError, InvalidTaskError
from qtau.gates import STANDARD_GATES, normalize_gate
from qtau.types import CircuitSummary, Converter

from qtau_qiskit import composite


def _load(circuit, circuit_format: str):
    if circuit_format == "qiskit":
        return circuit
    if circuit_format == "openqasm2":
        return from_qasm2(circuit)
    return from_qasm3(circuit)


CONTROL_FLOW = frozenset({"if_else", "while_loop", "for_loop", "switch_case", "box"})


def _walk(qc, counts: dict[str, int], measured: set, written: set, state: dict[str, Any],
          outer_qubits=None) -> int | None:
    """Count gates, including those inside control-flow blocks and composite gates' definitions;
    note measurement shape (`measured` qubits, `written` classical bits: a control-flow block's
    are the circuit's own, a definition's its own, which the caller leaves out). A `reset` of a
    qubit nothing has used yet (`state["used"]`) is not counted: every qubit starts in |0>, so it
    does nothing (`initialize` begins with one on each of its qubits); a counted reset is one
    after use, which only resources that measure mid-circuit can run. At the top level (no
    `outer_qubits`) also return the circuit's depth as `QuantumCircuit.depth()` counts it, measured
    in the same pass over the instructions (the second pass cost as much as the count); None where
    an instruction needs Qiskit's own rules (control flow, a condition, a `Store`), and the caller
    asks `depth()`."""
    levels: dict | None = {} if outer_qubits is None else None
    for inst in qc.data:
        qubits = inst.qubits if outer_qubits is None else [outer_qubits[qc.find_bit(q).index] for q in inst.qubits]
        if (inst.is_standard_gate() and (key := normalize_gate(inst.name)) in STANDARD_GATES
                and not (_conditions_kept() and inst.condition is not None)):
            # A standard gate QTAU knows by name (most of every circuit): read from the instruction
            # without making its Python gate object (Qiskit builds one per access). No definition
            # to walk, no condition, not a directive.
            if levels is not None:
                level = 1 + max((levels.get(bit, 0) for bit in inst.qubits), default=0)
                for bit in inst.qubits:
                    levels[bit] = level
            if measured and any(q in measured for q in qubits):
                state["mid"] = True
            state["used"].update(qubits)
            counts[key] = counts.get(key, 0) + 1
            continue
        op = inst.operation
        name = op.name
        if levels is not None:
            levels = _deeper(levels, inst, op, name)
        if name in CONTROL_FLOW:
            state["control"] = state["control"] or name != "box"  # a box only scopes its body
            for block in op.blocks:
                _walk(block, counts, measured, written, state, list(qubits))
            continue
        if getattr(op, "condition", None) is not None:
            state["control"] = True
        definition = composite.definition(op)
        if definition is not None:
            _walk(definition, counts, measured, written, state, list(qubits))
            continue
        if name == "reset" and not state["used"].intersection(qubits):
            continue  # a fresh qubit is in |0> already
        if name != "barrier":
            state["used"].update(qubits)
        if name == "measure":
            if any(q in measured for q in qubits):
                state["mid"] = True  # a qubit read twice: the first reading is mid-circuit
            measured.update(qubits)
            written.update(inst.clbits)
        elif name != "barrier" and any(q in measured for q in qubits):
            state["mid"] = True
        key = normalize_gate(name)
        counts[key] = counts.get(key, 0) + 1
    return None if levels is None else max(levels.values(), default=0)


@functools.cache
def _conditions_kept() -> bool:
    """Whether this Qiskit keeps `c_if` conditions on instructions (Qiskit 1; Qiskit 2 has none)."""
    from qiskit.circuit import CircuitInstruction

    return hasattr(CircuitInstruction, "condition")


def _deeper(levels: dict, inst, op, name: str) -> dict | None:
    """`levels` (each bit's depth so far) after `inst`, by `QuantumCircuit.depth()`'s rule: one more
    than the deepest bit it touches, a directive (barrier) only synchronising its bits. None for an
    instruction whose bits depth() reads from expressions (control flow, conditions, stores)."""
    if name in CONTROL_FLOW or name == "store" or getattr(op, "_condition", None) is not None:
        return None
    bits = (*inst.qubits, *inst.clbits)
    level = max((levels.get(bit, 0) for bit in bits), default=0)
    if not getattr(op, "_directive", False):
        level += 1
    for bit in bits:
        levels[bit] = level
    return levels


def summary(circuit, circuit_format: str) -> CircuitSummary:
    qc = _load(circuit, circuit_format)
    if qc.num_parameters:
        # A task carries no parameter values: every backend failed on it its own way (Aer:
        # "parameter_binds is not specified", BasicSimulator: "not numeric").
        names = sorted(p.name for p in qc.parameters)
        raise InvalidTaskError(
            f"the circuit has unbound parameters {names[:5]}{' ...' if len(names) > 5 else ''}, and a QuantumTask "
            "passes no parameter values", field="circuit", value=", ".join(names[:5]),
            fix="bind them first (circuit.assign_parameters({...})), or run the circuit with its values "
                "through QtauSampler/QtauEstimator (qtau_qiskit.primitives), which take them per pub",
        )
    counts: dict[str, int] = {}
    measured: set = set()
    written: set = set()
    state: dict[str, Any] = {"mid": False, "control": False, "used": set()}
    depth = _walk(qc, counts, measured, written, state)
    index = {bit: i for i, bit in enumerate(qc.clbits)} if written else {}
    return CircuitSummary(
        num_qubits=qc.num_qubits, gate_counts=counts, depth=qc.depth() if depth is None else depth,
        num_measured=len(measured), mid_circuit_measurement=state["mid"], classical_control=state["control"],
        classical_bits=qc.num_clbits, measured_bits=sorted(index[bit] for bit in written if bit in index),
    )


def from_qasm2(text: str):
    from qiskit import qasm2

    return qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)


def from_qasm3(text: str):
    from qiskit import qasm3
    from qtau.qasm3 import readable_by_qiskit

    try:
        return qasm3.loads(readable_by_qiskit(text))
    except ImportError as err:
        raise CircuitConversionError(
            "reading OpenQASM 3 into Qiskit needs qiskit-qasm3-import", field="circuit", value="openqasm3",
            fix="pip install qiskit-qasm3-import",
        ) from err


def _dumped(dumps, circuit) -> str:
    """`dumps(circuit)`; where Qiskit's exporter cannot write a library gate (PermutationGate's
    array parameter in Qiskit 2.3), the circuit with its non-standard gates inlined, in standard gates."""
    try:
        return dumps(circuit)
    except Exception:
        flat = composite.inline(circuit, lambda op: composite.definition(op) is not None)
        return dumps(flat)


def to_qasm2(circuit) -> str:
    """OpenQASM 2 of `circuit`. Its `gate` bodies hold gates only: an instruction that is no gate
    and has a definition (`initialize`: a reset, then a state preparation) is written as that
    definition, where `qasm2.dumps` would write a `gate` with `reset` inside, which no reader takes
    (Qiskit's own included)."""
    from qiskit import qasm2

    if any(_non_gate(inst.operation) for inst in circuit.data):
        circuit = composite.inline(circuit, _non_gate)
    return _dumped(qasm2.dumps, circuit)


def _non_gate(op) -> bool:
    from qiskit.circuit import ControlFlowOp, Gate

    return not isinstance(op, (Gate, ControlFlowOp)) and composite.definition(op) is not None


def to_qasm3(circuit) -> str:
    from qiskit import qasm3

    return _dumped(qasm3.dumps, circuit)


#: What the converters import (`Converter.sdk_modules`).
SDK_MODULES = ("qiskit", "qiskit.qasm2", "qiskit.qasm3")


def converters(provider: str) -> list[Converter]:
    return [
        Converter("openqasm2", "qiskit", from_qasm2, provider, 1.0, SDK_MODULES),
        Converter("openqasm3", "qiskit", from_qasm3, provider, 1.0, SDK_MODULES),
        Converter("qiskit", "openqasm2", to_qasm2, provider, 1.2, SDK_MODULES),
        Converter("qiskit", "openqasm3", to_qasm3, provider, 1.0, SDK_MODULES),
    ]
