"""Batches of jobs with different shot counts on real Aer: each job runs its own shots."""

from qiskit import QuantumCircuit
from qtau.plugins import PluginHost
from qtau.service import PilotComputeService
from qtau.types import QuantumTask


def x_on(qubit: int) -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.x(qubit)
    qc.measure([0, 1], [0, 1])
    return qc


def test_a_batch_of_shots_10_to_50_runs_each_job_with_its_own_shots():
    """One Aer call for five tasks of 10, 20, ..., 50 shots (batch_chunks=1): jobs are grouped by
    their own shot counts, never run with the first job's."""
    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    with PilotComputeService(plugins=host, batch_chunks=1) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        tasks = [QuantumTask(circuit=x_on(i % 2), shots=10 * (i + 1)) for i in range(5)]
        results = pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=60)
    assert [r.shots for r in results] == [10, 20, 30, 40, 50]
    assert [r.counts for r in results] == [{"01": 10}, {"10": 20}, {"01": 30}, {"10": 40}, {"01": 50}]
