"""Ray faults cost time, not tasks: a killed worker and a removed node, on real Ray processes.

Only processes these tests started are killed (a worker pid reported by our own task; a node of a
`ray.cluster_utils.Cluster` the test created), never `ray stop` or anything else on the machine.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.errors import QtauError

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.slow]

QISKIT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}}


def slow_x0(pid_file: str, delay: float = 0.2):
    """A circuit function that records its worker's pid, then takes a while (so a kill lands mid-run).
    Self-contained: Ray workers on other nodes cannot import the tests' helper modules."""
    from qiskit import QuantumCircuit

    with open(pid_file, "a") as out:
        out.write(f"{os.getpid()}\n")
    time.sleep(delay)
    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.measure(range(3), range(3))
    return qc


def wait_for_pids(pid_file: str, n: int, timeout: float = 240) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(pid_file):
            pids = [int(line) for line in open(pid_file).read().split()]
            if len(pids) >= n:
                return pids
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} tasks started within {timeout} s")


def start_ray(**options) -> None:
    """ray.init, tried twice: on a loaded machine Ray's own 30 s raylet start-up wait can run out."""
    for attempt in (1, 2):
        try:
            ray.init(include_dashboard=False, logging_level="ERROR", **options)
            return
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise


def test_a_killed_worker_loses_no_task(qiskit_host, tmp_path):
    start_ray(address="local", num_cpus=2)
    try:
        pcs = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=qiskit_host)
        pcs.create_pilot(QISKIT)
        pid_file = str(tmp_path / "pids")
        refs = [pcs.submit_quantum_task(QuantumTask(circuit=slow_x0, args=(pid_file,), num_qubits=3, shots=50))
                for _ in range(30)]
        victim = wait_for_pids(pid_file, 1)[0]
        assert victim != os.getpid()
        os.kill(victim, signal.SIGKILL)  # a worker our own task reported: nothing else is touched
        results = pcs.get_results(refs, timeout=300, return_exceptions=True)
        errors = [r for r in results if not hasattr(r, "counts")]
        assert errors == [], f"tasks lost to a worker crash: {errors[:3]}"
        assert all(r.counts == {"001": 50} for r in results)
        pcs.close()
    finally:
        ray.shutdown()


def test_a_removed_node_loses_no_task(qiskit_host, tmp_path):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    try:
        start_ray(address=cluster.address)
        pcs = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=qiskit_host)
        pcs.create_pilot(QISKIT)
        pid_file = str(tmp_path / "pids")
        refs = [pcs.submit_quantum_task(QuantumTask(circuit=slow_x0, args=(pid_file, 0.3), num_qubits=3, shots=20))
                for _ in range(40)]
        wait_for_pids(pid_file, 4)
        cluster.remove_node(workers[0])
        results = pcs.get_results(refs, timeout=600, return_exceptions=True)
        lost = [r for r in results if not hasattr(r, "counts")]
        assert lost == [], f"{len(lost)} of 40 tasks lost with the node: {lost[:2]}"
        assert all(r.counts == {"001": 20} for r in results)
        pcs.close()
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_ray_errors_never_reach_users_raw(qiskit_host):
    """A task that cannot be retried (its worker dies every time) ends in a QtauError, and
    get_results(return_exceptions=True) returns it instead of raising."""
    start_ray(address="local", num_cpus=1)
    try:
        pcs = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=qiskit_host)
        pcs.create_pilot(QISKIT)

        def dies():
            os._exit(1)  # the worker process exits, as in a segfault

        ref = pcs.submit_quantum_task(QuantumTask(circuit=dies, num_qubits=3))
        [value] = pcs.get_results([ref], timeout=300, return_exceptions=True)
        assert isinstance(value, QtauError) and "worker" in str(value).lower()
        assert not type(value).__module__.startswith("ray")
        pcs.close()
    finally:
        ray.shutdown()
