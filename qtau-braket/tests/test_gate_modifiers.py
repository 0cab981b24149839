"""OpenQASM 3 gate modifiers written by the user (`ctrl @`, `ctrl(2) @`, `negctrl @`, `inv @`,
`pow(k) @`) give the right distribution on `braket_local` (issue 21).

Braket's local simulator applied gates with control qubits to the wrong amplitudes when control
and target are not neighbours (`qtau_braket.controls`); each program below puts its controlled
gate on such qubits of an entangled 5-qubit state, and each gave a wrong distribution before the
fix (TVD 0.10 to 0.65 from the exact one). `inv @` and `pow(k) @` without controls were right
before too; they stay here to guard the power path, which the fix folds into controlled gates. The exact distribution is computed here with numpy from the
program's gates written out by hand (a state vector, gate by gate), not by Braket.

The bound: each case runs SHOTS = 8000 shots over at most 2^5 = 32 outcomes. By the
Bretagnolle-Huber-Carol inequality, P(TVD(empirical, exact) >= eps) <= 2^k exp(-2 N eps^2), which
for eps = 0.06, k = 32, N = 8000 is below 1e-15: a correct simulator never fails this test, while
every wrong answer seen (TVD >= 0.10) fails it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qtau.service import PilotComputeService
from qtau.types import QuantumTask

SHOTS = 8000
TVD_BOUND = 0.06
N = 5

H = np.array([[1, 1], [1, -1]]) / math.sqrt(2)
X = np.array([[0, 1], [1, 0]])
S = np.diag([1, 1j])
T = np.diag([1, np.exp(1j * math.pi / 4)])


def ry(t: float):
    c, s = math.cos(t / 2), math.sin(t / 2)
    return np.array([[c, -s], [s, c]])


def rz(t: float):
    return np.diag([np.exp(-1j * t / 2), np.exp(1j * t / 2)])


def rx(t: float):
    c, s = math.cos(t / 2), math.sin(t / 2)
    return np.array([[c, -1j * s], [-1j * s, c]])


def apply(state, gate, target: int, controls=(), values=None):
    """`gate` on qubit `target` where qubits `controls` hold `values` (all 1 by default); qubit 0
    is the most significant axis of `state`."""
    psi = state.reshape([2] * N).copy()
    where = [slice(None)] * N
    for c, v in zip(controls, values or [1] * len(controls), strict=True):
        where[c] = v
    block = psi[tuple(where)]
    axis = target - sum(1 for c in controls if c < target)
    block = np.moveaxis(np.tensordot(gate, np.moveaxis(block, axis, 0), axes=1), 0, axis)
    psi[tuple(where)] = block
    return psi.reshape(-1)


#: An entangled start: ry on every qubit, then a cnot chain (plain gates, read right by Braket).
PREP_TEXT = "".join(f"ry({0.3 + 0.4 * q}) q[{q}];\n" for q in range(N)) + "".join(
    f"cnot q[{q}], q[{q + 1}];\n" for q in range(N - 1))


def prepared():
    state = np.zeros(2 ** N, dtype=complex)
    state[0] = 1
    for q in range(N):
        state = apply(state, ry(0.3 + 0.4 * q), q)
    for q in range(N - 1):
        state = apply(state, X, q + 1, [q])
    return state


def program(body: str, stdgates: bool = False) -> str:
    include = 'include "stdgates.inc";\n' if stdgates else ""
    return f"OPENQASM 3.0;\n{include}qubit[{N}] q;\nbit[{N}] c;\n{PREP_TEXT}{body}c = measure q;\n"


#: (name, the program's own gates after PREP_TEXT, the same gates applied by numpy)
CASES = [
    ("ctrl @ rz", "ctrl @ rz(1.3) q[2], q[4];\nh q[4];\n",
     lambda s: apply(apply(s, rz(1.3), 4, [2]), H, 4)),
    ("ctrl @ ry", "ctrl @ ry(1.1) q[3], q[1];\n",
     lambda s: apply(s, ry(1.1), 1, [3])),
    ("ctrl @ rx, target before control", "ctrl @ rx(2.1) q[3], q[0];\n",
     lambda s: apply(s, rx(2.1), 0, [3])),
    ("ctrl(2) @ x", "ctrl(2) @ x q[3], q[2], q[0];\n",
     lambda s: apply(s, X, 0, [3, 2])),
    ("negctrl @ ry", "negctrl @ ry(0.9) q[1], q[3];\n",
     lambda s: apply(s, ry(0.9), 3, [1], [0])),
    ("negctrl @ x", "negctrl @ x q[2], q[0];\n",
     lambda s: apply(s, X, 0, [2], [0])),
    ("inv @ s", "h q[1];\ninv @ s q[1];\nh q[1];\n",
     lambda s: apply(apply(apply(s, H, 1), S.conj().T, 1), H, 1)),
    ("pow(2) @ t", "h q[2];\npow(2) @ t q[2];\nh q[2];\n",
     lambda s: apply(apply(apply(s, H, 2), T @ T, 2), H, 2)),
    ("ctrl @ inv @ s", "h q[0];\nctrl @ inv @ s q[3], q[0];\nh q[0];\n",
     lambda s: apply(apply(apply(s, H, 0), S.conj().T, 0, [3]), H, 0)),
    ("ctrl @ pow(2) @ t", "h q[1];\nctrl @ pow(2) @ t q[3], q[1];\nh q[1];\n",
     lambda s: apply(apply(apply(s, H, 1), T @ T, 1, [3]), H, 1)),
    ("pow(0.5) @ x (principal root)", "pow(0.5) @ x q[1];\n",
     lambda s: apply(s, np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]) / 2, 1)),
]
STDGATES_CASE = ("ctrl @ ry beside stdgates' cx", "ctrl @ ry(1.1) q[3], q[1];\ncx q[0], q[2];\n",
                 lambda s: apply(apply(s, ry(1.1), 1, [3]), X, 2, [0]))


def exact_counts_distribution(ops) -> dict[str, float]:
    """The exact distribution as QTAU's counts name outcomes: `c = measure q;` puts q[i] in bit i,
    and bit 0 is the rightmost character."""
    probs = np.abs(ops(prepared())) ** 2
    out = {}
    for index, p in enumerate(probs):
        if p > 1e-12:
            big_endian = format(index, f"0{N}b")  # q[0] first
            out[big_endian[::-1]] = float(p)
    return out


def tvd(counts: dict[str, int], exact: dict[str, float]) -> float:
    total = sum(counts.values())
    keys = set(counts) | set(exact)
    return 0.5 * sum(abs(counts.get(k, 0) / total - exact.get(k, 0.0)) for k in keys)


@pytest.fixture(scope="module")
def pcs(host):
    service = PilotComputeService(execution_engine="local", plugins=host)
    service.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_local"}})
    yield service
    service.close()


def test_the_exact_distribution_reads_bits_as_qtau_counts_do(pcs):
    """The numpy reference and QTAU's counts agree on bit order (x on q[0] only: bit 0 is 1)."""
    text = f"OPENQASM 3.0;\nqubit[{N}] q;\nbit[{N}] c;\nx q[0];\nc = measure q;\n"
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=text, shots=20)), timeout=120)
    ops = lambda s: apply(np.eye(2 ** N)[0].astype(complex), X, 0)  # noqa: E731 (x on q[0] from |0000>)
    assert result.get_counts() == {k: 20 for k in exact_counts_distribution(ops)} == {"00001": 20}


@pytest.mark.parametrize(("name", "body", "ops"), [*CASES, STDGATES_CASE], ids=[c[0] for c in [*CASES, STDGATES_CASE]])
def test_user_written_modifiers_give_the_exact_distribution_on_braket_local(pcs, name, body, ops):
    text = program(body, stdgates=(name, body, ops) == STDGATES_CASE)
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=text, shots=SHOTS)), timeout=120)
    assert result.resource_id.startswith("braket:")
    assert result.conversion_path == ("openqasm3", "braket")
    distance = tvd(result.get_counts(), exact_counts_distribution(ops))
    assert distance < TVD_BOUND, f"{name}: TVD {distance:.3f} from the exact distribution"


def test_circuits_built_with_control_arguments_are_right_too(pcs):
    """The Circuit API's `control=` (and `control_state=`) takes the same path as `ctrl @`."""
    from braket.circuits import Circuit

    circuit = Circuit()
    for q in range(N):
        circuit.ry(q, 0.3 + 0.4 * q)
    for q in range(N - 1):
        circuit.cnot(q, q + 1)
    circuit.ry(0, 0.9, control=3, control_state=0)
    circuit.x(1, control=[3, 0])
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=circuit, shots=SHOTS)), timeout=120)
    exact = exact_counts_distribution(lambda s: apply(apply(s, ry(0.9), 0, [3], [0]), X, 1, [3, 0]))
    # A Braket circuit without measurements is measured whole; qubit 0 is bit 0, as for `c = measure q;`.
    assert tvd(result.get_counts(), exact) < TVD_BOUND
