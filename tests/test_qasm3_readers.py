"""Hand-written OpenQASM 3 that Qiskit's importer misread or refused, on every backend reading it.

- A defined gate's parameters were bound alphabetically by qiskit-qasm3-import 0.6
  (`gate g(b, a)` applied as g(0, pi) ran rx(0)) on every path through Qiskit's reader: Aer,
  BasicSimulator, IBM's local simulator and PennyLane's; Braket's reader was right.
- A program without an include that declares a standard name itself (its own `gate h`, a
  register `s`) was given `include "stdgates.inc"` by core and then refused.
- A program without an include whose header follows a comment line was not given the include
  (`gate 'h' is not defined`); one whose header follows a `/* ... */` block was refused as not
  OpenQASM at all.
- A `box` (a compiler's scope) was refused by Aer's and BasicSimulator's transpilers and by
  pennylane-qiskit; its body now runs in its place.
Each runs on each resource (pinned) and must give the one outcome it always gives.
"""

from __future__ import annotations

import pytest
from qtau import QuantumTask
from qtau_test_services import local_service

pytest.importorskip("qtau_qiskit")
pytest.importorskip("qtau_pennylane")
pytest.importorskip("qtau_ibmq")

PROGRAMS = {
    # rx(pi) through parameters declared out of alphabetical order: always 1.
    "parameters_out_of_order": ('OPENQASM 3.0;\ninclude "stdgates.inc";\ngate g(b, a) q0 { rx(a) q0; }\n'
                                "qubit[1] q;\nbit[1] c;\ng(0, pi) q[0];\nc[0] = measure q[0];\n", {"1": 100}),
    # rx(theta = pi) on a, cx, rz(phi) on b: always 11.
    "theta_before_phi": ('OPENQASM 3.0;\ninclude "stdgates.inc";\n'
                         "gate myrot(theta, phi) a, b { rx(theta) a; cx a, b; rz(phi) b; }\n"
                         "qubit[2] q;\nbit[2] c;\nmyrot(pi, pi/2) q[0], q[1];\nc = measure q;\n", {"11": 100}),
    # Its own h and cx, no include: a Bell pair written with U, so only 00 and 11.
    "own_standard_gates": ("OPENQASM 3.0;\ngate h a { U(pi/2, 0, pi) a; }\ngate cx a, b { ctrl @ U(pi, 0, pi) a, b; }\n"
                           "qubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n", None),
    # A register named s, no include: X on q1 is 10.
    "register_named_s": ("OPENQASM 3.0;\nqubit[2] q;\nbit[2] s;\nU(pi, 0, pi) q[1];\ns = measure q;\n", {"10": 100}),
    # A box only scopes its body for a compiler: Aer's transpiler refused it, pennylane-qiskit raised
    # AttributeError, and the summary took it for classical control (BasicSimulator refused it).
    # Braket's built-in names (cnot), no include, and a comment line before the header: core adds
    # the include after the header, which it did not find behind the comment ('h' is not defined).
    "comment_before_header_no_include": ("// written for Braket\nOPENQASM 3.0;\nqubit[2] q;\nbit[2] c;\nx q[0];\n"
                                         "cnot q[0], q[1];\nc = measure q;\n", {"11": 100}),
    # A block comment before the header (valid OpenQASM 3) was "not OpenQASM" to QTAU.
    "block_comment_before_header": ("/* Bell pair.\n   SPDX-License-Identifier: MIT */\nOPENQASM 3.0;\nqubit[2] q;\n"
                                    "bit[2] c;\nx q[1];\ncnot q[1], q[0];\nc = measure q;\n", {"11": 100}),
    "box": ('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nbox {\n  x q[0];\n  box { x q[1]; }\n}\n'
            "x q[1];\nc = measure q;\n", {"01": 100}),
}
RESOURCES = ("qiskit:aer_simulator", "qiskit:basic_simulator", "pennylane:default.qubit", "ibmq:qasm_simulator")


@pytest.fixture(scope="module")
def pcs():
    service = local_service(("qiskit", "pennylane", "ibmq"), ("qiskit_local", "pennylane_default", "ibmq_qasm_simulator"))
    yield service
    service.close()


@pytest.mark.parametrize("rid", RESOURCES)
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_hand_written_openqasm3_reads_as_written(pcs, name, rid):
    text, expected = PROGRAMS[name]
    counts = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=text, shots=100, resource=rid)),
                            timeout=120).get_counts()
    if expected is None:  # the file's own Bell pair
        assert set(counts) <= {"00", "11"} and sum(counts.values()) == 100
    else:
        assert counts == expected
