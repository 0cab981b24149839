"""Running a cut plan: every subexperiment is an ordinary QTAU task, placed by QDREAMER (failover,
budgets, coalescing into backend batches, the journal); the values are reconstructed with each
piece's provenance (which resource ran it, its shots and cost) in the result.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

from qtau.cutting import reconstruct
from qtau.cutting.plan import CutPlan, CutService, plan_cut


@attrs.frozen
class CutPiece:
    """One subexperiment as it ran: its piece, its index there, the task and where it ran."""

    piece: str
    index: int
    task_id: str
    resource_id: str
    executor: str
    shots: int
    cost: float
    currency: str


@attrs.frozen(eq=False)
class CutResult:
    """Expectation values of a (possibly cut) circuit, one per observable, with one standard
    error each (bootstrap over every piece's shots), the plan, and each piece's provenance."""

    values: tuple[float, ...]
    standard_errors: tuple[float, ...]
    plan: CutPlan
    pieces: tuple[CutPiece, ...]
    #: Each subexperiment's QTAU Result (attempts, timings, conversion path), in `pieces`' order.
    results: tuple[Any, ...] = attrs.field(repr=False, default=())

    @property
    def resources(self) -> dict[str, int]:
        """How many subexperiments each resource ran."""
        return dict(Counter(p.resource_id for p in self.pieces))

    @property
    def cost(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for p in self.pieces:
            out[p.currency] = out.get(p.currency, 0.0) + p.cost
        return out

    def __str__(self) -> str:
        vals = ", ".join(f"{v:.4f} +/- {e:.4f}" for v, e in zip(self.values, self.standard_errors, strict=True))
        where = ", ".join(f"{rid} {n}" for rid, n in sorted(self.resources.items()))
        return f"values: {vals}\nran on: {where}\n{self.plan.explain()}"


def run_plan(service: CutService, plan: CutPlan, *, timeout: float | None = None,
             seed: int | None = None) -> CutResult:
    """Submit `plan`'s subexperiments as one batch of QTAU tasks and reconstruct their values."""
    entries = plan.tasks()
    handles = service.submit_quantum_tasks([task for _, _, task in entries])
    results = service.get_results(handles, timeout=timeout)
    counts: dict[Any, list[dict[str, int]]] = {label: [] for label in plan.experiments}
    pieces = []
    for (label, index, task), result in zip(entries, results, strict=True):
        counts[label].append(dict(result.counts))
        pieces.append(CutPiece(str(label), index, task.task_id, result.resource_id, result.executor,
                               result.shots, float(result.cost), result.currency))
    values = reconstruct.values(plan, counts)
    errors = reconstruct.standard_errors(plan, counts, seed=seed)
    return CutResult(tuple(float(v) for v in values), tuple(float(e) for e in errors), plan, tuple(pieces),
                     tuple(results))


def run_cut(service: CutService, circuit: Any, observables: Any, *, shots: int = 4000, cut: Any = "auto",
            timeout: float | None = None, seed: int | None = None) -> CutResult:
    """Expectation values of `observables` on `circuit`, cut when no resource is wide enough.

    `cut` as in `plan_cut`. `shots` per subexperiment. Blocks until every piece is back; a piece
    that fails on every resource QDREAMER tried raises its QtauError (nothing is reconstructed from
    a partial set).
    """
    return run_plan(service, plan_cut(service, circuit, observables, shots=shots, cut=cut),
                    timeout=timeout, seed=seed)
