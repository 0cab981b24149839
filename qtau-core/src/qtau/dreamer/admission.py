"""Budget admission: turn QDREAMER's placements into ones the budgets can pay for, and settle them.

A task whose best resource does not fit what is left goes to the best feasible resource that does
(its constraints still hold: only feasible candidates are considered); failover stays among
resources that cost no more than the one reserved for, in the same pilot budget, so failing over
can never spend past the reservation. When nothing fits, BudgetExceededError (raised before
anything is submitted) names the budget, its spend, its reservations and the cheapest price.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from qtau.dreamer.budget import Hold
from qtau.errors import BudgetExceededError, QtauError
from qtau.types import QuantumTask, Result


def _failovers(budgets: Any, first: Any, rest: Sequence[Any]) -> list[Any]:
    scope = budgets.scope(first.resource.id)
    return [p for p in rest if p.currency == first.currency and p.cost <= first.cost + 1e-12
            and budgets.scope(p.resource.id) == scope]


def admit(dreamer: Any, task: QuantumTask, placements: Sequence[Any]) -> tuple[tuple[Any, ...], Hold | None]:
    """Placements the budgets can pay for, with their hold. The first placement is counted in flight
    (QDREAMER did that); if admission moves the task, the count moves with it."""
    budgets = dreamer.budgets
    first = placements[0]
    if not budgets.active:
        return tuple(placements), None
    try:
        hold = budgets.reserve(task.task_id, [(first.resource.id, first.cost, first.currency)])
        return (first, *_failovers(budgets, first, placements[1:])), hold
    except BudgetExceededError as err:
        over = err
    except QtauError:
        dreamer.task_finished(first.resource.id)
        raise
    try:
        rows = [r for r in dreamer.explain(task).rows if r.feasible and r.resource_id != first.resource.id]
        for row in rows:
            if budgets.shortfall(row.resource_id, row.cost, row.currency) is not None:
                continue
            res, cfg = dreamer.resource_config(row.resource_id)
            chosen = attrs.evolve(first, resource=res, config=cfg, cost=row.cost, currency=row.currency)
            try:
                hold = budgets.reserve(task.task_id, [(row.resource_id, row.cost, row.currency)])
            except BudgetExceededError:
                continue  # another submitter took the money between the check and the reservation
            others = []
            for other in rows:
                if other is row:
                    continue
                ores, ocfg = dreamer.resource_config(other.resource_id)
                others.append(attrs.evolve(first, resource=ores, config=ocfg, cost=other.cost, currency=other.currency))
            dreamer.task_finished(first.resource.id)
            dreamer.task_started(row.resource_id)
            kept = _failovers(budgets, chosen, others)[: max(dreamer.config.max_attempts - 1, 0)]
            return (chosen, *kept), hold
    except QtauError:
        dreamer.task_finished(first.resource.id)
        raise
    dreamer.task_finished(first.resource.id)
    raise over


def admit_split(dreamer: Any, task: QuantumTask, plan: Any) -> Hold | None:
    """Reserve every part of a split at once (all or nothing)."""
    return dreamer.budgets.reserve(task.task_id, [(p.resource_id, p.price, p.currency) for p in plan.parts])


def actual_costs(outcome: Any, hold: Hold) -> Mapping[str, tuple[float, str]] | None:
    """What a finished task cost per resource: billed where the provider reported it, else quoted.

    `outcome` None (the engine only said "done") settles at the quoted prices; a failed task
    releases its hold.
    """
    if outcome is None:
        return {rid: (price, currency) for rid, price, currency, _ in hold.entries}
    if isinstance(outcome, Result):
        if outcome.parts:
            out: dict[str, tuple[float, str]] = {}
            for part in outcome.parts:
                cost, currency = out.get(part.resource_id, (0.0, part.currency))
                out[part.resource_id] = (cost + part.cost, currency)
            return out
        cost = outcome.metadata.get("billed_cost", outcome.cost)
        return {outcome.resource_id: (float(cost), outcome.metadata.get("billed_currency", outcome.currency))}
    return None


def settler(budgets: Any, hold: Hold | None) -> Callable[[Any], None] | None:
    """A done-callback that settles `hold` (None when there is nothing to settle). It takes the
    engine's future, or None where the engine only says "done" (then the quote is spent)."""
    if hold is None:
        return None

    def done(future: Any) -> None:
        outcome = None
        if future is not None:
            try:
                outcome = future.result()
            except BaseException:
                budgets.settle(hold, None)
                return
        budgets.settle(hold, actual_costs(outcome, hold))

    return done
