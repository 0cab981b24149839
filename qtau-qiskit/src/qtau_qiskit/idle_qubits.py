"""The primitives' circuits without the qubits nothing acts on.

Why: a circuit transpiled for a device (an ISA circuit, `generate_preset_pass_manager(backend=
FakeSherbrooke()).run(circuit)`) has a qubit for every physical qubit of the device, 127, even
when the program uses 3; its observables, after `observable.apply_layout(isa.layout)`, have 127
too. Qiskit Aer's SamplerV2 and EstimatorV2 run such circuits, since Aer leaves out the qubits no
instruction touches (its truncation); QDREAMER instead judged the circuit by its declared width
and found no simulator with 127 qubits' memory (`NoSuitableResourceError`), and QtauEstimator
planned to cut it. A qubit that only barriers or delays cover stays |0>, so leaving it out changes
neither the counts of the measured qubits nor any expectation value whose observables act as the
identity on it; a qubit an observable acts on is kept.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.quantum_info import SparseObservable

#: Instructions that leave a qubit as it is: on a qubit nothing else acts on, they are dropped.
_PASSIVE = ("barrier", "delay")


def used_qubits(circuit: QuantumCircuit) -> set[int]:
    """The indices of the qubits an instruction other than a barrier or delay acts on."""
    used: set[int] = set()
    for instruction in circuit.data:
        if instruction.operation.name not in _PASSIVE:
            used.update(circuit.find_bit(q).index for q in instruction.qubits)
    return used


def on_qubits(circuit: QuantumCircuit, kept: Iterable[int]) -> QuantumCircuit:
    """`circuit` on the qubits `kept` (which hold every qubit a non-passive instruction acts on),
    renumbered in their order; barriers and delays keep their kept qubits only. The circuit itself
    where every qubit is kept."""
    kept = sorted(kept)
    if len(kept) == circuit.num_qubits or circuit.num_vars or getattr(circuit, "num_stretches", 0):
        return circuit  # (classical variables and stretches would need copying too: kept as they are)
    index = {circuit.qubits[q]: i for i, q in enumerate(kept)}
    out = QuantumCircuit(len(kept), name=circuit.name, global_phase=circuit.global_phase,
                         metadata=circuit.metadata)
    out.add_bits(circuit.clbits)  # every classical bit at its index, loose bits included
    for creg in circuit.cregs:
        out.add_register(creg)
    for instruction in circuit.data:
        qubits = [index[q] for q in instruction.qubits if q in index]
        if instruction.operation.name == "barrier":
            if qubits:
                out.barrier(*qubits, label=instruction.operation.label)
        elif instruction.operation.name == "delay" and not qubits:
            continue
        else:
            out.append(instruction.operation, qubits, instruction.clbits, copy=False)
    return out


def _support(observables: ObservablesArray) -> set[int]:
    """The qubits some observable of the array acts on as other than the identity."""
    support: set[int] = set()
    for observable in observables.sparse_observables_array().reshape(-1):
        support.update(int(q) for q in observable.indices)
    return support


def _restricted(observable: SparseObservable, index: dict[int, int]) -> SparseObservable:
    """`observable` on the qubits of `index` (old qubit -> new qubit), which hold its support."""
    terms = [(paulis, [index[q] for q in qubits], coeff) for paulis, qubits, coeff in observable.to_sparse_list()]
    return SparseObservable.from_sparse_list(terms, num_qubits=len(index))


def estimator_pub_on_used_qubits(pub: EstimatorPub) -> EstimatorPub:
    """`pub` without the qubits neither its circuit acts on nor any of its observables: the circuit
    and every observable renumbered together. The pub itself where every qubit is kept."""
    kept = sorted(used_qubits(pub.circuit) | _support(pub.observables)) or [0]  # one qubit at least
    if len(kept) >= pub.circuit.num_qubits:
        return pub
    index = {q: i for i, q in enumerate(kept)}
    array = pub.observables.sparse_observables_array()
    restricted = np.empty(array.shape, dtype=object)
    for position, observable in np.ndenumerate(array):
        restricted[position] = _restricted(observable, index)
    observables = ObservablesArray(restricted, num_qubits=len(kept), validate=False)
    return EstimatorPub(on_qubits(pub.circuit, kept), observables, pub.parameter_values, pub.precision,
                        validate=False)
