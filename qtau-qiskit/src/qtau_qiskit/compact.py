"""A Qiskit circuit in the journal and in Ray's payloads as a list of plain tuples, when that is
exact, instead of Qiskit's own pickle.

The journal pickles every acknowledged task on the submitting thread, before the submission
returns (qtau.journal), and on LOCAL that work adds to the simulation's, since Aer keeps Python's
lock while it runs; RAY pickles every payload in the driver. Qiskit's pickling of a 2-qubit Bell
circuit (its `CircuitData` reduction, a Python object per instruction and bit) took 46 us here,
more than Aer takes to run the circuit's share of a batch; written as (name, qubit indices, clbit
indices, parameters, label) tuples, 15 us in the same minute. `compact` gives that form for the
circuits it is exact for:

- standard gates (`CircuitInstruction.is_standard_gate`: no open controls, no custom definition)
  with numeric parameters, measurements, resets and barriers;
- bits that are exactly the circuit's registers in order (no loose bits, no bit in two
  registers, no ancilla registers), a numeric global phase, no layout, no classical variables or
  stretches, no duration or schedule; `metadata` kept as it is.

Anything else (parameters, control flow, custom or library gates, a transpiled circuit's layout,
a subclass of QuantumCircuit) returns None and is pickled as before. `rebuild` makes an equal
circuit in the recovering process: the same registers, name, phase, metadata and instructions.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any

from qiskit.circuit import (
    Barrier,
    CircuitInstruction,
    ClassicalRegister,
    Measure,
    QuantumCircuit,
    QuantumRegister,
    Reset,
)
from qiskit.circuit.library import get_standard_gate_name_mapping

#: Instructions that are not standard gates but are read and rebuilt exactly here, by name.
_DIRECT = {"measure": Measure, "reset": Reset, "barrier": Barrier}


def _registers_cover(bits: list, registers: list, kind: type) -> bool:
    """Whether `bits` are exactly the registers' bits, register after register, and every register
    is of exactly `kind` (an AncillaRegister would come back as a QuantumRegister)."""
    if len(registers) == 1:  # most circuits (`QuantumCircuit(n, m)`): a slice, not a loop over bits
        return type(registers[0]) is kind and registers[0][:] == bits
    return (all(type(r) is kind for r in registers) and sum(len(r) for r in registers) == len(bits)
            and [b for r in registers for b in r] == bits)


def compact(qc: Any) -> tuple | None:
    """`(rebuild, args)` for `qc` (see the module docstring), or None where it would not be exact."""
    if type(qc) is not QuantumCircuit:
        return None
    if (qc.layout is not None or qc.num_vars or getattr(qc, "num_stretches", 0)
            or getattr(qc, "_duration", None) is not None or getattr(qc, "_unit", "dt") != "dt"
            or getattr(qc, "_op_start_times", None) is not None
            or not isinstance(qc.global_phase, numbers.Real)):
        return None
    qubits, clbits = qc.qubits, qc.clbits
    if not (_registers_cover(qubits, qc.qregs, QuantumRegister) and _registers_cover(clbits, qc.cregs, ClassicalRegister)):
        return None
    qindex = dict(zip(qubits, range(len(qubits)), strict=True))
    cindex = dict(zip(clbits, range(len(clbits)), strict=True))
    ops = []
    for ins in qc.data:
        name = ins.name
        if not ins.is_standard_gate() and ins.operation.base_class is not _DIRECT.get(name):
            return None  # not a standard gate, or a subclass of (or a name like) an instruction read here
        params = ins.params
        if params:
            if not all(isinstance(p, numbers.Real) for p in params):
                return None
            params = tuple([float(p) for p in params])
        else:
            params = ()
        clbits_of = ins.clbits
        ops.append((name, tuple([qindex[q] for q in ins.qubits]),
                    tuple([cindex[c] for c in clbits_of]) if clbits_of else (), params, ins.label))
    return rebuild, (qc.name, [(r.name, r.size) for r in qc.qregs], [(r.name, r.size) for r in qc.cregs],
                     float(qc.global_phase), qc.metadata, ops)


@functools.cache
def _standard_gates() -> dict:
    """Qiskit's standard gates (`StandardGate`) by name."""
    return {name: gate._standard_gate for name, gate in get_standard_gate_name_mapping().items()
            if getattr(gate, "_standard_gate", None) is not None}


def rebuild(name: str, qregs: list, cregs: list, phase: float, metadata: dict | None, ops: list
            ) -> QuantumCircuit:
    """The circuit `compact` read."""
    qc = QuantumCircuit(*(QuantumRegister(size, n) for n, size in qregs),
                        *(ClassicalRegister(size, n) for n, size in cregs),
                        name=name, global_phase=phase, metadata=metadata)
    qubits, clbits = qc.qubits, qc.clbits
    standard = _standard_gates()
    for op, qs, cs, params, label in ops:
        qargs = tuple(qubits[i] for i in qs)
        if op == "measure":
            qc._append(CircuitInstruction(Measure(label=label), qargs, tuple(clbits[i] for i in cs)))
        elif op == "reset":
            qc._append(CircuitInstruction(Reset(label=label), qargs, ()))
        elif op == "barrier":
            qc._append(CircuitInstruction(Barrier(len(qargs), label=label), qargs, ()))
        else:
            qc._append(CircuitInstruction.from_standard(standard[op], qargs, params, label))
    return qc
