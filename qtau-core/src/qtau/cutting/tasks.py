"""`QuantumTask(..., observables=[...], cut=...)` through `submit_quantum_task`: the task is planned
(`plan_cut`: cut only when `cut` asks or no resource is wide enough), its subexperiments are
submitted as one batch of ordinary tasks, and its handle is a `CompositeHandle` whose result is one
`Result`: `values` the expectation values, `metadata["standard_errors"]` their errors,
`metadata["cut"]` the plan, `parts` each subexperiment's resource, shots, counts and cost.

Each subexperiment inherits the task's policy, constraints (`min_fidelity`, `deadline`,
`timeout`, its share of `max_cost`) and pin. With a journal, the task itself is journaled (its
plan and its subexperiments' ids: `qtau.cutting.cut_task`) before any piece is submitted, so a
crash loses nothing: `recover()` gives back the task's handle under its own id.
"""

from __future__ import annotations

import time
from typing import Any

from qtau.composite import CompositeHandle
from qtau.cutting.cut_task import CutTask, part_task
from qtau.cutting.plan import CutPlan, CutService, piece_quote, plan_cut
from qtau.errors import NoSuitableResourceError
from qtau.packing import pack
from qtau.types import QuantumTask


def _planned(service: CutService, task: QuantumTask) -> CutPlan:
    circuit = task.circuit(*task.args, **task.kwargs) if callable(task.circuit) else task.circuit
    return plan_cut(service, circuit, list(task.observables or ()), shots=task.shots, cut=task.cut)


def quoted_pieces(service: CutService, tasks: Any) -> tuple[list[QuantumTask], list[str]]:
    """`tasks` for a quote: each task with observables replaced by its pieces, and each such plan's
    explanation, for the quote's notes. A piece stands as many times as it has subexperiments, each
    time as its most demanding one (the same circuit object, so the quote prices it once)."""
    flat, notes = [], []
    for task in [tasks] if isinstance(tasks, QuantumTask) else list(tasks):
        if not isinstance(task, QuantumTask) or task.observables is None:
            flat.append(task)
            continue
        plan = _planned(service, task)
        for label, circuit in plan.representatives.items():
            flat.extend(part_task(task, plan, circuit) for _ in range(plan.subexperiments[str(label)]))
        notes.append(f"task {task.task_id} is measured as {plan.num_circuits} pieces: " + plan.explain())
    return flat, notes


def _refuse_unplaced(service: CutService, task: QuantumTask, plan: CutPlan) -> None:
    """Refuse the whole task before any piece starts when a piece can run nowhere (each piece
    quoted once, as its most demanding subexperiment, with the task's constraints)."""
    for _, _, quoted in piece_quote(service, plan, lambda circuit: part_task(task, plan, circuit)):
        if not quoted.chosen:
            raise NoSuitableResourceError(
                f"a piece of task {task.task_id} can run nowhere: {quoted.problem}", field="resource",
                value=task.resource, fix="unpin the task, relax its constraints, or add a resource that fits",
                rejections={line.resource_id: line.reason for line in quoted.lines if not line.feasible},
            )


def submit_observables(service: CutService, task: QuantumTask) -> CompositeHandle:
    """Plan `task` (which has observables), journal it, submit its subexperiments, return its handle."""
    plan = _planned(service, task)
    _refuse_unplaced(service, task, plan)
    record, tasks = CutTask.of(task, plan)
    journal = service.journal
    if journal is not None:  # before any piece: recovery then knows every piece, submitted or not
        journal.submitted(task, time.time(), durable=service.durable, payload=lambda: pack(record))
    try:
        parts = service.submit_quantum_tasks(tasks)
    except BaseException as err:  # nothing of it runs: recovery must not submit its pieces again
        if journal is not None:
            journal.settled(task.task_id, err)
        raise
    handle = record.handle(parts, journal)
    service.registry.remember(handle, task.task_id)
    return handle


def submit_mixed(service: CutService, tasks: list[QuantumTask]) -> list[Any]:
    """Handles for `tasks` in order: those with observables as composites, the rest as one batch."""
    plain = [t for t in tasks if t.observables is None]
    handles = iter(service.submit_quantum_tasks(plain) if plain else [])
    return [submit_observables(service, t) if t.observables is not None else next(handles) for t in tasks]
