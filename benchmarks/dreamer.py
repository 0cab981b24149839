"""QDREAMER: decision latency at 10, 100 and 1000 candidates, and provider calls saved by the cache.

    python benchmarks/dreamer.py [--decisions 2000] [--minutes 10] [--resources 20] [--ttl 30]

Candidates are resources of the `scripted` test plugin (tests/plugins/qtau-scripted; loaded through
its entry point when installed, else from the source tree), with varied width, queue, noise and
price, so every candidate is ranked on all three terms. Reports come through the real hook calls.

1. Latency: `QDreamer.place(task)` with a warm cache, the way `submit_quantum_task` calls it
   (each decision also counts the task in flight, so the speed term changes every time). Also the
   cold decision (every report fetched), `explain`, and a decision for a new circuit object.
2. Workload: one task per second for `--minutes` over `--resources` resources with a TTL of
   `--ttl` s, on an injected clock (no sleeping). Each task finishes 5 s after it starts. The
   baseline is the same workload with no cache (TTL 0: every decision asks every provider).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def plugin_host():
    from qtau.plugins import PluginHost

    host = PluginHost(strict=True)
    host.load_entry_points(allow={"scripted", "qiskit"})
    if "scripted" not in host.names:
        sys.path.insert(0, str(ROOT / "tests" / "plugins" / "qtau-scripted" / "src"))
        host.register_module("scripted", "qtau_scripted.plugin")
    if "qiskit" not in host.names:
        sys.exit("the qiskit plugin is needed to read circuits: pip install -e qtau-qiskit")
    return host


def bell():
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def scripted_config(n: int) -> dict:
    resources = [
        {
            "name": f"r{i:04d}",
            "qubits": 5 + (i * 7) % 120,
            "queue_wait_s": float((i * 37) % 600),
            "one_qubit_error": 1e-4 * (1 + i % 5),
            "two_qubit_error": 1e-3 * (1 + (i * 3) % 20),
            "readout_error": 5e-3 * (1 + i % 4),
            "per_task": 0.3 * (i % 3),
            "per_shot": 1e-4 * (i % 7),
        }
        for i in range(n)
    ]
    return {"executor": "scripted", "resources": resources}


def dreamer(host, n: int, ttl: float, clock=None):
    from qtau.circuits import Circuits
    from qtau.dreamer import DreamerConfig, QDreamer
    from qtau_scripted.script import resources

    config = scripted_config(n)
    built = QDreamer(host, Circuits(host), DreamerConfig.parse({"cache_ttl_seconds": ttl}), clock=clock)
    built.add_resources(resources(config), config)
    return built


def latency(host, n: int, decisions: int) -> dict[str, float]:
    from qtau import QuantumTask

    d = dreamer(host, n, ttl=3600)
    task = QuantumTask(circuit=bell())
    started = time.perf_counter()
    d.place(task)
    cold = time.perf_counter() - started
    for _ in range(50):
        d.place(task)
    samples = []
    clock = time.perf_counter
    for i in range(decisions):
        t0 = clock()
        placement = d.place(task)
        d.task_started(placement[0].resource.id)
        samples.append(clock() - t0)
        if i % 4 == 3:
            d.task_finished(placement[0].resource.id)
    samples.sort()
    t0 = clock()
    rounds = max(decisions // 20, 5)
    for _ in range(rounds):
        d.explain(task)
    explain = (clock() - t0) / rounds
    fresh = [QuantumTask(circuit=bell()) for _ in range(200)]
    t0 = clock()
    for t in fresh:
        d.place(t)
    new_circuit = (clock() - t0) / len(fresh)
    return {
        "median": statistics.median(samples),
        "mean": statistics.fmean(samples),
        "p99": samples[int(len(samples) * 0.99) - 1],
        "cold": cold,
        "explain": explain,
        "new_circuit": new_circuit,
    }


def workload(host, minutes: float, n: int, ttl: float) -> dict[str, float]:
    from qtau import QuantumTask
    from qtau_scripted import state

    now = [0.0]
    d = dreamer(host, n, ttl, clock=lambda: now[0])
    task = QuantumTask(circuit=bell())
    state.reset()
    running: list[tuple[float, str]] = []
    seconds = int(minutes * 60)
    t0 = time.perf_counter()
    for second in range(seconds):
        now[0] = float(second)
        while running and running[0][0] <= now[0]:
            d.task_finished(running.pop(0)[1])
        rid = d.place(task)[0].resource.id
        d.task_started(rid)
        running.append((now[0] + 5.0, rid))
    wall = time.perf_counter() - t0
    info = d.get_cache_info()
    return {
        "tasks": seconds,
        "status_calls": state.status_calls(),
        "provider_calls": sum(state.calls.values()),
        "hit_rate": info["hit_rate"],
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--resources", type=int, default=20)
    parser.add_argument("--ttl", type=float, default=30)
    args = parser.parse_args()
    host = plugin_host()
    bell()  # import Qiskit before timing anything

    print("QDREAMER decision latency (warm cache; place() + in-flight update per decision)")
    print(f"{'candidates':>10}  {'median':>10}  {'mean':>10}  {'p99':>10}  {'per cand.':>10}  "
          f"{'cold':>10}  {'explain':>10}  {'new circuit':>11}")
    for n in (10, 100, 1000):
        r = latency(host, n, args.decisions if n < 1000 else max(args.decisions // 4, 100))
        us = {k: v * 1e6 for k, v in r.items()}
        print(f"{n:>10}  {us['median']:>8.1f}us  {us['mean']:>8.1f}us  {us['p99']:>8.1f}us  "
              f"{us['median'] / n:>8.2f}us  {us['cold'] / 1e3:>8.2f}ms  {us['explain'] / 1e3:>8.2f}ms  "
              f"{us['new_circuit']:>9.1f}us")
    print("  (goal: <= 100 us per decision at 100 candidates with a warm cache; Pilot-Quantum's MILP ~2700 us)")

    print()
    cached = workload(host, args.minutes, args.resources, args.ttl)
    uncached = workload(host, args.minutes, args.resources, 0.0)
    print(f"Simulated workload: {cached['tasks']} tasks, one per second, over {args.resources} resources "
          f"(injected clock; {cached['wall'] * 1e3:.0f} ms of real time)")
    print(f"  provider status calls, no cache:         {uncached['status_calls']:>6}")
    print(f"  provider status calls, TTL {args.ttl:g} s:         {cached['status_calls']:>6}")
    print(f"  status calls reduction:                  {uncached['status_calls'] / cached['status_calls']:>6.1f}x"
          f"   (goal >= 30x)")
    print(f"  all provider calls (status+noise+cost):  {uncached['provider_calls']:>6} -> {cached['provider_calls']} "
          f"({uncached['provider_calls'] / cached['provider_calls']:.1f}x), cache hit rate {cached['hit_rate']:.3f}")


if __name__ == "__main__":
    main()
