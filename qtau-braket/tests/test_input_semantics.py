"""Valid inputs the Braket path once ran wrongly or refused, each checked against a real reference:
Braket's LocalSimulator run directly, or Qiskit's OpenQASM reader and Aer."""

from __future__ import annotations

import pytest
from braket.circuits import Circuit, Observable
from braket.devices import LocalSimulator
from qtau.errors import CircuitConversionError
from qtau_braket.formats import from_openqasm3
from qtau_braket.outcomes import common_order

HEADER = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def direct(circuit, shots=100) -> dict[str, int]:
    """Braket's LocalSimulator on the circuit itself: bit i = the i-th measured qubit, bit 0 rightmost."""
    return common_order(LocalSimulator().run(circuit, shots=shots).result().measurement_counts)


def aer(text: str, shots=100) -> dict[str, int]:
    """Qiskit's OpenQASM 3 reader and Aer: the reference for programs Braket's simulator refuses.
    Read from the memory slots, every classical bit (as qtau-qiskit reads them: Qiskit's own
    `get_counts` leaves out a bit in no register, `bit b;`, when the program has registers too)."""
    qasm3 = pytest.importorskip("qiskit.qasm3")
    from qiskit_aer import AerSimulator
    from qtau_qiskit.simulators import counts_of

    return counts_of(AerSimulator().run(qasm3.loads(text), shots=shots).result(), 0)


@pytest.fixture(scope="module")
def service():
    from qtau.service import PilotComputeService

    pcs = PilotComputeService(execution_engine="local")
    for executor in ("braket_local", "braket_local_dm"):
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
    yield pcs
    pcs.close()


def run(service, circuit, resource="braket:local_sv", shots=100):
    from qtau.types import QuantumTask

    return service.get_result(service.submit_quantum_task(QuantumTask(circuit=circuit, shots=shots, resource=resource)),
                              timeout=120)


# -- A1: qubit indices that are not 0..n-1 -------------------------------------------------------

SPARSE = {
    "only_q3": lambda: Circuit().x(3),
    "sparse_0_5": lambda: Circuit().x(5).cnot(5, 0),
    "sparse_0_2_explicit_gap": lambda: Circuit().x(0).x(2),
}


@pytest.mark.parametrize("resource", ["braket:local_sv", "braket:local_dm"])
@pytest.mark.parametrize("name", sorted(SPARSE))
def test_sparse_qubits_read_as_braket_measures_them(service, name, resource):
    """A Circuit's implicit measure-all reads the qubits it uses, in order, as Braket's simulator
    and its OpenQASM export (which every other backend runs) do: `x(5).cnot(5, 0)` reads `11`."""
    expected = direct(SPARSE[name]())
    assert len(expected) == 1
    assert run(service, SPARSE[name](), resource).get_counts() == expected


def test_sparse_qubits_agree_with_aer_through_qtau(service):
    pytest.importorskip("qtau_qiskit")
    service.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
    for make in SPARSE.values():
        assert run(service, make()).get_counts() == run(service, make(), "qiskit:aer_simulator").get_counts()


def test_an_unmeasured_program_still_reads_every_declared_qubit(service):
    """OpenQASM with idle qubits: bit q is qubit q over the declared qubits, as Qiskit's measure_all."""
    text = "OPENQASM 3.0;\nqubit[3] q;\nx q[2];\n"
    assert run(service, text).get_counts() == aer(HEADER + "qubit[3] q;\nx q[2];\nbit[3] c;\nc = measure q;\n") == {"100": 100}


# -- A2: reset ---------------------------------------------------------------------------------


def test_reset_after_use_runs_as_a_program_not_dropped(service):
    """A Braket Circuit has no reset (its reader drops it): the program runs as a program
    (qtau_braket.programs), with the reset."""
    from qtau_braket.programs import BraketProgram

    text = HEADER + "qubit[2] q;\nbit[2] c;\nx q[0];\nx q[1];\nreset q[0];\nc = measure q;\n"
    assert aer(text) == {"10": 100}  # what a reset gives; Braket's Circuit would give 11
    assert isinstance(from_openqasm3(text), BraketProgram)
    for resource in ("braket:local_sv", "braket:local_dm"):
        assert run(service, text, resource).get_counts() == {"10": 100}


def test_reset_before_use_runs():
    """A reset of a qubit nothing has touched leaves |0>: the program runs, as Braket's simulator
    runs it given the program itself."""
    from braket.ir.openqasm import Program

    text = HEADER + "qubit[2] q;\nbit[2] c;\nreset q[0];\nx q[1];\nc = measure q;\n"
    program = Program(source=text.replace(HEADER, "OPENQASM 3.0;\n"))  # x is a Braket built-in
    reference = common_order(LocalSimulator().run(program, shots=50).result().measurement_counts)
    assert direct(from_openqasm3(text), 50) == reference == aer(text, 50) == {"10": 50}


# -- A5: several classical registers used whole, single bits -------------------------------------

REGISTERS = {
    "whole_registers": "qubit[2] a; qubit[1] b; bit[2] ca; bit[1] cb;\nx a[1]; x b[0];\nca = measure a; cb = measure b;\n",
    "single_bits": "qubit[2] q; bit b0; bit b1;\nx q[1];\nb0 = measure q[0]; b1 = measure q[1];\n",
    "declared_measured": "qubit[2] a; qubit[1] b;\nx a[1]; x b[0];\nbit[2] ca = measure a;\nbit[1] cb = measure b;\n",
    "arrow_cregs": "qubit[2] a; qubit[1] b; creg ca[2]; creg cb[1];\nx a[1]; x b[0];\nmeasure a -> ca;\nmeasure b -> cb;\n",
    "mixed": "qubit[3] q; bit b; bit[2] c;\nx q[0]; x q[2];\nb = measure q[0];\nc[1] = measure q[2];\nc[0] = measure q[1];\n",
    "unwritten_bit": "qubit[3] q; bit[2] ca; bit[2] cb;\nx q[0]; x q[2];\nca[1] = measure q[0];\ncb = measure q[1:2];\n",
}


@pytest.mark.parametrize("name", sorted(REGISTERS))
def test_several_registers_read_every_bit_in_declaration_order(service, name):
    text = HEADER + REGISTERS[name]
    expected = aer(text)
    assert len(expected) == 1
    assert run(service, text).get_counts() == expected


def test_a_register_used_whole_outside_a_measurement_is_refused():
    text = HEADER + "qubit[2] q; bit[2] c; bit d;\nc = measure q;\nif (c == 3) { x q[0]; }\nd = measure q[0];\n"
    with pytest.raises(CircuitConversionError, match="several classical registers") as caught:
        from_openqasm3(text)
    assert caught.value.field == "circuit" and "Qiskit Aer" in caught.value.fix


# -- B3: the include with a comment, a program on one line -------------------------------------

ONE_LINE = {
    "include_comment": 'OPENQASM 3.0;\ninclude "stdgates.inc"; // standard gates\nqubit[2] q;\nbit[2] c;\n'
                       "x q[0]; cx q[0], q[1]; // entangle\nc = measure q;\n",
    "one_line": 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] c; x q[0]; cx q[0], q[1]; c = measure q;',
    "block_comment": 'OPENQASM 3.0;\n/* gates */ include "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nx q[0];\ncx q[0], q[1];\nc = measure q;\n',
}


@pytest.mark.parametrize("name", sorted(ONE_LINE))
def test_include_anywhere_on_its_line(service, name):
    assert run(service, ONE_LINE[name]).get_counts() == aer(ONE_LINE[name]) == {"11": 100}


# -- A7: result types --------------------------------------------------------------------------


def test_result_type_values_are_the_sdks(service):
    expectation = Circuit().h(0).expectation(observable=Observable.X(), target=[0])
    result = run(service, expectation)
    assert result.values == pytest.approx(LocalSimulator().run(expectation, shots=100).result().values[0]) == 1.0
    # The counts are read after the X observable's basis rotation: +1 reads 0.
    assert result.get_counts() == {"0": 100}
    assert result.metadata["result_types"] == ["expectation"] and "basis" in result.metadata["counts_basis"]

    both = Circuit().x(1).expectation(observable=Observable.Z(), target=[1]).probability(target=[0, 1])
    result = run(service, both)
    reference = LocalSimulator().run(both, shots=100).result().values
    assert len(result.values) == 2
    assert result.values[0] == pytest.approx(reference[0]) == -1.0
    assert list(result.values[1]) == pytest.approx(list(reference[1])) == [0, 1, 0, 0]


def test_probability_values_match_the_counts(service):
    """A sampled probability comes from the same shots as the counts (Braket's order: the first
    target is the leftmost bit of the index, as in PennyLane's `probs`)."""
    bell = Circuit().h(0).cnot(0, 1).probability(target=[0, 1])
    result = run(service, bell, shots=200)
    counts = result.get_counts()
    assert result.values[0] == pytest.approx(counts.get("00", 0) / 200)
    assert result.values[3] == pytest.approx(counts.get("11", 0) / 200)
    assert result.values[1] == result.values[2] == 0


# -- B4: what Braket's local simulator runs is placed there ----------------------------------------


def test_native_gates_are_the_simulators():
    from qtau_braket.local import SIMULATOR_GATES

    for backend in ("braket_sv", "braket_dm"):
        supported = LocalSimulator(backend).properties.action["braket.ir.openqasm.program"].supportedOperations
        gates = {op for op in supported if op not in NOISE}
        assert gates == set(SIMULATOR_GATES), backend


NOISE = {"amplitude_damping", "bit_flip", "depolarizing", "generalized_amplitude_damping", "kraus", "pauli_channel",
         "phase_damping", "phase_flip", "two_qubit_dephasing", "two_qubit_depolarizing"}

SIMULATOR_ONLY = {
    "two_controls": lambda: Circuit().x(0).x(2, control=0).ry(1, 3.141592653589793, control=[0, 2]),
    "gphase": lambda: Circuit().x(0).gphase(0.3),
    "verbatim": lambda: Circuit().add_verbatim_box(Circuit().x(0).cnot(0, 1)),
    "native_gates": lambda: Circuit().gpi(0, 0.3).gpi2(1, 0.2).ms(0, 2, 0.1, 0.2, 0.3).prx(1, 0.2, 0.4)
                                     .pswap(0, 1, 0.2).xy(1, 2, 0.4).x(2),
}


@pytest.mark.parametrize("name", sorted(SIMULATOR_ONLY))
def test_what_the_simulator_runs_is_placed_on_it(service, name):
    """Each runs on braket_local (QDREAMER once refused them as gates with no definition) and
    gives the distribution the simulator computes exactly for the circuit itself (shots=0)."""
    circuit = SIMULATOR_ONLY[name]()
    qubits = sorted(int(q) for q in circuit.qubits)
    exact = LocalSimulator().run(SIMULATOR_ONLY[name]().probability(target=qubits), shots=0).result().values[0]
    expected = {format(i, f"0{len(qubits)}b")[::-1]: p for i, p in enumerate(exact) if p > 1e-9}
    got = run(service, circuit, shots=400).get_counts()
    distance = 0.5 * sum(abs(got.get(k, 0) / 400 - expected.get(k, 0)) for k in set(got) | set(expected))
    assert distance < 0.1, (got, expected)
