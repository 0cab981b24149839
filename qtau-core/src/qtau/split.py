"""Shot splitting: one task's shots run as parts on interchangeable resources, merged into one Result.

`QuantumTask(..., split=True)` asks for it; a task with a `deadline` that no single resource meets
is split when the split meets it. Which resources qualify and how shots are divided is in
`qtau.dreamer.split_rules`. Parts run concurrently inside one engine task (so a split task has one
handle, like any other), each failing over on its own to the other split resources; the merged
Result has every part's resource, shots, counts and cost in `Result.parts`, and raises
ExecutionError if any part fails everywhere (a Result with missing shots would mislead).
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Sequence
from typing import Any, Protocol

import attrs

from qtau.dreamer import QDreamer
from qtau.dreamer.admission import admit_split, settler
from qtau.dreamer.split_rules import allocate, interchangeable
from qtau.dreamer.terms import run_seconds
from qtau.engines.base import Engine
from qtau.engines.tasks import run_task
from qtau.errors import ExecutionError, InvalidTaskError, NoSuitableResourceError, QtauError
from qtau.payloads import Placement, TaskPayload
from qtau.registry import TaskRegistry
from qtau.resource_request import request_of
from qtau.types import QuantumTask, Result, ResultPart, Timings


@attrs.frozen
class PartPlan:
    """One part of a split: where, how many shots, its price and expected completion (s)."""

    resource_id: str
    shots: int
    price: float
    currency: str
    expected_s: float


@attrs.frozen
class SplitPlan:
    task_id: str
    parts: tuple[PartPlan, ...]
    reason: str

    @property
    def price(self) -> float:
        return sum(p.price for p in self.parts)

    @property
    def currency(self) -> str:
        return self.parts[0].currency

    @property
    def expected_s(self) -> float:
        return max(p.expected_s for p in self.parts)


def _plan(dreamer: QDreamer, task: QuantumTask, rows: list, reason: str) -> SplitPlan | None:
    cands = dreamer.candidates()
    summary, _ = dreamer.summarize(task)
    throughputs = [task.shots / max(r.wait_s, 1e-9) for r in rows]
    shares = allocate(task.shots, throughputs, dreamer.config.split.min_part_shots)
    parts = []
    for row, shots in zip(rows, shares, strict=True):
        if not shots:
            continue
        cand = cands[row.resource_id]
        price = cand.cost.total(shots, summary=summary) if cand.cost else 0.0
        queue = cand.status.estimated_wait_s if cand.status else 0.0
        expected = (queue + row.in_flight * run_seconds(cand.resource, task.shots, summary)
                    + run_seconds(cand.resource, shots, summary))
        parts.append(PartPlan(row.resource_id, shots, price, row.currency, expected))
    return SplitPlan(task.task_id, tuple(parts), reason) if len(parts) > 1 else None


def plan_split(dreamer: QDreamer, task: QuantumTask) -> SplitPlan:
    """The split QDREAMER would make for a `split=True` task, or InvalidTaskError saying why not."""
    rows = list(dreamer.explain(task).rows)
    chosen = interchangeable(rows, dreamer.config.split)
    plan = _plan(dreamer, task, chosen, "split=True") if len(chosen) > 1 else None
    if plan is None:
        feasible = [r.resource_id for r in rows if r.feasible]
        if len(chosen) >= 2:
            why = f"{task.shots} shots leave fewer than {dreamer.config.split.min_part_shots} for a second part"
        else:
            why = f"only {chosen[0].resource_id if chosen else 'no resource'} qualifies as interchangeable"
        raise InvalidTaskError(
            f"task {task.task_id} cannot be split: {why} (feasible: {', '.join(feasible) or 'none'})",
            field="split", value=True,
            fix="drop split=True, add pilots whose resources are as good as the best one, or widen "
            "initialize_dreamer({'split': {'score_margin': ..., 'fidelity_margin': ...}})",
        )
    return plan


def deadline_split(dreamer: QDreamer, task: QuantumTask, missed: NoSuitableResourceError) -> SplitPlan:
    """A split that meets the task's deadline when no single resource does; else re-raise `missed`.
    A mitigated task is never split (each part would be corrected on its own resource)."""
    if task.deadline is None or task.mitigation.active:
        raise missed
    relaxed = attrs.evolve(task, deadline=None)
    try:
        rows = list(dreamer.explain(relaxed).rows)
    except QtauError:
        raise missed from None
    any_score = attrs.evolve(dreamer.config.split, score_margin=1.0)
    chosen = interchangeable(rows, any_score)
    plan = _plan(dreamer, relaxed, chosen, f"deadline {task.deadline:g} s") if len(chosen) > 1 else None
    if plan is None or plan.expected_s > task.deadline:
        raise missed
    return plan


# -- running ---------------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class SplitPayload:
    """A split task as one unit of engine work: one TaskPayload per part (its shots and its
    failover placements), run concurrently and merged."""

    task: QuantumTask
    parts: tuple[TaskPayload, ...]
    submitted_at: float


#: Threads that run parts; they never exit, so SDKs imported on them stay usable (qiskit 2.6 trap).
_pool: cf.ThreadPoolExecutor | None = None


def _part_pool() -> cf.ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = cf.ThreadPoolExecutor(max_workers=16, thread_name_prefix="qtau-split")
    return _pool


def run_split(payload: SplitPayload) -> Result:
    """Run every part concurrently (each failing over on its own) and merge them into one Result."""
    task = payload.task
    futures = [_part_pool().submit(run_task, part) for part in payload.parts]
    results: list[Result] = []
    failed: list[QtauError] = []
    for future in futures:
        try:
            results.append(future.result())
        except QtauError as err:
            failed.append(err)
    if failed:
        attempts = tuple(a for err in failed for a in getattr(err, "attempts", ()))
        which = "all" if not results else f"{len(failed)} of"
        raise ExecutionError(
            f"{which} {len(futures)} parts of split task {task.task_id} failed on every resource tried",
            attempts=attempts, task_id=task.task_id, field="split", value=True,
            fix="see each attempt's error; drop split=True to run the task whole on the best resource",
        )
    return merge(task, results, payload.submitted_at)


def merge(task: QuantumTask, results: list[Result], submitted_at: float) -> Result:
    counts: dict[str, int] = {}
    for res in results:
        for key, n in res.counts.items():
            counts[key] = counts.get(key, 0) + n
    parts = tuple(ResultPart(r.resource_id, r.shots, r.counts, r.metadata.get("billed_cost", r.cost), r.currency,
                             r.attempts) for r in results)
    started = min(r.timings.started_at for r in results if r.timings)
    finished = max(r.timings.finished_at for r in results if r.timings)
    executors = sorted({r.executor for r in results})
    return Result(
        task_id=task.task_id, resource_id="+".join(p.resource_id for p in parts), executor="+".join(executors),
        shots=sum(p.shots for p in parts), counts=counts, timings=Timings(submitted_at, started, finished),
        cost=sum(p.cost for p in parts), currency=parts[0].currency,
        attempts=tuple(a for r in results for a in r.attempts), conversion_path=results[0].conversion_path,
        metadata={"split": True, "parts": len(parts)}, raw=[r.raw for r in results], parts=parts,
    )


def part_placements(dreamer: QDreamer, task: QuantumTask, template: Placement, plan: SplitPlan,
                    max_attempts: int) -> list[tuple[int, tuple]]:
    """Each part's placements: its own resource first, then the other split resources that cost no
    more for its shots (so failing over never spends past what the part reserved). `template` is
    a Placement QDREAMER made for the task, copied for each resource."""
    cands = dreamer.candidates()
    summary, _ = dreamer.summarize(task)
    out = []
    for part in plan.parts:
        order = [part] + [p for p in plan.parts if p is not part]
        placements = []
        for other in order:
            cand = cands[other.resource_id]
            price = cand.cost.total(part.shots, summary=summary) if cand.cost else 0.0
            if other is not part and price > part.price + 1e-12:
                continue
            res, cfg = dreamer.resource_config(other.resource_id)
            placements.append(attrs.evolve(template, resource=res, config=cfg, cost=price,
                                           currency=other.currency))
        out.append((part.shots, tuple(placements[:max_attempts])))
    return out


class Submitter(Protocol):
    """What starting a split asks of the service's dispatcher (`qtau.dispatch.Dispatcher`)."""

    engine: Engine
    registry: TaskRegistry
    journal: Any
    #: Whether submissions are on disk before they return (False: only queued; docs/journal.md).
    durable: bool

    @property
    def dreamer(self) -> QDreamer: ...

    def payload(self, task: QuantumTask, placements: Sequence[Placement], now: float) -> TaskPayload: ...


def submit_split(submitter: Submitter, task: QuantumTask, plan: SplitPlan) -> Any:
    """Reserve the parts' money, count each part in flight, and start the split as one engine task."""
    dreamer = submitter.dreamer
    hold = admit_split(dreamer, task, plan)
    try:
        template = Placement(dreamer.resource_config(plan.parts[0].resource_id)[0])
        now = time.time()
        parts = []
        for i, (shots, placements) in enumerate(part_placements(dreamer, task, template, plan,
                                                                 dreamer.config.max_attempts)):
            part = attrs.evolve(task, shots=shots, split=False, deadline=None, task_id=f"{task.task_id}.{i + 1}")
            parts.append(submitter.payload(part, placements, now))
        if submitter.journal is not None:
            # The journal knows the split task, not its parts: recovery runs it again whole.
            submitter.journal.submitted(task, now, submitter.durable)
        payload = SplitPayload(task, tuple(parts), now)
        for part in plan.parts:
            dreamer.task_started(part.resource_id)
        request = request_of(task.resource_config)  # the parts run inside this one engine task
        if set(request) - {"num_qpus"}:
            handle = submitter.engine.submit_requested(run_split, payload, request)
        else:
            handle = submitter.engine.submit(run_split, payload)
    except BaseException:
        dreamer.budgets.settle(hold, None)
        raise
    others = [p.resource_id for p in plan.parts[1:]]
    settle = settler(dreamer.budgets, hold)

    def finished(future: Any) -> None:
        for rid in others:
            submitter.dreamer.task_finished(rid)
        if settle is not None:
            settle(future)

    submitter.registry.track(handle, task.task_id, plan.parts[0].resource_id, finished)
    return handle
