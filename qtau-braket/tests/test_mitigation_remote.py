"""Mitigation on a remote resource (issue 27 item 4): a mitigated task's circuits go to the
provider as one batch of the executor's `submit`, the job reference carries the recipe (plain
JSON, so recovery can re-attach it), and the counts come back corrected. Against the Braket stub
(real HTTP, programs run on Braket's local simulator); the qiskit plugin converts OpenQASM 2."""

from __future__ import annotations

import json

import pytest
from qtau.mitigation import report
from qtau.plugins import PluginHost
from qtau.service import PilotComputeService
from qtau.types import QuantumTask

X0 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[0];\nh q[1];\nh q[1];\nmeasure q -> c;\n'


@pytest.fixture(scope="module")
def both() -> PluginHost:
    pytest.importorskip("qiskit")
    found = PluginHost(strict=True)
    found.register_module("braket", "qtau_braket.plugin")
    found.register_module("qiskit", "qtau_qiskit.plugin")
    return found


def test_a_zne_task_is_one_provider_batch_and_comes_back_corrected(both, fresh_stub):
    pcs = PilotComputeService(execution_engine="local", plugins=both)
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_sv1"}, **fresh_stub.config()})
        before = sum(call.startswith("POST quantum-task") for call in fresh_stub.calls)
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=X0, shots=200, mitigation="zne")),
                                timeout=120)
        created = sum(call.startswith("POST quantum-task") for call in fresh_stub.calls) - before
    finally:
        pcs.close()
    assert created == 3  # scales 1, 3 and 5, created by one submit of the executor
    found = report(result)
    assert found["technique"] == "zne" and found["overhead"]["circuits"] == 3
    assert result.get_counts() == {"01": 200}  # noiseless: every scale reads 01
    assert found["quasi_probabilities"] == pytest.approx({"01": 1.0})
    job = result.attempts[-1].job
    assert "qtau_mitigation" in job  # the journalled reference carries the recipe


def test_readout_tasks_of_one_provider_batch_run_one_calibration(both, fresh_stub):
    """Two readout-mitigated tasks of one width, sent as one batch: the calibration's two circuits
    are created once, and the reference (plain JSON, as the journal keeps it) tells the second task
    to read the first's."""
    pcs = PilotComputeService(execution_engine="local", plugins=both, batch_chunks=1)
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_sv1"}, **fresh_stub.config()})
        before = sum(call.startswith("POST quantum-task") for call in fresh_stub.calls)
        tasks = [QuantumTask(circuit=X0, shots=100, mitigation="readout") for _ in range(2)]
        results = pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=120)
        created = sum(call.startswith("POST quantum-task") for call in fresh_stub.calls) - before
    finally:
        pcs.close()
    assert created == 2 + 2  # each task's circuit, one calibration's two circuits
    assert [report(r)["calibration"] for r in results] == ["fresh", "shared"]
    # Charged for what each created: SV1 bills per circuit, the first task's three, the second's one.
    assert results[0].cost > 0 and results[1].cost == pytest.approx(results[0].cost / 3)
    assert [report(r)["quasi_probabilities"] for r in results] == [pytest.approx({"01": 1.0})] * 2
    job = results[1].attempts[-1].job
    assert json.loads(json.dumps(job)) == job and job == results[0].attempts[-1].job
