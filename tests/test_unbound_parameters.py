"""A circuit with free parameters is refused at submission, naming them and how to bind them.

A QuantumTask carries no parameter values, so such a circuit can run nowhere; it used to be tried
on every resource, each failing its own way (Aer: "parameter_binds is not specified",
BasicSimulator: "not numeric", Braket: "Missing input variable", PennyLane through Qiskit:
"Missing required argument"), and ended in an ExecutionError listing them. Real SDKs throughout.
"""

from __future__ import annotations

import pytest
from qtau import QuantumTask
from qtau.errors import InvalidTaskError
from qtau_test_services import local_service

pytest.importorskip("qtau_qiskit")
pytest.importorskip("qtau_braket")

INPUT = ('OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float theta;\nqubit[1] q;\nbit[1] c;\n'
         "rx(theta) q[0];\nc[0] = measure q[0];\n")


def _qiskit():
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    qc = QuantumCircuit(1, 1)
    qc.rx(Parameter("theta"), 0)
    qc.measure(0, 0)
    return qc


def _braket():
    from braket.circuits import Circuit, FreeParameter

    return Circuit().rx(0, FreeParameter("theta"))


@pytest.fixture(scope="module")
def pcs():
    service = local_service(("qiskit", "braket"), ("qiskit_local", "braket_local"))
    yield service
    service.close()


@pytest.mark.parametrize("make, fix", [(_qiskit, "assign_parameters"), (_braket, "make_bound_circuit"),
                                       (lambda: INPUT, "assign_parameters")], ids=["qiskit", "braket", "openqasm3_input"])
def test_free_parameters_are_refused_at_submission_naming_them(pcs, make, fix):
    with pytest.raises(InvalidTaskError) as caught:
        pcs.submit_quantum_task(QuantumTask(circuit=make(), shots=10))
    assert caught.value.field == "circuit" and caught.value.value == "theta" and fix in caught.value.fix


def test_bound_circuits_run(pcs):
    bound_braket = _braket().make_bound_circuit({"theta": 3.141592653589793})
    bound_text = INPUT.replace("input float theta;\n", "").replace("rx(theta)", "rx(pi)")
    for circuit in (bound_braket, bound_text):
        assert pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=circuit, shots=20)), timeout=120).get_counts() == {"1": 20}
    qc = _qiskit()
    bound_qiskit = qc.assign_parameters({qc.parameters[0]: 3.141592653589793})
    assert pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bound_qiskit, shots=20)), timeout=120).get_counts() == {"1": 20}
