"""A task with observables as the journal keeps it, and the handle that gives its one result.

`CutTask` is what a crash must not lose: the task as the user gave it, its plan (which pickles as
its circuit, cuts and Pauli terms: `qtau.cutting.subexperiments`), and the task id of every
subexperiment in the plan's order. It is journaled (durably) before any piece is submitted, as
the task's payload; `qtau.journal.recovery` hands it back with the handles of the pieces it
recovered, and `recover` rebuilds the `CompositeHandle`: pieces done come from their journaled
results (not run or billed again), pieces never journaled are submitted again under their own
ids, and the result is reconstructed under the task's own id.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs

from qtau.composite import CompositeHandle
from qtau.cutting import reconstruct
from qtau.cutting.plan import CutPlan
from qtau.types import QuantumTask, Result, ResultPart


def part_task(task: QuantumTask, plan: CutPlan, circuit: Any, task_id: str | None = None) -> QuantumTask:
    """One subexperiment as a task: it inherits `task`'s policy, constraints, pin and an equal
    share of its `max_cost`."""
    share = None if task.max_cost is None else task.max_cost / max(plan.num_circuits, 1)
    ids = {} if task_id is None else {"task_id": task_id}
    return QuantumTask(circuit=circuit, num_qubits=circuit.num_qubits, shots=task.shots, policy=task.policy,
                       min_fidelity=task.min_fidelity, deadline=task.deadline, timeout=task.timeout,
                       max_cost=share, resource=task.resource, resource_config=task.resource_config, **ids)


class Settles(Protocol):
    """What a cut task's handle tells the journal: its outcome once it is known (a `ServiceJournal`)."""

    def settled(self, task_id: str, outcome: Any, first: int = 1) -> None: ...


@attrs.frozen(eq=False)
class CutTask:
    """A task with observables, its plan, and its subexperiments' task ids (the plan's order)."""

    task: QuantumTask
    plan: CutPlan
    part_ids: tuple[str, ...]

    @classmethod
    def of(cls, task: QuantumTask, plan: CutPlan) -> tuple[CutTask, list[QuantumTask]]:
        """The record of `task` planned as `plan`, and the subexperiments' tasks it names."""
        parts = [part_task(task, plan, t.circuit) for _, _, t in plan.tasks()]
        return cls(task, plan, tuple(p.task_id for p in parts)), parts

    def labels(self) -> list[Any]:
        return [label for label, circuits in self.plan.experiments.items() for _ in circuits]

    def finish(self, results: list[Result]) -> Result:
        """The task's one Result from its subexperiments' results (in `part_ids`' order)."""
        plan, task = self.plan, self.task
        counts: dict[Any, list[dict[str, int]]] = {label: [] for label in plan.experiments}
        for label, result in zip(self.labels(), results, strict=True):
            counts[label].append(dict(result.counts))
        values = reconstruct.values(plan, counts)
        # Seeded by the task: the same task's result collected twice has the same error bars.
        errors = reconstruct.standard_errors(plan, counts, seed=zlib.crc32(task.task_id.encode()))
        used = Counter(r.resource_id for r in results)
        currency = results[0].currency if results else "USD"
        return Result(
            task_id=task.task_id, resource_id=",".join(sorted(used)),
            executor=",".join(sorted({r.executor for r in results})), shots=task.shots,
            values=tuple(float(v) for v in values), cost=sum(r.cost for r in results), currency=currency,
            metadata={"standard_errors": tuple(float(e) for e in errors),
                      "cut": {"cuts": plan.cuts, "sampling_overhead": plan.sampling_overhead,
                              "subexperiments": plan.num_circuits, "width": plan.width, "resources": dict(used)},
                      **({"recovered": True} if any(r.metadata.get("recovered") for r in results) else {})},
            parts=tuple(ResultPart(r.resource_id, r.shots, r.counts, r.cost, r.currency, r.attempts) for r in results),
        )

    def handle(self, parts: list[Any], journal: Settles | None) -> CompositeHandle:
        """The task's handle over its parts' handles; its outcome reaches `journal` when collected."""
        settle = None if journal is None else (lambda outcome: journal.settled(self.task.task_id, outcome))
        return CompositeHandle(self.task.task_id, tuple(parts), self.finish, settle)

    def recover(self, parts: Mapping[str, Any], resubmit: Callable[[QuantumTask], Any],
                journal: Settles | None) -> CompositeHandle:
        """The handle again after a crash: `parts` holds the handles recovery found (by task id);
        each subexperiment missing there is submitted again under its own id."""
        handles = []
        missing = [pid for pid in self.part_ids if pid not in parts]
        circuits = dict(zip(self.part_ids, (c for cs in self.plan.experiments.values() for c in cs), strict=True)) \
            if missing else {}
        for pid in self.part_ids:
            handles.append(parts[pid] if pid in parts else resubmit(part_task(self.task, self.plan, circuits[pid], pid)))
        return self.handle(handles, journal)
