"""Tasks journaled with their circuit in a plugin's compact form (`qtau_compact_forms`) come back
equal, and run after a crash as they would have.

The journal pickles every acknowledged task on the submitting thread; Qiskit's own pickling of a
Bell circuit costs more than Aer's run of it in a batch, so qtau-qiskit writes circuits of standard
gates as plain tuples (qtau_qiskit.compact) and everything else as before. A compact form that
were not exact would run another circuit after a crash, so every circuit of the real-world corpus
(MQT Bench, Qiskit's library, their OpenQASM 2 read back) and the cases the form must refuse are
checked here for equality after the round trip; nothing is mocked.
"""

from __future__ import annotations

import pickle

import pytest
from qtau import PilotComputeService, QuantumTask
from qtau.journal import Journal
from qtau.journal.service_journal import task_blob
from qtau.packing import CompactForms
from qtau.plugins import PluginHost
from test_real_world_corpus import _corpus

COMPACT = b"qtau_qiskit.compact"


@pytest.fixture(scope="module")
def forms():
    host = PluginHost(strict=True)
    host.load_entry_points(allow={"qiskit"})
    found = host.compact_forms()
    assert found, "qtau-qiskit offers a compact form of QuantumCircuit"
    return found


def same_circuit(a, b) -> bool:
    return (a == b and a.name == b.name and a.qregs == b.qregs and a.cregs == b.cregs
            and a.global_phase == b.global_phase and a.metadata == b.metadata
            and [i.label for i in a.data] == [i.label for i in b.data])


def round_trip(forms, circuit):
    """The circuit read back from its task's journal payload, and whether the circuit itself took
    the compact form (a gate's definition inside a circuit that did not may take it too)."""
    blob = forms.pack(QuantumTask(circuit=circuit, shots=10, task_id="t"))
    compactor = forms.compactor(type(circuit))
    return pickle.loads(blob).circuit, compactor is not None and compactor(circuit) is not None


def _refused() -> dict:
    """Circuits the compact form must leave to pickle (it could not write them exactly)."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
    from qiskit.circuit import AncillaRegister, Clbit, Parameter, Qubit
    from qiskit.circuit.library import QFT, CXGate
    from qiskit.providers.fake_provider import GenericBackendV2

    out = {}
    theta = Parameter("theta")
    qc = QuantumCircuit(1, 1)
    qc.rx(theta, 0)
    qc.measure(0, 0)
    out["parameter"] = qc
    qc = QuantumCircuit(2, 1)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    out["control flow"] = qc
    qc = QuantumCircuit(2, 2)
    qc.append(CXGate(ctrl_state=0), [0, 1])
    qc.measure([0, 1], [0, 1])
    out["open control"] = qc
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    out["transpiled (a layout)"] = transpile(qc, GenericBackendV2(3, seed=1), seed_transpiler=1)
    qc = QuantumCircuit([Qubit(), Qubit()], QuantumRegister(1, "r"), [Clbit()])
    qc.h(0)
    qc.measure(0, 0)
    out["loose bits"] = qc
    out["a QuantumCircuit subclass (library blueprint)"] = QFT(3)
    qc = QuantumCircuit(QuantumRegister(2, "q"), AncillaRegister(1, "anc"), ClassicalRegister(2, "c"))
    qc.h(0)
    qc.cx(0, 2)
    qc.measure([0, 1], [0, 1])
    out["an ancilla register"] = qc
    return out


def test_every_corpus_circuit_comes_back_equal(forms):
    from qiskit import qasm2

    compacted = []
    for name, (qc, texts) in _corpus().items():
        read = qasm2.loads(texts["openqasm2"], custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
        for label, circuit in ((name, qc), (f"{name} via qasm2", read)):
            back, compact = round_trip(forms, circuit)
            assert same_circuit(back, circuit), label
            if compact:
                compacted.append(label)
    # The standard-gate circuits take the compact form: MQT Bench's (barriers, measurements, an
    # ancilla left unmeasured), two registers, unwritten bits, and OpenQASM 2 read back; library and
    # custom gates do not (their definitions inside them may).
    for expected in ("mqt_ghz_3", "mqt_graphstate_4", "mqt_bv_4", "mqt_qaoa_3", "two_registers",
                     "unwritten_bits", "mqt_ghz_3 via qasm2", "mqt_qpeexact_3 via qasm2", "two_registers via qasm2"):
        assert expected in compacted
    for library in ("QFTGate", "UnitaryGate", "to_gate", "real_amplitudes.to_gate"):
        assert library not in compacted


def test_what_it_cannot_write_exactly_is_pickled_as_before(forms):
    for name, circuit in _refused().items():
        back, compact = round_trip(forms, circuit)
        assert not compact, name
        assert back == circuit and back.qregs == circuit.qregs and back.cregs == circuit.cregs, name


def test_labels_phase_metadata_resets_and_barriers_are_kept(forms):
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import HGate

    qc = QuantumCircuit(3, 3, name="mine", global_phase=0.25, metadata={"run": 7, "tags": ["a"]})
    qc.append(HGate(label="first"), [0])
    qc.u(0.1, 0.2, 0.3, 1)
    qc.reset(2)
    qc.barrier([0, 1], label="here")
    qc.cx(0, 2)
    qc.measure([0, 1, 2], [2, 0, 1])
    back, compact = round_trip(forms, qc)
    assert compact and same_circuit(back, qc)
    assert back.data[3].operation.label == "here" and back.data[3].qubits == (back.qubits[0], back.qubits[1])


def test_a_task_journaled_in_compact_form_runs_after_a_crash(forms, tmp_path):
    """Acknowledged and never run (the driver died): recover() runs the circuit read back from its
    compact form, with its two registers' bits at their places."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, qasm2

    a, ca, cb = QuantumRegister(3, "a"), ClassicalRegister(2, "ca"), ClassicalRegister(1, "cb")
    qc = QuantumCircuit(a, ca, cb)
    qc.x(a[0])
    qc.barrier()
    qc.measure(a[0], cb[0])
    qc.measure(a[1], ca[1])
    loaded = qasm2.loads('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
                         'x q[1];\nbarrier q;\nmeasure q -> c;\n')
    journal = Journal.open(str(tmp_path))
    tasks = [QuantumTask(circuit=qc, shots=20, task_id="regs"), QuantumTask(circuit=loaded, shots=20, task_id="qasm")]
    for task in tasks:
        blob = task_blob(task, forms)
        assert COMPACT in blob
        journal.record_task(task, payload=blob, durable=True)
    journal.close()
    with PilotComputeService(working_directory=str(tmp_path)) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        assert pcs.journal.forms.compactor(QuantumCircuit) is not None  # what the service journals with
        handles = pcs.recover()
        assert len(handles) == 2
        results = {r.task_id: r for r in pcs.get_results(handles, timeout=120)}
        # The same circuits submitted as they are: the same counts (both are deterministic).
        again = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=c, shots=20) for c in (qc, loaded)]))
    assert results["regs"].counts == again[0].counts == {"100": 20}
    assert results["qasm"].counts == again[1].counts == {"10": 20}


class Thing:
    def __init__(self, value):
        self.value = value


class SubThing(Thing):
    pass


def rebuild_thing(value):
    return Thing(value * 10)


def test_compact_forms_apply_to_the_exact_class_and_fall_back_on_none_or_a_raise():
    calls = []

    def compactor(obj):
        calls.append(obj.value)
        if obj.value == 1:
            return None
        if obj.value == 2:
            raise RuntimeError("not today")
        return rebuild_thing, (obj.value,)

    forms = CompactForms({f"{__name__}.Thing": compactor})
    assert pickle.loads(forms.pack([Thing(3), SubThing(3), Thing(1), Thing(2)])) is not None
    first, sub, none, raised = pickle.loads(forms.pack([Thing(3), SubThing(3), Thing(1), Thing(2)]))
    assert first.value == 30  # rebuilt from the compact form
    assert type(sub) is SubThing and sub.value == 3  # a subclass is not the class the form is for
    assert none.value == 1 and raised.value == 2  # pickled as they are
    assert 3 in calls and 1 in calls and 2 in calls
    assert not CompactForms() and CompactForms().pack({"a": 1}) == pickle.dumps({"a": 1}, protocol=5)
