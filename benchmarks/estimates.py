"""Do QDREAMER's estimates come true? The share of tasks that completed within 20% of the expected
completion QDREAMER computed when it placed them.

    python benchmarks/estimates.py [--tasks 60] [--sim-jobs 2000] [--seeds 4 5 6] [--load 0.9]

1. Real local runs: `--tasks` GHZ circuits (2-12 qubits, 100-4000 shots, drawn with a fixed seed)
   submitted to a LOCAL service on `qiskit_local` (Aer), first one at a time (each waits for the
   previous result: completion = run time), then all at once (completion = waiting behind the
   others + run time). Each task's estimate is the expected completion in the table QDREAMER
   decided it by (`QDreamer.remember_decisions`, `decision(task_id).chosen.wait_s`); its actual
   completion is the Result's `timings` (submitted to finished). Beside it, the share the plain
   heuristic gets: the plugin's run-time prior (`ranking.run_seconds`) alone, without the queue of
   the service's own tasks.
2. The scheduling simulation (benchmarks/scheduling.py, load `--load`, `--seeds`): `balanced`
   and `high_speed`, whose estimates include the waits QDREAMER learned from finished jobs
   (`dreamer.wait_model`), and beside them the same policies without learning (the heuristic:
   reported queues and the lateness rule alone).

Goal: >= 75% of tasks within 20% (|estimate - actual| <= 0.2 x actual), the heuristic's share
printed beside it. Estimates of milliseconds against milliseconds are judged the same way, which
is strict: a local task's completion includes Python's thread hand-offs.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from qtau import PilotComputeService, QuantumTask  # noqa: E402
from qtau.dreamer.ranking import run_seconds  # noqa: E402

SHARE = 0.2


def within(pairs: list[tuple[float, float]], share: float = SHARE) -> float:
    """The share of (estimate, actual) pairs with |estimate - actual| <= share x actual."""
    return sum(abs(e - a) <= share * a for e, a in pairs) / len(pairs) if pairs else float("nan")


def ghz(width: int):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(width, width)
    qc.h(0)
    for q in range(width - 1):
        qc.cx(q, q + 1)
    qc.measure(range(width), range(width))
    return qc


def median_ratio(pairs: list[tuple[float, float]]) -> float:
    """The median of actual / estimate: how many times longer tasks took than expected."""
    ratios = sorted(a / e for e, a in pairs if e > 0)
    return ratios[len(ratios) // 2] if ratios else float("nan")


def local_runs(tasks: int, seed: int = 7) -> dict[str, tuple[float, float, float]]:
    """Per mode (one at a time, all at once): (QDREAMER's share, the heuristic's share, the median
    of actual / QDREAMER's estimate)."""
    rng = random.Random(seed)
    shapes = [(rng.randint(2, 12), rng.choice((100, 1000, 4000))) for _ in range(tasks)]
    out = {}
    with PilotComputeService() as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        dreamer = pcs.qdreamer
        dreamer.remember_decisions(4 * tasks)
        # Warm-up: imports, Aer's first run and the plans are no part of any task's completion.
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=ghz(2), shots=100)), timeout=120)
        for mode in ("one at a time", "all at once"):
            made = [QuantumTask(circuit=ghz(w), shots=s) for w, s in shapes]
            if mode == "one at a time":
                results = [pcs.get_result(pcs.submit_quantum_task(t), timeout=120) for t in made]
            else:
                handles = [pcs.submit_quantum_task(t) for t in made]
                results = [pcs.get_result(h, timeout=300) for h in handles]
            ours, prior = [], []
            for task, result in zip(made, results, strict=True):
                actual = result.timings.finished_at - result.timings.submitted_at
                chosen = dreamer.decision(task.task_id).chosen
                res, _ = dreamer.resource_config(chosen.resource_id)
                summary, _ = dreamer.summarize(task)
                ours.append((chosen.wait_s, actual))
                prior.append((run_seconds(res, task.shots, summary), actual))
            out[mode] = (within(ours), within(prior), median_ratio(ours))
    return out


def simulation(jobs: int, seeds: list[int], load: float) -> list[dict]:
    import scheduling

    params = scheduling.Params(jobs=jobs)
    results = scheduling.experiment(["balanced", "high_speed"], [load], seeds, params, workers=2, heuristic=True)
    return scheduling.summarize(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=60, help="local tasks per mode (default 60)")
    parser.add_argument("--sim-jobs", type=int, default=2000, help="jobs per simulated run (0: skip)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[4, 5, 6])
    parser.add_argument("--load", type=float, default=0.9)
    args = parser.parse_args(argv)
    print(f"share of tasks completed within {SHARE:.0%} of the estimate at placement (goal >= 75%)\n")
    print("real local runs (qiskit_local), QDREAMER's estimate | the run-time prior alone:")
    for mode, (ours, prior, ratio) in local_runs(args.tasks).items():
        print(f"  {mode:14s} {ours:6.0%} | {prior:6.0%}  ({args.tasks} tasks; median actual / estimate {ratio:.2f})")
    if args.sim_jobs:
        print(f"\nscheduling simulation, load {args.load:g}, seeds {' '.join(map(str, args.seeds))}, "
              f"{args.sim_jobs} jobs each:")
        rows = {r["policy"]: r for r in simulation(args.sim_jobs, args.seeds, args.load)}
        for policy in ("balanced", "high_speed"):
            ours, plain = rows[policy], rows[f"{policy} (heuristic)"]
            print(f"  {policy:14s} learned waits {ours['within_20']:6.0%} | heuristic {plain['within_20']:6.0%}"
                  f"   (mean completion {ours['mean_completion_s']:.1f} s | {plain['mean_completion_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
