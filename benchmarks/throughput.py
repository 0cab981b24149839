"""Throughput, round-trip and start-up of QTAU against plain Ray and plain Aer, measured in one run.

    python benchmarks/throughput.py [--tasks 1000] [--shots 1000]

Baselines, on the same machine and the same Ray:
- plain Ray: one `@ray.remote` task per circuit, each running Aer (the simulator made once per worker);
- batched Aer: one `AerSimulator.run` call with every circuit.
QTAU is measured one task at a time (`submit_quantum_task` in a loop) with coalescing on (the
default: tasks submitted while the engine is saturated go out as backend batches) and off
(`PilotComputeService(coalesce=False)`), and as a batch (`submit_quantum_tasks`), on the LOCAL and
RAY engines. The warm single-task round trip is measured with coalescing on and off, alternating,
so a noisy neighbour slows both alike. Ratios > 1 mean QTAU is faster.

Scaling rows (`--scale 1000,10000,100000`, 100 shots): Bell tasks submitted one by one while the
results are collected as they come (at most `--window` tasks in flight, the oldest half collected
and dropped when the window fills), on each engine. Throughput should not fall as the count grows,
and the driver's peak RSS should stay flat: QTAU releases a task's handle and bookkeeping once its
result is collected. `--in-flight 30000` adds a row with that many tasks in flight at once.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import threading
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


def plain_ray_round(remote, circuits, shots) -> float:
    import ray

    t = time.perf_counter()
    ray.get([remote.remote(qc, shots) for qc in circuits])
    return time.perf_counter() - t


def round_trips(fn, n: int = 100) -> float:
    trips = []
    for _ in range(n):
        s = time.perf_counter()
        fn()
        trips.append(time.perf_counter() - s)
    return statistics.median(trips)


def qtau_one_by_one(pcs, circuits, shots) -> float:
    from qtau import QuantumTask

    t = time.perf_counter()
    refs = [pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=shots)) for qc in circuits]
    results = pcs.get_results(refs)
    elapsed = time.perf_counter() - t
    assert len(results) == len(circuits) and all(sum(r.counts.values()) == shots for r in results)
    return elapsed


def qtau_batch(pcs, circuits, shots) -> float:
    from qtau import QuantumTask

    t = time.perf_counter()
    results = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=qc, shots=shots) for qc in circuits]))
    elapsed = time.perf_counter() - t
    assert all(sum(r.counts.values()) == shots for r in results)
    return elapsed


def qtau_round_trip(pcs, circuit, shots) -> float:
    from qtau import QuantumTask

    return round_trips(lambda: pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=circuit, shots=shots))))


class PeakRss:
    """Samples this process's resident memory every 20 ms; `peak` is the highest seen (MB)."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> float:
        return self._proc.memory_info().rss / 2**20

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.now())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())


def qtau_streamed(pcs, circuit, n: int, shots: int, window: int) -> tuple[float, float, float]:
    """n tasks one by one, results collected as they come. (seconds, peak RSS MB, RSS MB after)."""
    from collections import deque

    from qtau import QuantumTask

    gc.collect()
    with PeakRss() as rss:
        t = time.perf_counter()
        in_flight: deque = deque()
        collected = 0
        for _ in range(n):
            in_flight.append(pcs.submit_quantum_task(QuantumTask(circuit=circuit, shots=shots)))
            if len(in_flight) >= window:
                oldest = [in_flight.popleft() for _ in range(window // 2)]
                collected += sum(sum(r.counts.values()) for r in pcs.get_results(oldest))
        collected += sum(sum(r.counts.values()) for r in pcs.get_results(list(in_flight)))
        in_flight.clear()
        elapsed = time.perf_counter() - t
    assert collected == n * shots
    gc.collect()
    return elapsed, rss.peak, rss.now()


def qtau_all_in_flight(pcs, circuit, n: int, shots: int) -> tuple[float, float, float]:
    """n tasks submitted one by one before any result is read. (seconds, peak RSS MB, RSS MB after)."""
    from qtau import QuantumTask

    gc.collect()
    with PeakRss() as rss:
        t = time.perf_counter()
        refs = [pcs.submit_quantum_task(QuantumTask(circuit=circuit, shots=shots)) for _ in range(n)]
        total = sum(sum(r.counts.values()) for r in pcs.get_results(refs))
        elapsed = time.perf_counter() - t
        del refs
    assert total == n * shots
    gc.collect()
    return elapsed, rss.peak, rss.now()


def scaling_rows(pcs, engine: str, counts: list[int], in_flight: int, window: int) -> list[tuple]:
    rows = []
    circuit = bell()
    qtau_streamed(pcs, circuit, min(500, window), 100, window)  # warm-up
    for n in counts:
        seconds, peak, after = qtau_streamed(pcs, circuit, n, 100, window)
        rows.append((engine, f"{n:,} one by one", rate(n, seconds), peak, after))
        print(f"  {rows[-1][0]:5} {rows[-1][1]:>24}: {rows[-1][2]:7.0f} circuits/s, peak RSS {peak:6.0f} MB", flush=True)
    if in_flight:
        seconds, peak, after = qtau_all_in_flight(pcs, circuit, in_flight, 100)
        rows.append((engine, f"{in_flight:,} all in flight", rate(in_flight, seconds), peak, after))
        print(f"  {rows[-1][0]:5} {rows[-1][1]:>24}: {rows[-1][2]:7.0f} circuits/s, peak RSS {peak:6.0f} MB", flush=True)
    return rows


def alternate(fns: dict, rounds: int) -> dict:
    """Median of each measurement over `rounds` rounds, run in turn within each round."""
    runs: dict = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            runs[name].append(fn())
    return {name: statistics.median(values) for name, values in runs.items()}


def batch_sizes(pcs) -> str:
    coalescer = pcs._coalescer
    if coalescer is None:
        return "not used"
    if hasattr(coalescer, "stats"):
        sizes = coalescer.stats()["batches"]
        alone = coalescer.sent_alone
    else:
        sizes, alone = coalescer.batches, coalescer.sent_alone
    if not sizes:
        return f"{alone} tasks sent alone, no batches"
    return (f"{alone} tasks sent alone, {sum(sizes)} in {len(sizes)} batches "
            f"(mean {statistics.mean(sizes):.0f}, max {max(sizes)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="alternating plain-Ray / QTAU rounds")
    parser.add_argument("--scale", default="1000,10000,100000",
                        help="task counts of the scaling rows (comma-separated; empty to skip)")
    parser.add_argument("--window", type=int, default=2000, help="most tasks in flight in the scaling rows")
    parser.add_argument("--in-flight", type=int, default=30000,
                        help="tasks in flight at once in the last scaling row (0 to skip)")
    parser.add_argument("--only-scale", action="store_true", help="run the scaling rows only")
    parser.add_argument("--engines", default="local,ray", help="engines of --only-scale (comma-separated)")
    args = parser.parse_args()
    scale = [int(x) for x in args.scale.split(",") if x.strip()]
    if args.only_scale:
        return scale_only(args, scale)
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

    local_off = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins, coalesce=False)
    local_off.create_pilot(QISKIT)
    qtau_one_by_one(local, circuits[:50], shots)  # warm-up
    qtau_one_by_one(local_off, circuits[:50], shots)
    qtau_batch(local, circuits[:50], shots)
    # Batched Aer and QTAU alternate, so a noisy neighbour slows both alike; medians are reported.
    local_runs = alternate({"aer": lambda: plain_batched_aer(circuits, shots),
                            "batch": lambda: qtau_batch(local, circuits, shots),
                            "on": lambda: qtau_one_by_one(local, circuits, shots),
                            "off": lambda: qtau_one_by_one(local_off, circuits, shots)}, args.rounds)
    aer_rate = rate(n, local_runs["aer"])
    print(f"\nplain batched Aer (one run call): {aer_rate:8.0f} circuits/s (median of {args.rounds} rounds)")
    # Each row: (name, circuits/s, the batched-Aer rate measured beside it).
    rows = [("QTAU LOCAL, one by one", rate(n, local_runs["on"]), aer_rate),
            ("  same, coalesce=False", rate(n, local_runs["off"]), aer_rate),
            ("QTAU LOCAL, batch", rate(n, local_runs["batch"]), aer_rate)]
    local_batches = batch_sizes(local)
    local_trips = alternate({"on": lambda: qtau_round_trip(local, circuits[0], shots),
                             "off": lambda: qtau_round_trip(local_off, circuits[0], shots)}, args.rounds)
    scaled = scaling_rows(local, "LOCAL", scale, args.in_flight, args.window) if scale else []
    local.close()
    local_off.close()
    plain_rate = None
    if not args.skip_ray:
        import ray

        t = time.perf_counter()
        pcs = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=plugins)
        pcs.create_pilot(QISKIT)
        ray_start = time.perf_counter() - t
        pcs_off = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=plugins, coalesce=False)
        pcs_off.create_pilot(QISKIT)
        print(f"service + pilot ready, RAY (includes ray.init): {ray_start:.2f} s")
        noop = ray.remote(_noop)
        aer = ray.remote(_aer_counts)
        ray.get([aer.remote(qc, shots) for qc in circuits[:50]])
        qtau_one_by_one(pcs, circuits[:50], shots)
        qtau_one_by_one(pcs_off, circuits[:50], shots)
        # Plain Ray and QTAU alternate, so a noisy neighbour slows both alike; medians are reported.
        qtau_batch(pcs, circuits[:50], shots)
        ray_runs = alternate({"plain": lambda: plain_ray_round(aer, circuits, shots),
                              "on": lambda: qtau_one_by_one(pcs, circuits, shots),
                              "off": lambda: qtau_one_by_one(pcs_off, circuits, shots),
                              "aer": lambda: plain_batched_aer(circuits, shots),
                              "batch": lambda: qtau_batch(pcs, circuits, shots)}, args.rounds)
        plain_rate = rate(n, ray_runs["plain"])
        print(f"plain Ray, one task per circuit: {plain_rate:8.0f} circuits/s (median of {args.rounds} rounds)")
        ray_aer_rate = rate(n, ray_runs["aer"])
        print(f"plain batched Aer, measured beside RAY: {ray_aer_rate:8.0f} circuits/s")
        rows += [("QTAU RAY, one by one", rate(n, ray_runs["on"]), ray_aer_rate),
                 ("  same, coalesce=False", rate(n, ray_runs["off"]), ray_aer_rate),
                 ("QTAU RAY, batch", rate(n, ray_runs["batch"]), ray_aer_rate)]
        ray_batches = batch_sizes(pcs)
        plain_trip = round_trips(lambda: ray.get(aer.remote(circuits[0], shots)))
        ray_trips = alternate({"on": lambda: qtau_round_trip(pcs, circuits[0], shots),
                               "off": lambda: qtau_round_trip(pcs_off, circuits[0], shots)}, args.rounds)
        noop_trip = round_trips(lambda: ray.get(noop.remote()), 200)
        scaled += scaling_rows(pcs, "RAY", scale, args.in_flight, args.window) if scale else []
        pcs.close()
        pcs_off.close()
        if ray.is_initialized():
            ray.shutdown()

    print(f"\n{'mode':28} {'circuits/s':>10} {'vs batched Aer':>15} {'vs plain Ray':>13}")
    for name, r, aer_base in rows:
        vs_ray = f"{r / plain_rate:13.2f}" if plain_rate else f"{'-':>13}"
        print(f"{name:28} {r:10.0f} {r / aer_base:15.2f} {vs_ray}")
    print(f"\ncoalesced batches, LOCAL one by one: {local_batches}")
    if plain_rate:
        print(f"coalesced batches, RAY one by one:   {ray_batches}")
    print(f"\nwarm single-task round-trip, LOCAL: {local_trips['on'] * 1000:.2f} ms "
          f"(coalesce=False: {local_trips['off'] * 1000:.2f} ms, ratio {local_trips['on'] / local_trips['off']:.2f})")
    if plain_rate:
        print(f"warm single-task round-trip, RAY:   {ray_trips['on'] * 1000:.2f} ms "
              f"(coalesce=False: {ray_trips['off'] * 1000:.2f} ms, ratio {ray_trips['on'] / ray_trips['off']:.2f}; "
              f"plain Ray task running the same Aer circuit: {plain_trip * 1000:.2f} ms, "
              f"ratio {ray_trips['on'] / plain_trip:.2f})")
        print(f"plain Ray no-op task round-trip:    {noop_trip * 1000:.2f} ms")
    print_scaling(scaled)


def print_scaling(rows: list[tuple]) -> None:
    if not rows:
        return
    print(f"\nscaling, Bell x 100 shots, results collected as they come:\n"
          f"{'engine':6} {'tasks':>24} {'circuits/s':>10} {'peak RSS MB':>12} {'RSS after MB':>13}")
    for engine, label, r, peak, after in rows:
        print(f"{engine:6} {label:>24} {r:10.0f} {peak:12.0f} {after:13.0f}")


def scale_only(args, scale: list[int]) -> None:
    from qtau import ExecutionEngine, PilotComputeService

    plugins = host()
    rows = []
    for engine in (ExecutionEngine.LOCAL, ExecutionEngine.RAY):
        if engine.value not in args.engines.split(",") or (engine is ExecutionEngine.RAY and args.skip_ray):
            continue
        pcs = PilotComputeService(execution_engine=engine, plugins=plugins)
        pcs.create_pilot(QISKIT)
        rows += scaling_rows(pcs, engine.name, scale, args.in_flight, args.window)
        pcs.close()
    print_scaling(rows)


if __name__ == "__main__":
    main()
