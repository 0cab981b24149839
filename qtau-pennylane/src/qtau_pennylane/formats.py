"""The `pennylane_qnode` and `pennylane_tape` formats: recognition, summaries and converters.

Converters (edges of core's format graph):
- `pennylane_qnode` -> `pennylane_tape`: the QNode's tape (bound arguments applied).
- `qiskit`, `openqasm2`, `openqasm3` -> `pennylane_tape`: through Qiskit and `qml.from_qiskit`
  (pennylane-qiskit), with `qml.counts` on the measured qubits in classical-bit order, so a Qiskit
  task runs on lightning and reads the same bits.
- `pennylane_tape` -> `openqasm2`: `qml.to_openqasm`, observables rotated, the wires its counts read
  measured in their order.
"""

from __future__ import annotations

import functools
import importlib
import re
import warnings
from typing import Any

from qtau.errors import CircuitConversionError
from qtau.gates import STANDARD_GATES, normalize_gate
from qtau.qasm3 import unboxed
from qtau.types import CircuitSummary, Converter

from qtau_pennylane import known_wires
from qtau_pennylane.binding import BoundQNode
from qtau_pennylane.extras import install_hint
from qtau_pennylane.threads import exclusive

#: Set on a tape made from another SDK's circuit (`qiskit_to_tape`): its one measurement is the
#: counts QTAU asked for, which the Result's `counts` hold, so the Result has no `values` (as on
#: every other backend; they were PennyLane's counts dict, in the reverse key order of `counts`).
COUNTS_ONLY = "_qtau_counts_only"
#: PennyLane operation names whose canonical QTAU spelling normalize_gate does not know.
GATE_NAMES = {
    "PhaseShift": "p", "ControlledPhaseShift": "cp", "CPhase": "cp", "SWAP": "swap", "ISWAP": "iswap",
    "CSWAP": "cswap", "Toffoli": "ccx", "CCZ": "ccz", "Rot": "u", "U3": "u", "U2": "u2", "U1": "p",
    "IsingXX": "rxx", "IsingYY": "ryy", "IsingZZ": "rzz", "Identity": "id", "Adjoint(S)": "sdg",
    "Adjoint(T)": "tdg", "Adjoint(SX)": "sxdg", "MidMeasureMP": "measure", "MidMeasure": "measure",
    "Barrier": "barrier", "Snapshot": "barrier",
}


def circuit_format(circuit: Any) -> str | None:
    """`pennylane_qnode` for QNodes (bound or not), `pennylane_tape` for tapes; None otherwise."""
    if isinstance(circuit, BoundQNode):
        return "pennylane_qnode"
    cls = type(circuit)
    if not cls.__module__.startswith("pennylane."):
        return None
    names = {c.__name__ for c in cls.__mro__}
    if "QNode" in names:
        return "pennylane_qnode"
    if "QuantumScript" in names:
        return "pennylane_tape"
    return None

_GPHASE = re.compile(r"^\s*gphase\b[^;]*;[ \t]*\n?", re.MULTILINE)
#: Levels of decomposition followed before a gate is judged by its name (templates nest a few deep).
MAX_DECOMPOSITION_DEPTH = 8


@functools.lru_cache(maxsize=1024)
def _gate_name(name: str) -> str:
    return GATE_NAMES.get(name, normalize_gate(name))


def gate_name(op: Any) -> str:
    return _gate_name(op.name)


def standard_names(op: Any, depth: int = 0):
    """The canonical names of the gates `op` stands for: its own when it is a standard gate (or has
    no decomposition), else those of its decomposition, recursively (`QFT`, `QubitUnitary`,
    templates), as PennyLane's devices and `to_openqasm` expand it."""
    if type(op).__name__ == "Conditional":  # qml.cond: the gate it applies (`summary` notes the control)
        yield from standard_names(op.base, depth)
        return
    key = gate_name(op)
    if key in STANDARD_GATES or depth >= MAX_DECOMPOSITION_DEPTH or not getattr(op, "has_decomposition", False):
        yield key
        return
    try:
        inner = op.decomposition()
    except Exception:  # a decomposition that needs what the tape does not say: judged by its name
        yield key
        return
    for part in inner:
        yield from standard_names(part, depth + 1)


def layer_depth(op_wires) -> int:
    """Circuit depth from each operation's wire labels, counted per wire in one pass (tape.graph
    builds a DAG: ~30 ms a tape)."""
    level: dict = {}
    for wires in op_wires:
        if not wires:
            continue
        d = max(level.get(w, 0) for w in wires) + 1
        for w in wires:
            level[w] = d
    return max(level.values(), default=0)


def summary(circuit: Any, fmt: str) -> CircuitSummary | None:
    """Width, gate counts and measured wires; a QNode that needs arguments gives its device width.
    A tape measuring anything but `qml.counts` returns values (`CircuitSummary.returns_values`).

    Each operation is asked for its wires once: the depth and the tape's own wires come from the
    same answers, and the wires are handed to the tape (`known_wires`), so the simulator that runs
    it later does not ask again (a controlled gate builds new wires each time it is asked).
    """
    from qtau_pennylane.tapes import qnode_batch

    if fmt == "pennylane_qnode":
        try:
            tapes, _, dev_wires = qnode_batch(circuit)
        except Exception:
            qnode = circuit.qnode if isinstance(circuit, BoundQNode) else circuit
            wires = getattr(getattr(qnode, "device", None), "wires", None)
            # What it returns is unknown until it runs: taken as values, so only a PennyLane
            # device (which computes them) is chosen.
            return CircuitSummary(num_qubits=len(wires), num_measured=len(wires),
                                  returns_values=True) if wires else None
    else:
        tapes, dev_wires = [circuit], None
    counts: dict[str, int] = {}
    wires: dict = dict.fromkeys(dev_wires or ())
    measured: set = set()
    all_measured = False
    depth = 0
    mid = False
    control = False  # qml.cond
    deferred = 0  # wires `qml.defer_measurements` adds when the tape is converted (`tape_to_qasm2`)
    values = False  # a measurement other than counts: its value is what the user asked for
    for tape in tapes:
        op_wires = [op.wires for op in tape.operations]
        wires.update(dict.fromkeys(known_wires.settle(tape, op_wires)))
        for op in tape.operations:
            control = control or type(op).__name__ == "Conditional"
            deferred += type(op).__name__ in ("MidMeasureMP", "MidMeasure")
            for key in standard_names(op):
                counts[key] = counts.get(key, 0) + 1
                mid = mid or key == "measure"
        for m in tape.measurements:
            # counts of an observable (eigenvalue keys) or of a mid-circuit reading are values too
            values = values or type(m).__name__ != "CountsMP" or m.obs is not None or getattr(m, "mv", None) is not None
            if m.wires:
                measured.update(m.wires)
            else:
                all_measured = True
        depth = max(depth, layer_depth(w.labels for w in op_wires))
    width = max(len(wires), 1)
    return CircuitSummary(
        num_qubits=width + deferred, gate_counts=counts, depth=depth,
        num_measured=width if all_measured else len(measured), mid_circuit_measurement=mid,
        classical_control=control, returns_values=values,
    )


@exclusive
def qnode_to_tape(circuit: Any) -> Any:
    from qtau_pennylane.tapes import explicit_wires, ordered_wires, qnode_batch

    tapes, _, dev_wires = qnode_batch(circuit)
    if len(tapes) != 1:
        raise CircuitConversionError(
            f"the QNode's transforms produce {len(tapes)} tapes; only one converts to another format",
            field="circuit", value="pennylane_qnode", fix="run it on a pennylane_* executor instead",
        )
    tape = tapes[0]
    return explicit_wires(tape, tuple(dev_wires) if dev_wires else ordered_wires(tape.wires))


def _needs_pennylane_qiskit(source: str):
    try:
        import pennylane_qiskit  # noqa: F401
    except ImportError as err:
        raise CircuitConversionError(
            f"converting {source} circuits to PennyLane needs pennylane-qiskit", field="circuit", value=source,
            fix=install_hint("qiskit"),
        ) from err


@exclusive
def qiskit_to_tape(qc: Any, source: str = "qiskit") -> Any:
    """A tape of the Qiskit circuit; terminal measurements become `qml.counts` in clbit order."""
    import pennylane as qml

    _needs_pennylane_qiskit(source)
    clbit_qubit: dict[int, int] = {}
    for inst in qc.data:
        if inst.operation.name == "measure":
            for qubit, clbit in zip(inst.qubits, inst.clbits, strict=True):
                clbit_qubit[qc.find_bit(clbit).index] = qc.find_bit(qubit).index
    measured = [clbit_qubit[c] for c in sorted(clbit_qubit)] or list(range(qc.num_qubits))
    qc, bits = _resets_as_readings(_known_gates_only(unboxed(qc)), bool(clbit_qubit))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if len(set(measured)) < len(measured) or _measures_mid_circuit(list(qc.data)):
            # A qubit read twice, or read and then changed: each bit from its own reading (counts
            # at the end would read a measured qubit as the later gates left it).
            tape = _readings_tape(qc, bits)
        else:
            qfunc = qml.from_qiskit(qc, measurements=[qml.counts(wires=measured)])
            tape = qml.tape.make_qscript(qfunc)()
    if not tape.measurements:
        # pennylane-qiskit returns no measurements for a circuit without gates (only measures):
        # such a circuit still reads its qubits, all 0, shots times.
        tape = qml.tape.QuantumScript(tape.operations, [qml.counts(wires=measured)])
    dropped = [str(w.message) for w in caught if "not supported by PennyLane" in str(w.message)]
    if dropped:
        # pennylane-qiskit leaves such instructions out with a warning: that would run a different circuit.
        raise CircuitConversionError(
            f"PennyLane cannot express part of this {source} circuit: {dropped[0]}", field="circuit",
            value=source, fix="decompose the circuit into standard gates first",
        )
    setattr(tape, COUNTS_ONLY, True)
    return tape


def _measures_mid_circuit(data: list) -> bool:
    """Whether a measured qubit is touched again after its measurement by an instruction other
    than a barrier (one pass from the end)."""
    touched: set = set()
    for inst in reversed(data):
        if inst.operation.name in ("barrier", "global_phase"):
            continue
        if inst.operation.name == "measure" and touched.intersection(inst.qubits):
            return True
        touched.update(inst.qubits)
    return False


#: The widest tape `_readings_tape` builds (a statevector of 2**26 amplitudes is 1 GiB).
MAX_READING_WIRES = 26


def _readings_tape(qc: Any, bits: int | None = None) -> Any:
    """A tape counting every classical bit from the measurement that last wrote it, for circuits
    that read a qubit more than once (a cut circuit's pieces measure a cut qubit, then read it
    again as an observable): `qml.counts(wires=...)` would name that wire twice.

    pennylane-qiskit, given no `measurements`, makes every measurement a mid-circuit one and
    returns their MeasurementValues in circuit order (it splits them into mid-circuit and terminal
    ones only when `measurements` replace the terminal ones); that maps each to its bit. Only the
    first `bits` classical bits are counted (those after them hold `_resets_as_readings`' readings)."""
    import pennylane as qml

    data = list(qc.data)
    order = [i for i, inst in enumerate(data) if inst.operation.name == "measure"]
    rank = {position: n for n, position in enumerate(order)}

    def qfunc():
        values = qml.from_qiskit(qc)()
        by_bit = {}
        for i, inst in enumerate(data):  # circuit order: a bit written twice keeps the later reading
            if inst.operation.name == "measure":
                by_bit[qc.find_bit(inst.clbits[0]).index] = values[rank[i]]
        return qml.counts(op=[by_bit[bit] for bit in sorted(by_bit) if bits is None or bit < bits])

    # Deferred here (one extra wire per reading): executed as they are, PennyLane would sample
    # mid-circuit measurement values one shot at a time (~300x slower on default.qubit).
    [deferred], _ = qml.defer_measurements(qml.tape.make_qscript(qfunc)())
    if len(deferred.wires) > MAX_READING_WIRES:
        raise CircuitConversionError(
            f"this circuit reads a qubit twice; PennyLane needs one extra wire per reading, "
            f"{len(deferred.wires)} wires in all (at most {MAX_READING_WIRES} here)", field="circuit",
            value="qiskit", fix="run it on a Qiskit or IBM resource, or measure each qubit once",
        )
    return deferred


def _known_gates_only(qc: Any) -> Any:
    """The circuit in gates pennylane-qiskit maps: custom and library gates (Braket's `cnot` read
    from OpenQASM 3, QFTGate, UnitaryGate, PermutationGate, `to_gate()` results) are transpiled to
    the standard gates it knows (by their definitions, or HighLevelSynthesis where a gate has none)."""
    from pennylane_qiskit import converter
    from qiskit import transpile
    from qiskit.circuit.library import get_standard_gate_name_mapping

    # pennylane-qiskit maps instructions by their Qiskit class name.
    known = set(getattr(converter, "inv_map", {})) | set(getattr(converter, "dagger_map", {}))
    # pennylane-qiskit 0.45 hands a UnitaryGate's matrix to QubitUnitary on the same wires, but
    # Qiskit's matrix puts qubit 0 last and PennyLane's first: a two-qubit unitary came out
    # transposed in qubit order. Its synthesis in standard gates converts exactly.
    known.discard("UnitaryGate")
    # The same for Initialize (its amplitudes went to StatePrep in Qiskit's order): synthesised,
    # it is a reset of each qubit and gates (`_resets_as_readings` takes the resets).
    known.discard("Initialize")
    known |= {"Measure", "Barrier", "Reset", "IfElseOp", "WhileLoopOp", "ForLoopOp", "SwitchCaseOp"}
    for _ in range(16):
        # Gates the circuit defines (`to_gate()`, OpenQASM `gate`s read back) go first: their names
        # may be standard ones (`rxx` defined in the file), which transpile would keep as they are.
        own = {i.operation.name for i in qc.data if type(i.operation).__name__ in ("Gate", "_DefinedGate")
               and i.operation.definition is not None}
        if not own:
            break
        qc = qc.decompose(gates_to_decompose=sorted(own))
    if all(getattr(i.operation, "base_class", type(i.operation)).__name__ in known and _closed(i.operation)
           for i in qc.data):
        return qc
    basis = [name for name, gate in get_standard_gate_name_mapping().items()
             if getattr(gate, "base_class", type(gate)).__name__ in known]
    return transpile(qc, basis_gates=[*basis, "if_else", "while_loop", "for_loop", "switch_case"],
                     optimization_level=0)


def _closed(op: Any) -> bool:
    """Whether every control of `op` acts on 1 (all but open-controlled gates). pennylane-qiskit
    0.45 maps a gate by its class alone, so `cx` with `ctrl_state=0` (OpenQASM 3's `negctrl @ x`)
    came out a plain CNOT; by its name (`cx_o0`) transpile then writes it in closed controls and X."""
    controls = getattr(op, "num_ctrl_qubits", 0)
    return not controls or getattr(op, "ctrl_state", 2**controls - 1) == 2**controls - 1


def _resets_as_readings(qc: Any, measures: bool) -> tuple[Any, int]:
    """The circuit with its resets in terms pennylane-qiskit maps, and how many classical bits
    are the circuit's own (the counts read those only).

    pennylane-qiskit leaves `reset` out (with a warning, which `qiskit_to_tape` turns into a
    refusal). A reset of a qubit nothing has used yet does nothing (every qubit starts in |0>;
    `initialize` begins with such resets) and is dropped. A later one is what it means: the qubit
    measured into a bit of its own, then flipped if it read 1, which PennyLane runs as a
    mid-circuit measurement and a conditioned X. A circuit with no measurement of its own is
    first given one of every qubit (QTAU counts them all, in qubit order), so that its counts
    come from the same readings."""
    from qiskit.circuit import ClassicalRegister

    data = list(qc.data)
    if not any(inst.operation.name == "reset" for inst in data):
        return qc, qc.num_clbits
    used: set = set()
    later = 0
    for inst in data:
        name = inst.operation.name
        if name == "reset" and used.intersection(inst.qubits):
            later += 1
        elif name not in ("reset", "barrier"):
            used.update(inst.qubits)
    out = qc.copy_empty_like()
    bits = qc.num_clbits
    every = later and not measures  # counts from readings: every qubit read into bits of its own
    if every:
        out.add_register(ClassicalRegister(qc.num_qubits, "qtau_all"))
        bits += qc.num_qubits
    readings = ClassicalRegister(later, "qtau_reset")
    if later:
        out.add_register(readings)
    used.clear()
    n = 0
    for inst in data:
        name = inst.operation.name
        if name == "reset":
            for qubit in inst.qubits:
                if qubit in used:  # a fresh qubit's reset is dropped
                    bit = readings[n]
                    n += 1
                    out.measure(qubit, bit)
                    with out.if_test((bit, 1)):
                        out.x(qubit)
            continue
        if name != "barrier":
            used.update(inst.qubits)
        out.append(inst)
    if every:
        out.measure(list(range(qc.num_qubits)), out.clbits[qc.num_clbits:bits])
    return out, bits


def _qiskit_reader(source: str, module: str) -> Any:
    """Qiskit's OpenQASM reader `module`, or the error naming pennylane-qiskit (which brings Qiskit).

    The readers parse the text before `qiskit_to_tape` imports PennyLane and pennylane-qiskit, so a
    malformed file is refused without their 2-3 s of import: `qtau run` tries every installed reader
    on a file the first one refused (`qtau.cli.qasm_check`)."""
    try:
        return importlib.import_module(f"qiskit.{module}")
    except ImportError:
        _needs_pennylane_qiskit(source)
        raise


@exclusive
def qasm2_to_tape(text: str) -> Any:
    qasm2 = _qiskit_reader("openqasm2", "qasm2")
    return qiskit_to_tape(qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS), "openqasm2")


@exclusive
def qasm3_to_tape(text: str) -> Any:
    from qtau.qasm3 import readable_by_qiskit

    qasm3 = _qiskit_reader("openqasm3", "qasm3")
    try:
        qc = qasm3.loads(readable_by_qiskit(text))
    except ImportError as err:
        raise CircuitConversionError(
            "reading OpenQASM 3 needs qiskit-qasm3-import", field="circuit", value="openqasm3",
            fix=install_hint("qiskit"),
        ) from err
    return qiskit_to_tape(qc, "openqasm3")


_CREG = re.compile(r"^creg c\[\d+\];$", re.MULTILINE)
_MEASURE_ALL = re.compile(r"^measure q\[\d+\] -> c\[\d+\];\n?", re.MULTILINE)


def counted_wires(tape: Any, wires: tuple) -> tuple:
    """The wires the tape's counts read, in their order (the first is bit 0): those of its first
    computational-basis `qml.counts`/`qml.sample`, as `outcomes.common_counts` reads them on a
    PennyLane device; every wire (`wires`) when that measurement names none or there is none."""
    for m in tape.measurements:
        if type(m).__name__ in ("CountsMP", "SampleMP") and m.obs is None and getattr(m, "mv", None) is None:
            return tuple(m.wires) or wires
    return wires


@exclusive
def tape_to_qasm2(tape: Any) -> str:
    """OpenQASM 2 of the tape, measuring the wires its counts read into c[0], c[1]... in their
    order (`counted_wires`): `qml.counts(wires=[2, 0])` reads wire 2 as bit 0 and no other wire,
    as on PennyLane's devices. `qml.to_openqasm` measures every wire in wire order (its own
    `measure_all=False` indexes wires by the tape's order, not by the `wires` it is given)."""
    import pennylane as qml

    from qtau_pennylane.tapes import ordered_wires

    if any(type(op).__name__ in ("MidMeasureMP", "MidMeasure") for op in tape.operations):
        # `qml.measure` and `qml.cond` as PennyLane defers them (a wire per reading, controlled
        # gates): the same counts; `to_openqasm` conditions on one bit of a register
        # (`if(mcms[0]==1)`), which OpenQASM 2 cannot say, and its readings' register widened the keys.
        [tape], _ = qml.defer_measurements(tape)
    wires = ordered_wires(tape.wires)
    text = qml.to_openqasm(tape, wires=wires, rotations=True, measure_all=True)
    read = counted_wires(tape, wires)
    text = _CREG.sub(f"creg c[{len(read)}];", _MEASURE_ALL.sub("", text), count=1)
    text += "".join(f"measure q[{wires.index(w)}] -> c[{bit}];\n" for bit, w in enumerate(read))
    # Decompositions (QubitUnitary's) leave global phases, which PennyLane writes as `gphase`, a
    # statement OpenQASM 2 does not have; a global phase changes no measured outcome.
    return _GPHASE.sub("", text)


#: What the converters import (`Converter.sdk_modules`); Qiskit's formats go through pennylane-qiskit.
PENNYLANE_MODULES = ("pennylane",)
THROUGH_QISKIT = ("pennylane", "qiskit", "qiskit.qasm2", "qiskit.qasm3", "pennylane_qiskit")


def converters(provider: str) -> list[Converter]:
    return [
        Converter("pennylane_qnode", "pennylane_tape", qnode_to_tape, provider, 1.0, PENNYLANE_MODULES),
        Converter("qiskit", "pennylane_tape", qiskit_to_tape, provider, 1.0, THROUGH_QISKIT),
        Converter("openqasm2", "pennylane_tape", qasm2_to_tape, provider, 1.5, THROUGH_QISKIT),
        Converter("openqasm3", "pennylane_tape", qasm3_to_tape, provider, 1.5, THROUGH_QISKIT),
        Converter("pennylane_tape", "openqasm2", tape_to_qasm2, provider, 1.2, PENNYLANE_MODULES),
    ]
