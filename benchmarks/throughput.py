"""Throughput, round-trip and start-up of QTAU against plain Ray and plain Aer, measured in one run.

    python benchmarks/throughput.py [--tasks 1000] [--shots 1000]

Baselines, on the same machine and the same Ray:
- plain Ray: one `@ray.remote` task per circuit, each running Aer (the simulator made once per worker);
- batched Aer: one `AerSimulator.run` call with every circuit.
QTAU is measured one task at a time (`submit_quantum_task` in a loop) and as a batch
(`submit_quantum_tasks`), on the LOCAL and RAY engines. Ratios > 1 mean QTAU is faster.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("RAY_TMPDIR", tempfile.mkdtemp(prefix="qtau-bench-ray-"))
os.environ.pop("RAY_ADDRESS", None)

QISKIT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}}


def bell():
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def host():
    from qtau.plugins import PluginHost

    h = PluginHost(strict=True)
    h.register_module("qiskit", "qtau_qiskit.plugin")
    return h


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def import_time() -> float:
    code = "import time; t = time.perf_counter(); import qtau; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(5)]
    return statistics.median(runs)


def plain_batched_aer(circuits, shots) -> float:
    from qiskit_aer import AerSimulator

    sim = AerSimulator()
    sim.run(circuits[:10], shots=shots).result()  # warm-up
    t = time.perf_counter()
    result = sim.run(circuits, shots=shots).result()
    elapsed = time.perf_counter() - t
    assert len(result.results) == len(circuits)
    return elapsed


_SIM = None


def _aer_counts(qc, shots):
    global _SIM
    if _SIM is None:
        from qiskit_aer import AerSimulator

        _SIM = AerSimulator()
    return _SIM.run(qc, shots=shots).result().get_counts()


def _noop():
    return None


def plain_ray(circuits, shots) -> tuple[float, float, float]:
    import ray

    noop = ray.remote(_noop)
    ray.get([noop.remote() for _ in range(20)])
    noop_trips = []
    for _ in range(200):
        s = time.perf_counter()
        ray.get(noop.remote())
        noop_trips.append(time.perf_counter() - s)
    remote = ray.remote(_aer_counts)
    ray.get([remote.remote(qc, shots) for qc in circuits[:50]])  # warm workers
    t = time.perf_counter()
    ray.get([remote.remote(qc, shots) for qc in circuits])
    elapsed = time.perf_counter() - t
    trips = []
    for _ in range(100):
        s = time.perf_counter()
        ray.get(remote.remote(circuits[0], shots))
        trips.append(time.perf_counter() - s)
    return elapsed, statistics.median(trips), statistics.median(noop_trips)


def qtau_runs(pcs, circuits, shots) -> dict[str, float]:
    from qtau import QuantumTask

    warm = [pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=shots)) for qc in circuits[:50]]
    pcs.get_results(warm)
    t = time.perf_counter()
    refs = [pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=shots)) for qc in circuits]
    results = pcs.get_results(refs)
    one_by_one = time.perf_counter() - t
    assert len(results) == len(circuits) and all(sum(r.counts.values()) == shots for r in results)
    t = time.perf_counter()
    results = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=qc, shots=shots) for qc in circuits]))
    batch = time.perf_counter() - t
    assert all(sum(r.counts.values()) == shots for r in results)
    trips = []
    for _ in range(100):
        s = time.perf_counter()
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=circuits[0], shots=shots)))
        trips.append(time.perf_counter() - s)
    return {"one_by_one": one_by_one, "batch": batch, "round_trip": statistics.median(trips)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    n, shots = args.tasks, args.shots
    print(f"QTAU throughput benchmark: {n} Bell circuits x {shots} shots, {os.cpu_count()} CPUs\n")
    print(f"import qtau: {import_time() * 1000:.1f} ms (median of 5 fresh interpreters)")

    from qtau import ExecutionEngine, PilotComputeService

    circuits = [bell() for _ in range(n)]
    plugins = host()

    t = time.perf_counter()
    local = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    local.create_pilot(QISKIT)
    local_start = time.perf_counter() - t
    print(f"service + pilot ready, LOCAL: {local_start * 1000:.1f} ms")

    aer_batch = plain_batched_aer(circuits, shots)
    aer_rate = rate(n, aer_batch)
    print(f"\nplain batched Aer (one run call): {aer_rate:8.0f} circuits/s")
    local_runs = qtau_runs(local, circuits, shots)
    local.close()

    rows = [("QTAU LOCAL, one by one", rate(n, local_runs["one_by_one"])),
            ("QTAU LOCAL, batch", rate(n, local_runs["batch"]))]
    if not args.skip_ray:
        import ray

        t = time.perf_counter()
        pcs = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=plugins)
        pcs.create_pilot(QISKIT)
        ray_start = time.perf_counter() - t
        print(f"service + pilot ready, RAY (includes ray.init): {ray_start:.2f} s")
        plain_elapsed, plain_trip, noop_trip = plain_ray(circuits, shots)
        plain_rate = rate(n, plain_elapsed)
        print(f"plain Ray, one task per circuit: {plain_rate:8.0f} circuits/s")
        ray_runs = qtau_runs(pcs, circuits, shots)
        rows += [("QTAU RAY, one by one", rate(n, ray_runs["one_by_one"])),
                 ("QTAU RAY, batch", rate(n, ray_runs["batch"]))]
        pcs.close()
        if ray.is_initialized():
            ray.shutdown()

    print(f"\n{'mode':28} {'circuits/s':>10} {'vs batched Aer':>15} {'vs plain Ray':>13}")
    for name, r in rows:
        vs_ray = f"{r / plain_rate:13.2f}" if not args.skip_ray else f"{'-':>13}"
        print(f"{name:28} {r:10.0f} {r / aer_rate:15.2f} {vs_ray}")
    print(f"\nwarm single-task round-trip, LOCAL: {local_runs['round_trip'] * 1000:.2f} ms")
    if not args.skip_ray:
        print(f"warm single-task round-trip, RAY:   {ray_runs['round_trip'] * 1000:.2f} ms "
              f"(plain Ray task running the same Aer circuit: {plain_trip * 1000:.2f} ms, "
              f"ratio {ray_runs['round_trip'] / plain_trip:.2f})")
        print(f"plain Ray no-op task round-trip:    {noop_trip * 1000:.2f} ms")


if __name__ == "__main__":
    main()
