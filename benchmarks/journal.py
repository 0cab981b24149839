"""What the journal costs the local-simulator benchmark: the same loop with and without it, one run.

    python benchmarks/journal.py [--tasks 1000] [--rounds 5] [--shots 1000]

The loop is benchmarks/throughput.py's "QTAU LOCAL, one by one" (Bell circuits on Aer through
`submit_quantum_task`, then `get_results`), run by a service without a working_directory and by one
with a journal, which does what any journaled service does: each `submit_quantum_task` returns once
its task is committed (durable acknowledgement, group commits), each result is journaled from its
completion callback, and `get_results` marks what it hands out, durably. Rounds alternate (plain,
journaled) so a noisy neighbour slows both alike; medians are compared. The goal is an overhead of
5% or less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))

from throughput import QISKIT, bell, host  # noqa: E402


def one_by_one(pcs, circuits, shots) -> float:
    from qtau import QuantumTask

    t = time.perf_counter()
    refs = [pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=shots)) for qc in circuits]
    results = pcs.get_results(refs)
    elapsed = time.perf_counter() - t
    assert all(sum(r.counts.values()) == shots for r in results)
    return elapsed


def per_call_cost(n: int = 2000) -> tuple[float, float]:
    """Microseconds the submitting thread spends per task in the journal's calls, as a service
    makes them (the task's payload pickled and checked for secrets, its result, the hand-out):
    (writes queued, each submission committed before it returns)."""
    from qtau import Attempt, QuantumTask, Result, Timings
    from qtau.journal import Journal
    from qtau.journal.service_journal import task_blob

    now = time.time()
    out = []
    for durable in (False, True):
        tasks = [QuantumTask(circuit=bell(), shots=1000) for _ in range(n)]
        results = [Result(task_id=t.task_id, resource_id="qiskit:aer_simulator", executor="qiskit_local",
                          shots=1000, counts={"00": 500, "11": 500}, timings=Timings(now, now, now),
                          attempts=[Attempt("qiskit:aer_simulator", True, now, now)]) for t in tasks]
        with tempfile.TemporaryDirectory() as folder, Journal.open(folder) as journal:
            t = time.perf_counter()
            for task, result in zip(tasks, results, strict=True):
                journal.record_task(task, payload=lambda task=task: task_blob(task), durable=durable)
                journal.record_result(result)
            journal.mark_handed_out([t.task_id for t in tasks], durable=durable)
            journal.flush()
            out.append((time.perf_counter() - t) / n * 1e6)
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--shots", type=int, default=1000)
    args = parser.parse_args()

    from qtau import ExecutionEngine, PilotComputeService
    from qtau.journal import Journal

    circuits = [bell() for _ in range(args.tasks)]
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=host())
    pcs.create_pilot(QISKIT)
    one_by_one(pcs, circuits[:100], args.shots)  # warm-up
    plain, journaled = [], []
    with tempfile.TemporaryDirectory() as folder:
        kept = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=host(), working_directory=folder)
        kept.create_pilot(QISKIT)
        one_by_one(kept, circuits[:100], args.shots)
        for _ in range(args.rounds):
            plain.append(one_by_one(pcs, circuits, args.shots))
            journaled.append(one_by_one(kept, circuits, args.shots))
        kept.close()
        rows = len(Journal.open(folder, readonly=True).tasks())
    pcs.close()
    base, ours = statistics.median(plain), statistics.median(journaled)
    print(f"journal overhead, {args.tasks} Bell tasks one by one on LOCAL/Aer, {os.cpu_count()} CPUs, "
          f"median of {args.rounds} alternating rounds")
    print(f"  without journal: {args.tasks / base:8.0f} tasks/s  ({', '.join(f'{x:.2f}' for x in plain)} s)")
    print(f"  with journal:    {args.tasks / ours:8.0f} tasks/s  ({', '.join(f'{x:.2f}' for x in journaled)} s)")
    print(f"  overhead: {(ours / base - 1) * 100:+.1f}% (goal: at most +5%); {rows} tasks journaled")
    queued, durable = per_call_cost()
    print(f"  journal calls alone, per task: {queued:.1f} us with writes queued, {durable:.1f} us with each "
          "submission committed before it returns (what a service does)")


if __name__ == "__main__":
    main()
