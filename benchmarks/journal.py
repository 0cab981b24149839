"""What the journal costs: the same loops with and without it, on LOCAL and RAY, in one run.

    python benchmarks/journal.py [--tasks 1000] [--rounds 3] [--shots 1000] [--skip-ray]

Each engine runs three services side by side: one without a working_directory (no journal), one
with it, which does what any journaled service does: each `submit_quantum_task` returns once its
task is on disk (durable acknowledgement), `submit_quantum_tasks` once the whole burst is, each
result is journaled as it completes, and `get_results` marks what it hands out before it returns;
and one created with `durable=False`, whose submissions are only queued (a crash may lose those of
the last writer window; docs/journal.md).
Two loops, as benchmarks/throughput.py runs them: one by one (`submit_quantum_task` in a loop,
then `get_results`) and batch (`submit_quantum_tasks`, then `get_results`), Bell circuits on Aer.
Rounds alternate (plain, journaled) so a noisy neighbour slows both alike; the best of `--rounds`
is compared, and every ratio comes from the same run. Beside each best-of cost, the median of the
rounds' own costs (each round's journaled time over its plain time) and their range: on the shared
2-core machine the best-of cost of the same code moved from -9% to +19% between runs minutes apart
(session 27), and the spread says how far one figure can be trusted. RAY is Ray on this machine
(`ray.init(num_cpus=2)`). The goal is a cost of 5% or less in every row.

The last line times the journal's own calls per task, without any engine (what the submitting
thread pays, and what the writer thread pays for the result and the hand-out).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("RAY_TMPDIR", tempfile.mkdtemp(prefix="qtau-bench-ray-"))
os.environ.pop("RAY_ADDRESS", None)
sys.path.insert(0, os.path.dirname(__file__))

from throughput import QISKIT, bell, host, qtau_batch, qtau_one_by_one  # noqa: E402


def per_call_cost(n: int = 2000, compact: bool = True) -> float:
    """Microseconds per task of the journal's calls as a service makes them: the submission
    (payload pickled, checked for secrets, on disk before it returns), the result, the hand-out
    (durable), all committed. `compact`: the circuit in qtau-qiskit's compact form, as a service
    writes it (`qtau_compact_forms`); else in Qiskit's own pickle."""
    from qtau import Attempt, QuantumTask, Result, Timings
    from qtau.journal import Journal
    from qtau.journal.service_journal import task_blob

    forms = host().compact_forms() if compact else None
    now = time.time()
    tasks = [QuantumTask(circuit=bell(), shots=1000) for _ in range(n)]
    results = [Result(task_id=t.task_id, resource_id="qiskit:aer_simulator", executor="qiskit_local",
                      shots=1000, counts={"00": 500, "11": 500}, timings=Timings(now, now, now),
                      attempts=[Attempt("qiskit:aer_simulator", True, now, now)]) for t in tasks]
    with tempfile.TemporaryDirectory() as folder, Journal.open(folder) as journal:
        t = time.perf_counter()
        for task, result in zip(tasks, results, strict=True):
            journal.record_task(task, payload=lambda task=task: task_blob(task, forms), durable=True)
            journal.record_result(result)
        journal.mark_handed_out([t.task_id for t in tasks], durable=True)
        journal.flush()
        return (time.perf_counter() - t) / n * 1e6


def measure(engine, circuits, shots: int, rounds: int, folder: str) -> dict[str, list[float]]:
    """Seconds per round of each loop on a plain and a journaled service of `engine`."""
    from qtau import PilotComputeService
    from qtau.journal import Journal

    made = {"plain": PilotComputeService(execution_engine=engine, plugins=host()),
            "journal": PilotComputeService(execution_engine=engine, plugins=host(),
                                           working_directory=os.path.join(folder, "durable")),
            "queued": PilotComputeService(execution_engine=engine, plugins=host(), durable=False,
                                          working_directory=os.path.join(folder, "queued"))}
    for pcs in made.values():
        pcs.create_pilot(QISKIT)
        qtau_one_by_one(pcs, circuits[:100], shots)  # warm-up
        qtau_batch(pcs, circuits[:100], shots)
    runs: dict[str, list[float]] = {}
    for _ in range(rounds):
        for loop, fn in (("one", qtau_one_by_one), ("batch", qtau_batch)):
            for name, pcs in made.items():
                cpu = time.process_time()
                runs.setdefault(f"{loop}_{name}", []).append(fn(pcs, circuits, shots))
                runs.setdefault(f"{loop}_{name}_cpu", []).append(time.process_time() - cpu)
    for pcs in made.values():
        pcs.close()
    for name in ("durable", "queued"):
        with Journal.open(os.path.join(folder, name), readonly=True) as journal:
            records = journal.tasks()
        expected = 2 * 100 + 2 * rounds * len(circuits)
        assert len(records) == expected and all(r.handed_out and r.state == "done" for r in records), (
            f"{len(records)} journaled tasks, {expected} expected, all done and handed out")
    return runs


def table(engine: str, runs: dict[str, list[float]], n: int) -> list[str]:
    """Per loop: circuits/s (best round) and the cost in wall time and in the driver's CPU time
    (best round; the CPU figure is steadier on a shared machine, but counts the driver process
    only: on RAY the workers' CPU is not in it)."""
    rows = []
    for loop, label in (("one", "one by one"), ("batch", "batch")):
        base, ours, queued = (min(runs[f"{loop}_{name}"]) for name in ("plain", "journal", "queued"))
        cpu = {name: min(runs[f"{loop}_{name}_cpu"]) for name in ("plain", "journal", "queued")}
        rows.append(
            f"| {engine} | {label} | {n / base:,.0f} | {n / ours:,.0f} | {(ours / base - 1) * 100:+.1f}% "
            f"| {paired(runs, loop, 'journal')} | {(cpu['journal'] / cpu['plain'] - 1) * 100:+.1f}% "
            f"| {n / queued:,.0f} | {(queued / base - 1) * 100:+.1f}% | {paired(runs, loop, 'queued')} "
            f"| {(cpu['queued'] / cpu['plain'] - 1) * 100:+.1f}% |")
    return rows


def paired(runs: dict[str, list[float]], loop: str, name: str) -> str:
    """The median of the rounds' own wall-time costs (each round's `name` time over its plain
    time, measured next to each other), with their lowest and highest."""
    costs = sorted((ours / base - 1) * 100 for ours, base in zip(runs[f"{loop}_{name}"], runs[f"{loop}_plain"],
                                                                  strict=True))
    return f"{statistics.median(costs):+.1f}% ({costs[0]:+.0f}..{costs[-1]:+.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()

    from qtau import ExecutionEngine

    circuits = [bell() for _ in range(args.tasks)]
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        lines += table("LOCAL", measure(ExecutionEngine.LOCAL, circuits, args.shots, args.rounds,
                                        os.path.join(folder, "local")), args.tasks)
        if not args.skip_ray:
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            try:
                lines += table("RAY", measure(ExecutionEngine.RAY, circuits, args.shots, args.rounds,
                                              os.path.join(folder, "ray")), args.tasks)
            finally:
                ray.shutdown()
    print(f"journal on vs off, {args.tasks} Bell circuits x {args.shots} shots on Aer, {os.cpu_count()} CPUs, "
          f"best of {args.rounds} alternating rounds (goal: a cost of at most 5%)\n")
    print("| engine | loop | no journal (circuits/s) | journal (circuits/s) | cost, wall | cost, rounds' median "
          "(range) | cost, driver CPU | journal, durable=False (circuits/s) | cost, wall | cost, rounds' median "
          "(range) | cost, driver CPU |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(lines))
    per_call = min(per_call_cost() for _ in range(3))
    pickled = min(per_call_cost(compact=False) for _ in range(3))
    print(f"\njournal calls alone (submission durable, result, hand-out; least of 3): {per_call:.0f} us per task "
          f"(with Qiskit's own pickle of the circuit instead of qtau-qiskit's compact form: {pickled:.0f} us)")


if __name__ == "__main__":
    main()
