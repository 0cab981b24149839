"""Hostile OpenQASM refused where it is submitted, before any SDK opens or expands it (issue 23,
item 2): includes of FIFOs and devices however the path is written, and gate definitions whose
expansion doubles thirty times, written plainly or through gate modifiers. A commented-out include
is not an include."""

from __future__ import annotations

import os

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.errors import QasmIncludeError, QasmLimitError


def _bell():
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return qc


def _doubling_gates(n: int, modifier: str = "") -> str:
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', "gate g0 a { x a; }"]
    lines += [f"gate g{i} a {{ {modifier}g{i - 1} a; {modifier}g{i - 1} a; }}" for i in range(1, n)]
    lines += ["qubit[1] q;", f"g{n - 1} q[0];", "bit[1] c;", "c[0] = measure q[0];"]
    return "\n".join(lines)


@pytest.fixture
def pcs(tmp_path):
    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, working_directory=str(tmp_path))
    service.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
    yield service
    service.cancel()


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo.inc"
    os.mkfifo(path)
    return str(path)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("header", ['OPENQASM 2.0;\ninclude "qelib1.inc";', "OPENQASM 3.0;"])
@pytest.mark.parametrize("include", ['include "{fifo}";', 'include "/dev/zero";',
                                     "include '{fifo}';", 'include "{slashes}";'])
def test_hostile_includes_are_refused_before_any_sdk_opens_them(pcs, fifo, header, include):
    """A FIFO (reading it would block for ever), a device (reading it never ends), a single-quoted
    path (OpenQASM 3 allows it) and a path with `//` (once mistaken for a comment)."""
    slashes = fifo.replace("/fifo.inc", "//fifo.inc")
    text = f"{header}\n{include.format(fifo=fifo, slashes=slashes)}\nqreg q[1];\n"
    with pytest.raises(QasmIncludeError) as caught:
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(text, num_qubits=1, shots=10, timeout=2)))
    assert caught.value.field == "circuit"
    ok = pcs.get_result(pcs.submit_quantum_task(QuantumTask(_bell, num_qubits=2, shots=20, timeout=60)))
    assert sum(ok.counts.values()) == 20


@pytest.mark.timeout(60)
@pytest.mark.parametrize("modifier", ["", "inv @ ", "pow(1) @ "])
def test_thirty_doubling_nested_gates_are_refused_by_their_expanded_size(pcs, modifier):
    task = QuantumTask(_doubling_gates(30, modifier), num_qubits=1, shots=10, timeout=2)
    with pytest.raises(QasmLimitError) as caught:
        pcs.get_result(pcs.submit_quantum_task(task))
    assert caught.value.value >= 2**29


def test_a_commented_out_include_and_standard_libraries_are_accepted(pcs):
    text = ('OPENQASM 2.0;\n// include "mine.inc";\ninclude "qelib1.inc";\n'
            "qreg q[1];\ncreg c[1];\nx q[0];\nmeasure q[0] -> c[0];\n")
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(text, num_qubits=1, shots=10, timeout=60)))
    assert result.counts == {"1": 10}
