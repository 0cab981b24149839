"""qtau-qiskit's compact form of circuits for the journal (qtau_qiskit.compact), tested with the
plugin alone: exact where it answers, None where it could not be (tests/test_journal_compact_forms.py
runs the whole real-world corpus and recovery with every plugin installed)."""

from __future__ import annotations

import pickle

from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, qasm2
from qiskit.circuit import AncillaRegister, Clbit, Parameter, Qubit
from qiskit.circuit.library import HGate, QFTGate, efficient_su2
from qiskit.circuit.random import random_circuit
from qtau.plugins import PluginHost
from qtau_qiskit.compact import compact


def back(qc):
    rebuild, args = compact(qc)
    return pickle.loads(pickle.dumps((rebuild, args)))[0](*args)


def test_standard_gate_circuits_come_back_equal():
    a, b, c = QuantumRegister(2, "a"), QuantumRegister(1, "b"), ClassicalRegister(3, "m")
    regs = QuantumCircuit(a, b, c, name="two regs", global_phase=1.5, metadata={"k": 1})
    regs.append(HGate(label="h0"), [a[0]])
    regs.cx(a[0], b[0])
    regs.reset(a[1])
    regs.barrier()
    regs.measure([a[0], a[1], b[0]], [c[2], c[0], c[1]])
    su2 = efficient_su2(4, reps=1)
    su2 = su2.assign_parameters([0.1 * i for i in range(su2.num_parameters)]).decompose()
    su2.measure_all()
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\nh q[0];\ncx q[0],q[1];\nbarrier q;\nmeasure q -> c;\n'
    for qc in (regs, su2, random_circuit(5, 6, measure=True, seed=3), qasm2.loads(text)):
        if compact(qc) is None:  # random_circuit may draw a gate that is not standard
            continue
        rebuilt = back(qc)
        assert rebuilt == qc and rebuilt.qregs == qc.qregs and rebuilt.cregs == qc.cregs
        assert (rebuilt.name, rebuilt.global_phase, rebuilt.metadata) == (qc.name, qc.global_phase, qc.metadata)
        assert [i.label for i in rebuilt.data] == [i.label for i in qc.data]
    assert compact(regs) is not None and compact(qasm2.loads(text)) is not None


def test_what_it_cannot_write_exactly_is_left_to_pickle():
    param = QuantumCircuit(1)
    param.rx(Parameter("t"), 0)
    library = QuantumCircuit(3)
    library.append(QFTGate(3), [0, 1, 2])
    assert compact(param) is None and compact(library) is None


def test_bits_that_are_not_exactly_their_registers_are_left_to_pickle():
    """One register with a loose bit beside it (quantum or classical), an ancilla register (it would
    come back as a QuantumRegister), loose bits alone, and one register whose bits were added in
    another order: none is written compactly; one register of each kind is, exactly."""
    q, c = QuantumRegister(2, "q"), ClassicalRegister(2, "c")
    loose_qubit = QuantumCircuit(q, [Qubit()], c)
    loose_clbit = QuantumCircuit(q, c, [Clbit()])
    ancilla = QuantumCircuit(AncillaRegister(2, "a"), c)
    loose_only = QuantumCircuit([Qubit(), Qubit()])
    reordered = QuantumCircuit([q[1], q[0]], c)
    reordered.add_register(q)
    for qc in (loose_qubit, loose_clbit, ancilla, loose_only, reordered):
        qc.h(0)
        assert compact(qc) is None, qc
    plain = QuantumCircuit(q, c)
    plain.h(0)
    plain.measure(q, c)
    assert back(plain) == plain and back(plain).qregs == [q] and back(plain).cregs == [c]


def test_the_plugin_offers_it_through_its_hook():
    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    forms = host.compact_forms()
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    blob = forms.pack(qc)
    assert b"qtau_qiskit.compact" in blob and pickle.loads(blob) == qc
