"""Throughput on two Ray nodes against one, with node-bound tasks, measured in one run.

    python benchmarks/cluster.py [--tasks 120] [--sleep-ms 50] [--rounds 3]

A `ray.cluster_utils.Cluster` (real raylets on this machine) starts with one node of one CPU; QTAU
joins it at its address. Each task is a circuit function that sleeps `--sleep-ms` on the node and
returns a Bell circuit (100 shots on Aer), so a node runs one task at a time. Rounds alternate: one
node, then a second one-CPU node added, then removed again, and so on; the medians are compared.
The goal is >= 1.8x on two nodes: QTAU spreads tasks over the nodes that pass its plugin check.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("RAY_TMPDIR", tempfile.mkdtemp(prefix="qtau-bench-cluster-"))
os.environ.pop("RAY_ADDRESS", None)
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

QISKIT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}}


def node_bound_bell(sleep_s: float):
    """A circuit function that holds its node for `sleep_s`, recording nothing but time."""

    def bell_after_sleep():
        import time

        from qiskit import QuantumCircuit

        time.sleep(sleep_s)
        qc = QuantumCircuit(2, 2)
        qc.h(0)
        qc.cx(0, 1)
        qc.measure([0, 1], [0, 1])
        return qc

    return bell_after_sleep


def node_recording_bell(record_dir: str):
    """A circuit function that writes the id of the node it runs on into `record_dir`."""

    def bell_here():
        import uuid

        import ray
        from qiskit import QuantumCircuit

        with open(os.path.join(record_dir, uuid.uuid4().hex), "w") as out:
            out.write(ray.get_runtime_context().get_node_id())
        qc = QuantumCircuit(2, 2)
        qc.h(0)
        qc.cx(0, 1)
        qc.measure([0, 1], [0, 1])
        return qc

    return bell_here


def warm_up(pcs, node_id: str, timeout: float = 180) -> None:
    """Run short tasks until one ran on `node_id`: its worker process is started and has imported
    QTAU and the SDKs, so the measured rounds do not pay for a cold node."""
    from qtau import QuantumTask

    record = tempfile.mkdtemp(prefix="qtau-bench-nodes-")
    fn = node_recording_bell(record)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pcs.get_results([pcs.submit_quantum_task(QuantumTask(circuit=fn, num_qubits=2, shots=10)) for _ in range(8)])
        if any(open(os.path.join(record, f)).read() == node_id for f in os.listdir(record)):
            return
    raise RuntimeError(f"no task reached node {node_id} within {timeout} s")


def run_round(pcs, n: int, sleep_s: float) -> float:
    from qtau import QuantumTask

    fn = node_bound_bell(sleep_s)
    t = time.perf_counter()
    refs = [pcs.submit_quantum_task(QuantumTask(circuit=fn, num_qubits=2, shots=100)) for _ in range(n)]
    results = pcs.get_results(refs)
    elapsed = time.perf_counter() - t
    assert all(sum(r.counts.values()) == 100 for r in results)
    return elapsed


def wait_for_nodes(pcs, count: int, timeout: float = 120) -> None:
    """Until `count` nodes passed QTAU's plugin check (what submissions trigger every few seconds)."""
    deadline = time.monotonic() + timeout
    while len(pcs.engine.placement.passed) != count and time.monotonic() < deadline:
        pcs.engine.placement.refresh(force=True)
        time.sleep(0.2)
    assert len(pcs.engine.placement.passed) == count, pcs.engine.placement.passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=120)
    parser.add_argument("--sleep-ms", type=float, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sleep_s = args.sleep_ms / 1000

    import ray
    from qtau import PilotComputeService
    from qtau.plugins import PluginHost
    from ray.cluster_utils import Cluster

    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        pcs = PilotComputeService(execution_engine="ray", plugins=host, ray_address=cluster.address)
        pcs.create_pilot(QISKIT)
        print(f"QTAU cluster benchmark: {args.tasks} tasks x {args.sleep_ms:g} ms node-bound, one CPU per node, "
              f"{os.cpu_count()} CPUs on this machine\n")
        run_round(pcs, 20, sleep_s)  # warm-up: worker processes, plugin imports
        one, two = [], []
        for i in range(args.rounds):
            one.append(run_round(pcs, args.tasks, sleep_s))
            second = cluster.add_node(num_cpus=1)
            wait_for_nodes(pcs, 2)
            warm_up(pcs, second.node_id)
            two.append(run_round(pcs, args.tasks, sleep_s))
            cluster.remove_node(second)
            wait_for_nodes(pcs, 1)
            print(f"round {i + 1}: one node {args.tasks / one[-1]:6.1f} tasks/s, two nodes {args.tasks / two[-1]:6.1f} tasks/s",
                  flush=True)
        rate_one, rate_two = args.tasks / statistics.median(one), args.tasks / statistics.median(two)
        ideal = 1 / sleep_s
        print(f"\none node of one CPU:   {rate_one:6.1f} tasks/s (ideal {ideal:.1f})")
        print(f"two nodes of one CPU:  {rate_two:6.1f} tasks/s (ideal {2 * ideal:.1f})")
        print(f"ratio two/one: {rate_two / rate_one:.2f}x (goal >= 1.8x; medians of {args.rounds} rounds)")
        pcs.close()
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    main()
