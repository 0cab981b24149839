"""Growth: tasks/s and driver memory per task in flight from 1k to 100k tasks, journal on.

    python benchmarks/growth.py [--sizes 1000,10000,100000] [--engines local,ray] [--modes batch,one]
                                [--shots 10] [--rounds 3] [--tracemalloc]

QTAU runs as users run it: a `working_directory` (the journal on) and default coalescing. Each task
is a 2-qubit Bell circuit on Aer with `--shots` shots (cheap, so QTAU's own per-task cost shows).
For each engine, mode and size N, a fresh service (fresh journal) submits N tasks, either with one
`submit_quantum_tasks` call ("batch") or `submit_quantum_task` in a loop ("one"), and only then
collects every result: all N are in flight at once. Reported per row: tasks/s from the first
submission to the last result, and the driver's memory per task in flight, i.e. the growth of its
resident set, read from /proc/self/statm (and, with `--tracemalloc`, of Python's traced
allocations, which slows every row alike) between before the submission and once all N are
submitted. Flat tasks/s from 1k to 100k means no per-task cost grows with the number of tasks; the
ratio column is each row against the smallest size of the same engine and mode, measured in the
same run. The load column is the 1-minute load average when the row ended (the machine is shared).

Rows of different sizes run in different services minutes apart, and on this machine two runs of
one row differ by up to 30%; so each row also says, from its own results, whether its tasks went
slower as more of them had been submitted: the completion rate of its last fifth of tasks over that
of its second and third tenths (`late / early`, from the Results' finished_at; the first tenth is
left out as the pool's and the coalescer's start; one by one only: one call's tasks complete in a
few big chunks). A per-task cost that grows with the tasks in
flight or journaled shows there as well, within one run, whatever the machine does between runs.

RAY rows share one local Ray started here before the first of them (each row's service joins it,
as a service joins a Ray already initialised in its process), so no row pays for Ray's start, and
a start that times out on a loaded machine (Ray waits 30 s for its raylet) is tried again.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import tempfile
import time
import tracemalloc

os.environ.setdefault("RAY_TMPDIR", tempfile.mkdtemp(prefix="qtau-bench-growth-"))
os.environ.pop("RAY_ADDRESS", None)
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from throughput import QISKIT, bell, host  # noqa: E402  (the same Bell and plugins as throughput.py)


def rss_bytes() -> int:
    """The driver's resident set now (Linux /proc; 0 where it cannot be read), after glibc hands
    freed memory back (else what an earlier row freed can leave the delta below zero)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def start_ray(tries: int = 3) -> None:
    """One local Ray for every RAY row (the CPUs of this machine)."""
    import ray

    for attempt in range(tries):
        try:
            ray.init(address="local", include_dashboard=False, logging_level="ERROR")
            return
        except Exception as err:  # the raylet did not register within Ray's 30 s: a loaded machine
            ray.shutdown()
            if attempt == tries - 1:
                raise
            print(f"(Ray did not start, {type(err).__name__}; trying again)", flush=True)


def late_over_early(finished: list[float]) -> float:
    """Completions per second over the last fifth of `finished` (epoch seconds) over those of its
    second and third tenths: 1 when the run kept its pace (nan with too few tasks to tell)."""
    times = sorted(finished)
    n = len(times)
    if n < 50:
        return float("nan")
    early = times[int(0.3 * n)] - times[int(0.1 * n)]
    late = times[-1] - times[int(0.8 * n)]
    return (early / (int(0.3 * n) - int(0.1 * n))) / (late / (n - 1 - int(0.8 * n))) if early > 0 < late else float("nan")


def one_row(engine: str, mode: str, n: int, shots: int, traced: bool) -> tuple[float, float, float, float]:
    """(tasks/s, RSS bytes per task in flight, traced bytes per task in flight, late / early) for one size."""
    from qtau import PilotComputeService, QuantumTask

    workdir = tempfile.mkdtemp(prefix="qtau-bench-growth-wd-")
    pcs = PilotComputeService(execution_engine=engine, working_directory=workdir, plugins=host())
    try:
        pcs.create_pilot(QISKIT)
        circuit = bell()
        pcs.get_results([pcs.submit_quantum_task(QuantumTask(circuit=circuit, shots=shots)) for _ in range(20)])
        tasks = [QuantumTask(circuit=circuit, shots=shots) for _ in range(n)]
        rss0 = rss_bytes()
        traced0 = tracemalloc.get_traced_memory()[0] if traced else 0
        start = time.perf_counter()
        if mode == "batch":
            handles = pcs.submit_quantum_tasks(tasks)
        else:
            handles = [pcs.submit_quantum_task(task) for task in tasks]
        measuring = time.perf_counter()
        rss1 = rss_bytes()
        traced1 = tracemalloc.get_traced_memory()[0] if traced else 0
        measured = time.perf_counter() - measuring  # not counted: tasks run on meanwhile, a little
        results = pcs.get_results(handles)
        seconds = time.perf_counter() - start - measured
        assert sum(sum(r.counts.values()) for r in results) == n * shots
        # One call's tasks complete in a few big chunks: no pace to compare within the run.
        pace = late_over_early([r.timings.finished_at for r in results]) if mode == "one" else float("nan")
        return n / seconds, (rss1 - rss0) / n, (traced1 - traced0) / n, pace
    finally:
        pcs.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--modes", default="batch,one")
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs of each row")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.tracemalloc:
        tracemalloc.start()
    print(f"QTAU growth: Bell x {args.shots} shots, journal on, {os.cpu_count()} CPUs on this machine, "
          f"best of {args.rounds} (the sizes alternate within each round)\n")
    print("| engine | mode | tasks | tasks/s | vs smallest | late / early (same run) | driver RSS / task in flight "
          "| traced / task | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for engine in args.engines.split(","):
        if engine == "ray":
            start_ray()
        for mode in args.modes.split(","):
            best: dict[int, tuple[float, float, float, float, float]] = {}
            for _ in range(args.rounds):
                for n in sizes:
                    row = (*one_row(engine, mode, n, args.shots, args.tracemalloc), os.getloadavg()[0])
                    if n not in best or row[0] > best[n][0]:
                        best[n] = row
            for n in sizes:
                rate, rss, traced, pace, load = best[n]
                traced_cell = f"{traced / 1024:.1f} KiB" if args.tracemalloc else "-"
                print(f"| {engine.upper()} | {mode} | {n:,} | {rate:.0f} | {rate / best[sizes[0]][0]:.2f}x | "
                      f"{'-' if pace != pace else f'{pace:.2f}x'} | {rss / 1024:.1f} KiB | {traced_cell} | {load:.1f} |", flush=True)
        if engine == "ray":
            import ray

            ray.shutdown()  # the Ray start_ray started; nothing is left


if __name__ == "__main__":
    main()
