"""Aer runs a batch's circuits on every core unless the pilot says otherwise (real Aer, no mocks)."""

from qiskit import QuantumCircuit
from qtau.plugins import PluginHost
from qtau.service import PilotComputeService
from qtau.types import QuantumTask
from qtau_qiskit.settings import resources
from qtau_qiskit.simulators import create_executor


def aer_resource():
    """The Aer resource the plugin itself offers."""
    return next(r for r in resources({"backend": "aer_simulator"}) if r.metadata["backend"] == "aer_simulator")


def rotated(i: int) -> QuantumCircuit:
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.rx(0.1 * i, 1)
    qc.cx(0, 2)
    qc.measure(range(3), range(3))
    return qc


def test_aer_runs_experiments_in_parallel_by_default():
    executor = create_executor(aer_resource(), {})
    assert executor.backend.options.max_parallel_experiments == 0


def test_the_pilots_own_max_parallel_experiments_is_kept():
    executor = create_executor(aer_resource(), {"backend_options": {"max_parallel_experiments": 1}})
    assert executor.backend.options.max_parallel_experiments == 1


def test_a_gpu_pilot_keeps_aers_one_experiment_at_a_time():
    executor = create_executor(aer_resource(), {"backend_options": {"device": "GPU"}})
    assert executor.backend.options.max_parallel_experiments == 1


def test_a_seeded_batch_gives_the_same_counts_as_one_experiment_at_a_time():
    """Parallel experiments change how fast a batch runs, never what a seeded batch returns."""
    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    counts = {}
    for parallel in (None, 1):
        options = {} if parallel is None else {"backend_options": {"max_parallel_experiments": parallel}}
        quantum = {"executor": "qiskit_local", "backend": "aer_simulator", "seed_simulator": 11, **options}
        with PilotComputeService(plugins=host, batch_chunks=1) as pcs:
            pcs.create_pilot({"resource_type": "quantum", "quantum": quantum})
            tasks = [QuantumTask(circuit=rotated(i), shots=300) for i in range(12)]
            counts[parallel] = [r.counts for r in pcs.get_results(pcs.submit_quantum_tasks(tasks), timeout=60)]
    assert counts[None] == counts[1]
    assert len({tuple(sorted(c.items())) for c in counts[None]}) > 1
