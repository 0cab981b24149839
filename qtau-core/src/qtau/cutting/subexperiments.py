"""A cut circuit's subexperiments, described before they exist.

A 60-qubit circuit cut three times runs 1,728 subexperiment circuits; generating them all (and
quoting each) took seconds, most of a plan's time. Planning needs less: the pieces and their
widths, how many circuits each piece runs (the QPD terms times the piece's commuting observable
groups), the QPD coefficients (for the expected error), and one circuit per piece to price it
with. `Subexperiments` works those out from qiskit-addon-cutting's partition of the circuit and
its QPD bases, and generates the circuits themselves (with the add-on's
`generate_cutting_experiments`, the coefficients and sub-observables the reconstruction reads)
the first time they are asked for, when the plan runs.

It pickles as its inputs only (the circuit, its cuts, the Pauli terms): the journal keeps a cut
task that way, and generation from the same inputs gives the same circuits in the same order.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from qtau.errors import NoSuitableResourceError

#: The most subexperiment circuits a plan may run. Each cut multiplies them by its QPD terms (6
#: per cut CNOT): a 6-qubit QFT on 4-qubit pieces needs 10 cuts and 6**10 terms, whose enumeration
#: alone filled 8 GB of memory; a plan is refused, naming the count, before any is enumerated.
MAX_CIRCUITS = 100_000


def _qpd_groups(circuit: Any) -> dict[int, list[int]]:
    """Instruction indices of each QPD decomposition in `circuit`, by the decomposition's id (the
    add-on suffixes each piece's QPD gate labels with `_<id>`)."""
    from qiskit_addon_cutting.qpd import BaseQPDGate

    groups: dict[int, list[int]] = {}
    for index, inst in enumerate(circuit.data):
        if isinstance(inst.operation, BaseQPDGate):
            groups.setdefault(int(str(inst.operation.label).rsplit("_", 1)[-1]), []).append(index)
    return groups


def _heaviest_term(circuit: Any, indices: list[int]) -> int:
    """The QPD term whose local operations on this piece are the most demanding: a mid-circuit
    measurement first, then the most operations."""
    basis = circuit.data[indices[0]].operation.basis

    def weight(term: int) -> tuple[int, int]:
        ops = [op for i in indices for op in basis.maps[term][getattr(circuit.data[i].operation, "qubit_id", 0)]]
        return (any(op.name == "qpd_measure" for op in ops), len(ops))

    return max(range(len(basis.maps)), key=weight)


def _idle_apart(circuit: Any) -> list[int] | None:
    """Partition labels by the circuit's connectivity, cut gates apart, as `partition_problem`
    finds them, but with each qubit no instruction touches as a piece of its own; None (the
    add-on's own labels) when there is no such qubit. The add-on labels an idle qubit None, and
    `generate_cutting_experiments` then failed with a bare `KeyError: None` where an observable
    acts on it (a circuit's qubit that only an observable reads; it stays |0>)."""
    from qiskit_addon_cutting.qpd import TwoQubitQPDGate

    n = circuit.num_qubits
    used = {circuit.find_bit(q).index for inst in circuit.data for q in inst.qubits}
    if len(used) == n:
        return None
    parent = list(range(n))

    def root(q: int) -> int:
        while parent[q] != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    for inst in circuit.data:
        if not isinstance(inst.operation, TwoQubitQPDGate):
            ids = [circuit.find_bit(q).index for q in inst.qubits]
            for q in ids[1:]:
                parent[root(q)] = root(ids[0])
    label: dict[int, int] = {}
    for q in range(n):  # consecutive labels by each piece's lowest qubit, as the add-on numbers them
        label.setdefault(root(q), len(label))
    return [label[root(q)] for q in range(n)]


def representative(piece: Any) -> Any:
    """One circuit of `piece` to price it with: its heaviest QPD term at every cut, then every
    qubit turned to the X basis and measured (what an observable group's measurement adds, at
    most). Its price, run time and fidelity bound those of the piece's other subexperiments."""
    from qiskit import ClassicalRegister
    from qiskit_addon_cutting.qpd import decompose_qpd_instructions

    groups = _qpd_groups(piece)
    ids = [groups[k] for k in sorted(groups)]
    circuit = decompose_qpd_instructions(piece, ids, [_heaviest_term(piece, i) for i in ids]) if ids else piece.copy()
    register = ClassicalRegister(circuit.num_qubits, "observable_measurements")
    circuit.add_register(register)
    circuit.h(range(circuit.num_qubits))
    circuit.measure(range(circuit.num_qubits), register)
    return circuit


class Subexperiments:
    """The subexperiments of `circuit` cut as `cut` (the cut finder's circuit with its cuts marked;
    None runs it whole) for the Pauli terms `paulis`.

    Known at once: `widths` and `counts` (piece label: qubits, circuits), `squared_coefficients`
    (the sum of the QPD coefficients' squares) and `representatives` (piece label: one circuit to
    price it with). `generate()` makes the circuits, once, on first use."""

    def __init__(self, circuit: Any, cut: Any | None, paulis: Any) -> None:
        self.circuit, self.cut, self.paulis = circuit, cut, paulis
        self._lock = threading.Lock()
        self._generated: tuple[dict[Any, list[Any]], list[Any], dict[Any, Any]] | None = None
        self._problem: Any = None
        self._describe()

    def __getstate__(self) -> dict[str, Any]:
        return {"circuit": self.circuit, "cut": self.cut, "paulis": self.paulis}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["circuit"], state["cut"], state["paulis"])

    def _partition(self) -> Any:
        from qiskit_addon_cutting import cut_wires, expand_observables, partition_problem

        if self.cut is None:
            return partition_problem(circuit=self.circuit, partition_labels="A" * self.circuit.num_qubits,
                                     observables=self.paulis)
        if not any(inst.operation.name == "cut_wire" for inst in self.cut.data):
            # gate cuts only: cut_wires would copy the circuit gate by gate (a third of a 60-qubit plan)
            return partition_problem(circuit=self.cut, partition_labels=_idle_apart(self.cut),
                                     observables=self.paulis)
        wired = cut_wires(self.cut)
        return partition_problem(circuit=wired, partition_labels=_idle_apart(wired),
                                 observables=expand_observables(self.paulis, self.circuit, wired))

    def _describe(self) -> None:
        import numpy as np
        from qiskit_addon_cutting.qpd import generate_qpd_weights
        from qiskit_addon_cutting.utils.observable_grouping import ObservableCollection

        problem = self._problem = self._partition()
        bases: dict[int, Any] = {}
        for piece in problem.subcircuits.values():
            for key, indices in _qpd_groups(piece).items():
                bases[key] = piece.data[indices[0]].operation.basis
        ordered = [bases[k] for k in sorted(bases)]
        groups = {label: len(ObservableCollection(problem.subobservables[label]).groups)
                  for label in problem.subcircuits}
        circuits = math.prod(len(b.maps) for b in ordered) * sum(groups.values())
        if circuits > MAX_CIRCUITS:
            raise NoSuitableResourceError(
                f"the cheapest cuts found, {len(ordered)} of them, make {circuits:,} subexperiment circuits, "
                f"more than the {MAX_CIRCUITS:,} a cut task may run", field="cut", value=len(ordered), rejections={},
                fix="add wider resources (or a larger cut max_width), so fewer cuts are needed",
            )
        weights = generate_qpd_weights(ordered, num_samples=np.inf)
        kappa = math.prod(b.kappa for b in ordered)
        total = sum(float(w) for w, _ in weights.values())
        #: as the add-on computes them: each term's weight share times kappa, signed
        self.squared_coefficients = sum(
            (float(w) / total * kappa) ** 2 for w, _ in weights.values())
        self.labels = tuple(problem.subcircuits)
        self.widths = {label: problem.subcircuits[label].num_qubits for label in self.labels}
        self.counts = {label: len(weights) * groups[label] for label in self.labels}
        self.representatives = {label: representative(problem.subcircuits[label]) for label in self.labels}

    @property
    def generated(self) -> bool:
        """Whether the circuits were made already."""
        return self._generated is not None

    def generate(self) -> tuple[dict[Any, list[Any]], list[Any], dict[Any, Any]]:
        """(piece label: its circuits, the QPD coefficients, piece label: its sub-observables), in
        the add-on's order; made on the first call, by one thread."""
        with self._lock:
            if self._generated is None:
                import numpy as np
                from qiskit_addon_cutting import generate_cutting_experiments

                problem = self._problem if self._problem is not None else self._partition()
                experiments, coefficients = generate_cutting_experiments(
                    circuits=problem.subcircuits, observables=problem.subobservables, num_samples=np.inf)
                self._generated = (dict(experiments), list(coefficients), dict(problem.subobservables))
            return self._generated
