"""Classical bits in no register (`bit b0;` in OpenQASM 3): SamplerV2 returns only registers, so
they are put in one before the run, and counts come in Qiskit's bit order, as Aer gives them. A pub
whose counts cannot be read fails its own task, not the call's others."""

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, qasm3
from qiskit.circuit import Clbit
from qiskit_aer import AerSimulator
from qtau.errors import ExecutionError, InvalidTaskError
from qtau.executor import CircuitJob
from qtau_ibmq import backends
from qtau_ibmq.executor import create_executor
from qtau_qiskit.simulators import counts_of

SINGLE_BITS = """OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit b0;
bit b1;
x q[1];
b0 = measure q[0];
b1 = measure q[1];
"""


def loose_first() -> QuantumCircuit:
    """A loose bit (index 0) before a register (bits 1, 2): joining registers would misplace it."""
    loose = Clbit()
    reg = ClassicalRegister(2, "c")
    qc = QuantumCircuit(3)
    qc.add_bits([loose])
    qc.add_register(reg)
    qc.x(0)
    qc.x(2)
    qc.measure(0, loose)
    qc.measure(1, reg[0])
    qc.measure(2, reg[1])
    return qc


def aer_counts(circuit) -> dict[str, int]:
    """Aer's counts as QTAU's qiskit_local reads them: every classical bit, from the memory slots
    (Qiskit's own `get_counts` leaves out bits in no register when there are registers too)."""
    return counts_of(AerSimulator().run(circuit, shots=100).result(), 0)


def executor():
    res = backends.resources("ibmq_qasm_simulator", {})[0]
    return create_executor(res, {})


@pytest.mark.parametrize("circuit", [qasm3.loads(SINGLE_BITS), loose_first()], ids=["single_bits", "loose_first"])
def test_loose_bits_read_as_aer_reads_them(circuit):
    expected = aer_counts(circuit)
    assert len(expected) == 1  # a deterministic circuit: the keys must match exactly
    [out] = executor().run([CircuitJob("t0", circuit, "qiskit", 100)])
    assert out.counts == expected


def test_a_batch_with_loose_bits_runs_every_task():
    """The report's batch: a loose-bit circuit among ordinary ones, run as one sampler call."""
    bell = QuantumCircuit(2, 2)
    bell.x(0)
    bell.cx(0, 1)
    bell.measure([0, 1], [0, 1])
    circuits = [bell, qasm3.loads(SINGLE_BITS), bell]
    outs = executor().run([CircuitJob(f"t{i}", c, "qiskit", 100) for i, c in enumerate(circuits)])
    assert [o.counts for o in outs] == [aer_counts(c) for c in circuits]
    assert len({o.metadata["job_id"] for o in outs}) == 1


def test_a_pub_that_cannot_be_read_fails_its_own_task():
    """A real SamplerV2 result whose second pub lacks the bits its circuit measures (its loose bits
    sent unregistered, as before the fix): with several tasks the error is an input error naming that task, so core
    runs the call's tasks again one by one; alone, an ExecutionError (the task fails over)."""
    from qiskit_ibm_runtime import SamplerV2

    ex = executor()
    good = QuantumCircuit(1, 1)
    good.x(0)
    good.measure(0, 0)
    bad = qasm3.loads(SINGLE_BITS)
    isas = [ex.isa(good), ex.isa(bad)]
    primitive = SamplerV2(mode=ex.backend).run([(isa, None, 10) for isa in isas]).result()
    with pytest.raises(InvalidTaskError, match="task t1") as caught:
        ex.outcomes(primitive, "job", [False, False], [1, 1], tasks=["t0", "t1"])
    assert caught.value.field == "circuit" and caught.value.value == "t1"
    with pytest.raises(ExecutionError, match="pub 0"):
        ex.outcomes(primitive[1:], "job", [False], [1], tasks=["t1"])
