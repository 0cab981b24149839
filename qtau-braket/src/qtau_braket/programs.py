"""OpenQASM 3 programs the local simulators run as programs: mid-circuit measurement, feed-forward, reset.

A Braket `Circuit` cannot hold a gate after a measurement of its qubit, a condition on a measured
bit, or a reset: Braket's Circuit reader refuses the first two and drops the third. Braket's local
simulators run such programs when given the program itself (`braket.ir.openqasm.Program`): they
follow each measurement's outcomes as branches. `formats.from_openqasm3` reads a program as a
Circuit where it can (everything else keeps the Circuit path: controlled-gate rewriting, noise
models, result types, `outcomes`), and returns a `BraketProgram` only for a program the Circuit
reader cannot hold and that needs one of these (`read_program` finds out by reading it with the
simulator's own reader, no sampling). Only `braket_local` and noise-free `braket_local_dm` run a
`BraketProgram` (`local.py`); AWS devices refuse it.

The simulator's reader applies a gate with control modifiers (`ctrl @`, `negctrl @`) to the wrong
amplitudes when control and target are not neighbours, as on the Circuit path
(`qtau_braket.controls`); the program path's reader (`program_simulator`) writes each controlled
gate as the unitary of its control and target qubits instead, as `controls.explicit_controls` does.

Results: the simulator reports one bit per measured element of the (one) classical register, in
element order, the first leftmost; QTAU reverses them (bit 0 rightmost). Core spreads them back over
unwritten bits (`qtau.circuits.spread_counts`), as for a Circuit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from qtau.errors import CircuitConversionError

#: What the fix of a program the program path refuses says.
PROGRAM_FIX = ("run it on a resource that reads OpenQASM with Qiskit (Qiskit Aer), or write the condition on one "
               "bit (`if (c[0]) { ... }`) into a single bit register")


@dataclass(frozen=True)
class BraketProgram:
    """OpenQASM 3 (as Braket's reader takes it, `formats.for_braket`) that runs only as a program."""

    source: str
    #: The qubits the program declares (bit q of an unmeasured program is qubit q).
    declared_qubits: int
    #: The qubits its instructions touch (on the all-zero outcome path), ascending.
    used_qubits: tuple[int, ...]
    #: Whether it measures explicitly (else every declared qubit is read, as for a Circuit).
    explicit: bool
    #: Why it needs the program path: "mid-circuit measurement", "classical control", "reset after use".
    needs: tuple[str, ...]
    #: Gate counts by canonical name (on the all-zero outcome path), with measure and reset.
    gate_counts: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def qubit_count(self) -> int:
        return max(self.declared_qubits, (max(self.used_qubits) + 1) if self.used_qubits else 0)


def controlled_unitary(matrix: Any, control_state: list[int]) -> Any:
    """The unitary of a gate `matrix` with controls in `control_state` (1 ctrl, 0 negctrl), controls
    first and most significant, as `controls.controlled_matrix` builds it."""
    import numpy as np

    size = matrix.shape[0]
    out = np.eye(size << len(control_state), dtype=complex)
    at = int("".join(map(str, control_state)), 2) * size
    out[at:at + size, at:at + size] = matrix
    return out


@functools.cache
def _context_class() -> type:
    from braket.default_simulator.gate_operations import BRAKET_GATES
    from braket.default_simulator.openqasm import program_context
    from braket.default_simulator.openqasm.program_context import ProgramContext

    from qtau_braket.gate_names import canonical

    classical = getattr(program_context, "_CLASSICAL_CONTROL_GATES", {})

    class Context(ProgramContext):
        """The simulator's reader, with controlled gates as unitaries, recording what it met."""

        def __init__(self, simulator: Any = None) -> None:
            super().__init__(simulator=simulator)
            self.qtau_needs: set[str] = set()
            self.qtau_counts: dict[str, int] = {}
            self.qtau_used: set[int] = set()
            self._qtau_by_qubit = False

        def _count(self, name: str, target: Any) -> None:
            self.qtau_counts[name] = self.qtau_counts.get(name, 0) + 1
            self.qtau_used.update(int(q) for q in target)

        def add_gate_instruction(self, gate_name, target, params, ctrl_modifiers, power):
            if gate_name in classical:
                return super().add_gate_instruction(gate_name, target, params, ctrl_modifiers, power)
            self._count(canonical(gate_name, len(ctrl_modifiers or ())), target)
            if not ctrl_modifiers:
                return super().add_gate_instruction(gate_name, target, params, ctrl_modifiers, power)
            import numpy as np

            gate = BRAKET_GATES[gate_name](target, *params, ctrl_modifiers=ctrl_modifiers, power=power)
            matrix = controlled_unitary(np.asarray(gate.matrix, dtype=complex), [int(b) for b in ctrl_modifiers])
            return super().add_custom_unitary(matrix, tuple(target))

        def add_custom_unitary(self, unitary, target):
            self._count("unitary", target)
            return super().add_custom_unitary(unitary, target)

        def add_reset(self, target):
            if any(int(q) in self.qtau_used for q in target):
                self.qtau_needs.add("reset after use")
            self._count("reset", target)
            return super().add_reset(target)

        def add_measure(self, target, classical_targets=None, **kwargs):
            self._count("measure", target)
            return super().add_measure(target, classical_targets, **kwargs)

        def _flush_pending_mcm_for_qubits(self, qubits):
            self._qtau_by_qubit = True
            try:
                return super()._flush_pending_mcm_for_qubits(qubits)
            finally:
                self._qtau_by_qubit = False

        def _apply_pending_mcm_targets(self):
            if self._pending_mcm_targets:
                # A measured qubit operated on again, or a measured bit read (a condition on it).
                self.qtau_needs.add("mid-circuit measurement" if self._qtau_by_qubit else "classical control")
            return super()._apply_pending_mcm_targets()

    return Context


@functools.cache
def _simulator_class(backend: str) -> type:
    from braket.default_simulator import DensityMatrixSimulator, StateVectorSimulator

    base = DensityMatrixSimulator if backend == "braket_dm" else StateVectorSimulator

    class Simulator(base):
        """Braket's local simulator reading programs with `_context_class`'s reader."""

        def create_program_context(self):
            return _context_class()(simulator=self)

    Simulator.__name__ = f"Qtau{base.__name__}"
    return Simulator


def program_simulator(backend: str) -> Any:
    """A LocalSimulator of `backend` ("braket_sv" or "braket_dm") running programs with controlled
    gates as unitaries."""
    from braket.devices import LocalSimulator

    return LocalSimulator(_simulator_class(backend)())


def _refusal(why: str, value: str) -> CircuitConversionError:
    return CircuitConversionError(why, field="circuit", value=value, fix=PROGRAM_FIX)


def read_program(source: str) -> BraketProgram | None:
    """`source` (Braket's OpenQASM 3) as a BraketProgram when the simulator's reader reads it and it
    needs mid-circuit measurement, a condition on a measured bit or a reset after use; None when it
    needs none of them or the reader fails before meeting one (the Circuit reader's error then
    stands). A program that needs them and that the program path cannot run correctly is refused
    (CircuitConversionError)."""
    from braket.default_simulator.openqasm.interpreter import Interpreter

    context = _context_class()()
    # No shots: every measurement reads 0 and nothing is sampled (the reader's check of the program).
    try:
        Interpreter(context).run(source, None, False)
        circuit = context.circuit
        if context.qtau_needs:
            circuit.validate_single_measured_register()
    except Exception as err:
        if not context.qtau_needs:
            return None
        raise _refusal(f"Braket's local simulator cannot run this program with "
                       f"{', '.join(sorted(context.qtau_needs))}: {type(err).__name__}: {err}", "openqasm3") from err
    if not context.qtau_needs:
        return None
    needs = tuple(sorted(context.qtau_needs))
    if circuit.results and needs != ("reset after use",):
        # Branched runs (a measured qubit used again, a measured bit read) return no result types.
        raise _refusal("Braket's local simulator returns no result types (`#pragma braket result`) for a program "
                       f"with {', '.join(needs)}", "#pragma braket result")
    return BraketProgram(source=source, declared_qubits=int(context.num_qubits),
                         used_qubits=tuple(sorted(context.qtau_used | set(circuit.qubit_set))),
                         explicit="measure" in context.qtau_counts, needs=needs,
                         gate_counts=dict(context.qtau_counts))
