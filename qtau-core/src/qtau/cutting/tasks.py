"""`QuantumTask(..., observables=[...], cut=...)` through `submit_quantum_task`: the task is planned
(`plan_cut`: cut only when `cut` asks or no resource is wide enough), its subexperiments are
submitted as one batch of ordinary tasks, and its handle is a `CompositeHandle` whose result is one
`Result`: `values` the expectation values, `metadata["standard_errors"]` their errors,
`metadata["cut"]` the plan, `parts` each subexperiment's resource, shots, counts and cost.

Each subexperiment inherits the task's policy, constraints (`min_fidelity`, `deadline`,
`timeout`, its share of `max_cost`) and pin. A crash loses the composite, not its parts: the
journal recovers the subexperiments as tasks of their own.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from qtau.composite import CompositeHandle
from qtau.cutting import reconstruct
from qtau.cutting.plan import CutPlan, CutService, plan_cut
from qtau.errors import NoSuitableResourceError
from qtau.types import QuantumTask, Result, ResultPart


def _part_task(task: QuantumTask, plan: CutPlan, circuit: Any) -> QuantumTask:
    share = None if task.max_cost is None else task.max_cost / max(plan.num_circuits, 1)
    return QuantumTask(circuit=circuit, num_qubits=circuit.num_qubits, shots=task.shots, policy=task.policy,
                       min_fidelity=task.min_fidelity, deadline=task.deadline, timeout=task.timeout,
                       max_cost=share, resource=task.resource, resource_config=task.resource_config)


def _finish(task: QuantumTask, plan: CutPlan, labels: list[Any], results: list[Result]) -> Result:
    counts: dict[Any, list[dict[str, int]]] = {label: [] for label in plan.experiments}
    for label, result in zip(labels, results, strict=True):
        counts[label].append(dict(result.counts))
    values = reconstruct.values(plan, counts)
    errors = reconstruct.standard_errors(plan, counts)
    used = Counter(r.resource_id for r in results)
    currency = results[0].currency if results else "USD"
    return Result(
        task_id=task.task_id, resource_id=",".join(sorted(used)),
        executor=",".join(sorted({r.executor for r in results})), shots=task.shots,
        values=tuple(float(v) for v in values), cost=sum(r.cost for r in results), currency=currency,
        metadata={"standard_errors": tuple(float(e) for e in errors),
                  "cut": {"cuts": plan.cuts, "sampling_overhead": plan.sampling_overhead,
                          "subexperiments": plan.num_circuits, "width": plan.width, "resources": dict(used)}},
        parts=tuple(ResultPart(r.resource_id, r.shots, r.counts, r.cost, r.currency, r.attempts) for r in results),
    )


def quoted_pieces(service: CutService, tasks: Any) -> tuple[list[QuantumTask], list[str]]:
    """`tasks` for a quote: each task with observables replaced by its pieces (the subexperiments
    its plan would submit), and each such plan's explanation, for the quote's notes."""
    flat, notes = [], []
    for task in [tasks] if isinstance(tasks, QuantumTask) else list(tasks):
        if not isinstance(task, QuantumTask) or task.observables is None:
            flat.append(task)
            continue
        circuit = task.circuit(*task.args, **task.kwargs) if callable(task.circuit) else task.circuit
        plan = plan_cut(service, circuit, list(task.observables), shots=task.shots, cut=task.cut)
        flat.extend(_part_task(task, plan, t.circuit) for _, _, t in plan.tasks())
        notes.append(f"task {task.task_id} is measured as {plan.num_circuits} pieces: " + plan.explain())
    return flat, notes


def submit_observables(service: CutService, task: QuantumTask) -> CompositeHandle:
    """Plan `task` (which has observables), submit its subexperiments, return its handle."""
    circuit = task.circuit(*task.args, **task.kwargs) if callable(task.circuit) else task.circuit
    plan = plan_cut(service, circuit, list(task.observables or ()), shots=task.shots, cut=task.cut)
    entries = plan.tasks()
    tasks = [_part_task(task, plan, t.circuit) for _, _, t in entries]
    unplaced = next((q for q in service.quote(tasks).tasks if not q.chosen), None)
    if unplaced is not None:  # refuse the whole task before any piece starts
        raise NoSuitableResourceError(
            f"a piece of task {task.task_id} can run nowhere: {unplaced.problem}", field="resource",
            value=task.resource, fix="unpin the task, relax its constraints, or add a resource that fits",
            rejections={line.resource_id: line.reason for line in unplaced.lines if not line.feasible},
        )
    parts = service.submit_quantum_tasks(tasks)
    labels = [label for label, _, _ in entries]
    return CompositeHandle(task.task_id, tuple(parts),
                           lambda results: _finish(task, plan, labels, results))


def submit_mixed(service: CutService, tasks: list[QuantumTask]) -> list[Any]:
    """Handles for `tasks` in order: those with observables as composites, the rest as one batch."""
    plain = [t for t in tasks if t.observables is None]
    handles = iter(service.submit_quantum_tasks(plain) if plain else [])
    return [submit_observables(service, t) if t.observables is not None else next(handles) for t in tasks]
