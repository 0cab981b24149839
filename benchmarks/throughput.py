"""Throughput, round-trip and start-up of QTAU against plain Aer and plain Ray, measured in one run.

    python benchmarks/throughput.py [--tasks 300] [--shots 1000] [--rounds 3] [--skip-ray]

Baselines, on the same machine (and, for the RAY rows, with the same Ray up):
- Aer, one `AerSimulator.run` call with every circuit, twice: Aer's default (one experiment at a
  time) and on all cores (`max_parallel_experiments=0`), the best plain Aer does here and the limit
  every QTAU row's first ratio is taken against. Aer is imported as QTAU imports it (its OpenMP
  threads sleep between parallel regions, see `qtau_qiskit.aer`); the all-cores batch also runs in a
  fresh process with Aer's default spinning threads, and the limit is the faster of the two;
- plain Ray: one `@ray.remote` task per circuit, each running Aer (the simulator made once per worker).
QTAU runs as users run it: a `working_directory` (so the journal is on) and default coalescing
(tasks submitted while the engine is saturated go out as backend batches), with the no-journal
figure beside it and, one by one, the figure without journal or coalescing. Each path runs one task
at a time (`submit_quantum_task` in a loop) and as a batch (`submit_quantum_tasks`), on LOCAL and
RAY. Every measurement of an engine alternates with the others in each round, so a noisy neighbour
slows all alike; medians are reported and every ratio comes from the same run. Ratios > 1 mean QTAU
is faster. The warm single-task round trip is measured the same way.

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


def plain_batched_aer(circuits, shots, all_cores: bool = False) -> float:
    """One `AerSimulator.run` call with every circuit: Aer's default runs one experiment at a time;
    `all_cores` runs experiments in parallel on every core (`max_parallel_experiments=0`), the best
    plain Aer does on this machine and the limit QTAU is measured against. Aer is imported as QTAU
    imports it (`qtau_qiskit.aer`: its OpenMP threads sleep between parallel regions); the same
    batch with Aer's default spinning threads, in a fresh process, is `spinning_aer_all_cores`."""
    from qtau_qiskit.aer import AerSimulator

    sim = AerSimulator(max_parallel_experiments=0) if all_cores else AerSimulator()
    sim.run(circuits[:10], shots=shots).result()  # warm-up
    t = time.perf_counter()
    result = sim.run(circuits, shots=shots).result()
    elapsed = time.perf_counter() - t
    assert len(result.results) == len(circuits)
    return elapsed


_SPINNING_AER = """
import sys, time
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
n, shots = int(sys.argv[1]), int(sys.argv[2])
qc = QuantumCircuit(2, 2)
qc.h(0)
qc.cx(0, 1)
qc.measure([0, 1], [0, 1])
sim = AerSimulator(max_parallel_experiments=0)
sim.run([qc] * 10, shots=shots).result()
t = time.perf_counter()
assert len(sim.run([qc] * n, shots=shots).result().results) == n
print(time.perf_counter() - t)
"""


def spinning_aer_all_cores(n: int, shots: int) -> float:
    """`plain_batched_aer(all_cores=True)` in a fresh process that imports Aer directly, so its
    OpenMP threads spin between parallel regions (libgomp's default): the baseline is the faster of
    the two, whichever way Aer is best on this machine."""
    out = subprocess.run([sys.executable, "-c", _SPINNING_AER, str(n), str(shots)], capture_output=True,
                         text=True, check=True, env={k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"})
    return float(out.stdout.strip().splitlines()[-1])


def gil_share_beside_aer(circuits, shots) -> float:
    """How fast a pure-Python thread runs while an Aer batch runs, as a share of its rate while the
    main thread sleeps. Aer keeps Python's GIL through its run, so this share is near 0: in one
    process, QTAU's Python work per task (placing, journaling, building Results) cannot overlap
    Aer's and adds to the wall time; only work in other processes (Ray workers) can."""
    from qtau_qiskit.aer import AerSimulator

    sim = AerSimulator(max_parallel_experiments=0)

    def rate_beside(job) -> float:
        stop, counted = threading.Event(), []

        def count():
            n = 0
            while not stop.is_set():
                n += 1
            counted.append(n)

        thread = threading.Thread(target=count)
        thread.start()
        t = time.perf_counter()
        job()
        elapsed = time.perf_counter() - t
        stop.set()
        thread.join()
        return counted[0] / elapsed

    sim.run(circuits[:10], shots=shots).result()
    beside_aer = rate_beside(lambda: sim.run(circuits, shots=shots).result())
    free = rate_beside(lambda: time.sleep(0.5))
    return beside_aer / free


_SIM = None


def _aer_counts(qc, shots):
    global _SIM
    if _SIM is None:
        from qtau_qiskit.aer import AerSimulator

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


def services(engine, plugins, tmp: str) -> dict:
    """The services measured on one engine: as users run QTAU (a working directory, so the journal is
    on; default coalescing), the same without the journal, and without journal or coalescing."""
    from qtau import PilotComputeService

    made = {"journal": PilotComputeService(execution_engine=engine, plugins=plugins,
                                           working_directory=tempfile.mkdtemp(dir=tmp)),
            "plain": PilotComputeService(execution_engine=engine, plugins=plugins),
            "nocoal": PilotComputeService(execution_engine=engine, plugins=plugins, coalesce=False)}
    for pcs in made.values():
        pcs.create_pilot(QISKIT)
    return made


def engine_rows(name: str, made: dict, circuits, shots: int, rounds: int, extra: dict) -> tuple[dict, list]:
    """One engine's rows, each measured in alternating rounds beside both Aer baselines."""
    n = len(circuits)
    for pcs in made.values():
        qtau_one_by_one(pcs, circuits[:50], shots)  # warm-up
        qtau_batch(pcs, circuits[:50], shots)
    fns = {"aer": lambda: plain_batched_aer(circuits, shots),
           "aer_all": lambda: plain_batched_aer(circuits, shots, all_cores=True),
           "aer_spin": lambda: spinning_aer_all_cores(n, shots),
           "one_j": lambda: qtau_one_by_one(made["journal"], circuits, shots),
           "one": lambda: qtau_one_by_one(made["plain"], circuits, shots),
           "one_nc": lambda: qtau_one_by_one(made["nocoal"], circuits, shots),
           "batch_j": lambda: qtau_batch(made["journal"], circuits, shots),
           "batch": lambda: qtau_batch(made["plain"], circuits, shots),
           **extra}
    runs = alternate(fns, rounds)
    rates = {key: rate(n, seconds) for key, seconds in runs.items()}
    rates["aer_sleeping"] = rates["aer_all"]
    rates["aer_all"] = max(rates["aer_all"], rates["aer_spin"])
    rows = [(f"QTAU {name}, one by one, journal", rates["one_j"]),
            (f"QTAU {name}, one by one, no journal", rates["one"]),
            ("  same, coalesce=False", rates["one_nc"]),
            (f"QTAU {name}, batch, journal", rates["batch_j"]),
            (f"QTAU {name}, batch, no journal", rates["batch"])]
    return rates, rows


def print_rows(title: str, rates: dict, rows: list, plain_ray: float | None = None) -> None:
    """The rows with their ratios to Aer on all cores (the limit here), to Aer's default, and to
    plain Ray where measured; every ratio is from the same alternating run."""
    print(f"\n{title}")
    print(f"  {'Aer, one run call, default (one experiment at a time)':58} {rates['aer']:8.0f} circuits/s")
    print(f"  {'Aer, one run call, all cores (max_parallel_experiments=0):':58}")
    print(f"  {'  OpenMP threads sleeping (imported as QTAU imports it)':58} {rates['aer_sleeping']:8.0f} circuits/s")
    print(f"  {'  OpenMP threads spinning (Aer default, fresh process)':58} {rates['aer_spin']:8.0f} circuits/s")
    print(f"  {'  the limit here: the faster of the two':58} {rates['aer_all']:8.0f} circuits/s")
    if plain_ray:
        print(f"  {'plain Ray, one @ray.remote Aer task per circuit':58} {plain_ray:8.0f} circuits/s")
    head = f"  {'path':38} {'circuits/s':>10} {'vs Aer all cores':>17} {'vs Aer default':>15}"
    print(head + (f" {'vs plain Ray':>13}" if plain_ray else ""))
    for label, r in rows:
        line = f"  {label:38} {r:10.0f} {r / rates['aer_all']:17.2f} {r / rates['aer']:15.2f}"
        print(line + (f" {r / plain_ray:13.2f}" if plain_ray else ""))
    print(f"  journal cost: one by one {1 - rates['one_j'] / rates['one']:+.0%}, "
          f"batch {1 - rates['batch_j'] / rates['batch']:+.0%} (of the no-journal rate)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=300, help="circuits per measurement")
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--scale", default=None,
                        help="task counts of the scaling rows (comma-separated; default: none, or "
                             "1000,10000,100000 with --only-scale)")
    parser.add_argument("--window", type=int, default=2000, help="most tasks in flight in the scaling rows")
    parser.add_argument("--in-flight", type=int, default=30000,
                        help="tasks in flight at once in the last scaling row (0 to skip)")
    parser.add_argument("--only-scale", action="store_true", help="run the scaling rows only")
    parser.add_argument("--engines", default="local,ray", help="engines of --only-scale (comma-separated)")
    args = parser.parse_args()
    default_scale = "1000,10000,100000" if args.only_scale else ""
    scale = [int(x) for x in (args.scale if args.scale is not None else default_scale).split(",") if x.strip()]
    if args.only_scale:
        return scale_only(args, scale)
    n, shots = args.tasks, args.shots
    print(f"QTAU throughput benchmark: {n} Bell circuits x {shots} shots, {os.cpu_count()} CPUs, "
          f"medians of {args.rounds} alternating rounds\n")
    print(f"import qtau: {import_time() * 1000:.1f} ms (median of 5 fresh interpreters)")

    from qtau import ExecutionEngine, PilotComputeService

    circuits = [bell() for _ in range(n)]
    plugins = host()
    tmp = tempfile.mkdtemp(prefix="qtau-bench-")

    t = time.perf_counter()
    first = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    first.create_pilot(QISKIT)
    print(f"service + pilot ready, LOCAL: {(time.perf_counter() - t) * 1000:.1f} ms")
    first.close()
    print(f"a Python thread beside an Aer batch runs at {gil_share_beside_aer(circuits, shots):.0%} of its "
          "rate beside a sleeping thread (Aer keeps the GIL while it runs)")
    local = services(ExecutionEngine.LOCAL, plugins, tmp)
    local_rates, local_rows = engine_rows("LOCAL", local, circuits, shots, args.rounds, {})
    local_batches = batch_sizes(local["plain"])
    local_trips = alternate({"on": lambda: qtau_round_trip(local["plain"], circuits[0], shots),
                             "off": lambda: qtau_round_trip(local["nocoal"], circuits[0], shots),
                             "journal": lambda: qtau_round_trip(local["journal"], circuits[0], shots)},
                            args.rounds)
    scaled = scaling_rows(local["journal"], "LOCAL", scale, args.in_flight, args.window) if scale else []
    for pcs in local.values():
        pcs.close()
    print_rows("LOCAL engine", local_rates, local_rows)
    if not args.skip_ray:
        import ray

        t = time.perf_counter()
        first = PilotComputeService(execution_engine=ExecutionEngine.RAY, plugins=plugins)
        first.create_pilot(QISKIT)
        print(f"\nservice + pilot ready, RAY (includes ray.init): {time.perf_counter() - t:.2f} s")
        ray_services = services(ExecutionEngine.RAY, plugins, tmp)
        noop = ray.remote(_noop)
        aer = ray.remote(_aer_counts)
        ray.get([aer.remote(qc, shots) for qc in circuits[:50]])
        ray_rates, ray_rows = engine_rows("RAY", ray_services, circuits, shots, args.rounds,
                                          {"plain": lambda: plain_ray_round(aer, circuits, shots)})
        ray_batches = batch_sizes(ray_services["plain"])
        plain_trip = round_trips(lambda: ray.get(aer.remote(circuits[0], shots)))
        ray_trips = alternate({"on": lambda: qtau_round_trip(ray_services["plain"], circuits[0], shots),
                               "off": lambda: qtau_round_trip(ray_services["nocoal"], circuits[0], shots)},
                              args.rounds)
        noop_trip = round_trips(lambda: ray.get(noop.remote()), 200)
        scaled += scaling_rows(ray_services["journal"], "RAY", scale, args.in_flight, args.window) if scale else []
        for pcs in (first, *ray_services.values()):
            pcs.close()
        if ray.is_initialized():
            ray.shutdown()
        print_rows("RAY engine (Aer measured with Ray up)", ray_rates, ray_rows, ray_rates["plain"])
    print(f"\ncoalesced batches, LOCAL one by one, no journal: {local_batches}")
    if not args.skip_ray:
        print(f"coalesced batches, RAY one by one, no journal:   {ray_batches}")
    print(f"\nwarm single-task round-trip, LOCAL: {local_trips['on'] * 1000:.2f} ms "
          f"(coalesce=False: {local_trips['off'] * 1000:.2f} ms; journal: {local_trips['journal'] * 1000:.2f} ms)")
    if not args.skip_ray:
        print(f"warm single-task round-trip, RAY:   {ray_trips['on'] * 1000:.2f} ms "
              f"(coalesce=False: {ray_trips['off'] * 1000:.2f} ms; "
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
