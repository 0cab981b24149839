"""Throughput on 1, 2 and 4 Ray nodes with node-bound tasks, coalescing on and off, journal on
(as users run QTAU: with a working_directory) and off, measured in one run.

    python benchmarks/cluster.py [--tasks 40] [--sleep-ms 100] [--rounds 3] [--nodes 1,2,4]

A `ray.cluster_utils.Cluster` (real raylets on this machine) starts with a head of no CPUs, so
every task runs on one-CPU worker nodes; QTAU joins it at its address. Each task is a circuit
function that sleeps `--sleep-ms` on its node and returns a Bell circuit (100 shots on Aer), so a
node runs one task at a time. For each node count and setting the best of `--rounds` runs is kept;
ratios are against one node with the same setting. The goal is >= 1.8x on two nodes, coalescing
on: coalesced batches are split over the nodes in proportion to their free CPUs.
"""

from __future__ import annotations

import argparse
import os
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


SETTINGS = (("coalescing on, journal on", True, True), ("coalescing on, journal off", True, False),
            ("coalescing off, journal on", False, True), ("coalescing off, journal off", False, False))


def services(host, address: str):
    """One service per setting, all joined to the cluster (journal: a working_directory)."""
    from qtau import PilotComputeService

    out = {}
    for name, coalesce, journal in SETTINGS:
        workdir = tempfile.mkdtemp(prefix="qtau-bench-cluster-wd-") if journal else None
        pcs = PilotComputeService(execution_engine="ray", plugins=host, ray_address=address,
                                  working_directory=workdir, coalesce=coalesce)
        pcs.create_pilot(QISKIT)
        out[name] = pcs
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--sleep-ms", type=float, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--nodes", default="1,2,4")
    args = parser.parse_args()
    sleep_s = args.sleep_ms / 1000
    counts = sorted({int(n) for n in args.nodes.split(",")})

    import ray
    from qtau.plugins import PluginHost
    from ray.cluster_utils import Cluster

    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    nodes = []
    best: dict[tuple[str, int], float] = {}
    try:
        nodes.append(cluster.add_node(num_cpus=1))
        cluster.wait_for_nodes()
        pcs_by = services(host, cluster.address)
        print(f"QTAU cluster benchmark: {args.tasks} tasks x {args.sleep_ms:g} ms node-bound, head with no CPU, "
              f"one CPU per worker node, {os.cpu_count()} CPUs on this machine (best of {args.rounds})\n")
        for count in counts:
            while len(nodes) < count:
                nodes.append(cluster.add_node(num_cpus=1))
            cluster.wait_for_nodes()
            for pcs in pcs_by.values():
                wait_for_nodes(pcs, count + 1)  # the head passes the check too (no CPU: no task)
            for node in nodes:
                warm_up(next(iter(pcs_by.values())), node.node_id)
            for name, pcs in pcs_by.items():
                run_round(pcs, min(args.tasks, 8), sleep_s)  # this service's actors and workers
                times = [run_round(pcs, args.tasks, sleep_s) for _ in range(args.rounds)]
                best[name, count] = min(times)
                print(f"{count} node(s), {name:28s} {min(times):6.2f} s  {args.tasks / min(times):6.1f} tasks/s",
                      flush=True)
        print(f"\n| setting | {' | '.join(f'{c} node(s)' for c in counts)} |")
        print(f"| --- | {' | '.join('---' for _ in counts)} |")
        for name, _, _ in SETTINGS:
            cells = [f"{best[name, c]:.2f} s ({best[name, counts[0]] / best[name, c]:.2f}x)" for c in counts]
            print(f"| {name} | {' | '.join(cells)} |")
        ideal = args.tasks * sleep_s
        print(f"\nideal on one node: {ideal:.1f} s; goal: two nodes >= 1.8x one node, coalescing on")
        for pcs in reversed(list(pcs_by.values())):  # the first one started Ray: it closes last
            pcs.close()
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    main()
