"""`Explanation`: the ranked table QDREAMER built for a task, as data that prints.

Below the ranking: the estimated fidelity per optimisation level of each resource whose plugin
weighs them (`qtau_optimisation_levels`), the chosen level marked, then a mitigated task's
(resource, technique) pairs."""

from __future__ import annotations

from typing import Any

import attrs

from qtau.dreamer.explanation_plot import plot_explanation
from qtau.dreamer.ranking import Row
from qtau.render_html import explanation_html
from qtau.tables import render

HEAD = ("rank", "resource", "feasible", "fidelity", "wait_s", "run_s (source, error)", "cost", "in_flight",
        "penalty", "score", "path / reason")


@attrs.frozen
class Explanation:
    """Every candidate QDREAMER weighed for a task, best first, then the rejected with reasons."""

    task_id: str
    policy: dict[str, float]
    rows: tuple[Row, ...]
    circuit_format: str | None = None
    #: A mitigated task's (resource, technique) pairs (`qtau.mitigation.choice.PairTable`), else None.
    pairs: Any = None

    @property
    def chosen(self) -> Row | None:
        return self.rows[0] if self.rows and self.rows[0].feasible else None

    def to_dicts(self) -> list[dict[str, Any]]:
        return [attrs.asdict(r) for r in self.rows]

    def plot(self, path: str | None = None) -> Any:
        """Each candidate's weighted score terms (a matplotlib Figure; `qtau-core[plot]`), saved to `path` if given."""
        return plot_explanation(self, path)

    def _repr_html_(self) -> str:
        return explanation_html(self)

    def __str__(self) -> str:
        cells = []
        for i, r in enumerate(self.rows, 1):
            why = " -> ".join(r.path) if r.feasible else r.reason
            if r.note:
                why = f"{why}; {r.note}"
            cells.append((
                str(i), r.resource_id, "yes" if r.feasible else "no", f"{r.fidelity:.4f}", f"{r.wait_s:.3g}",
                f"{r.run_s:.3g} ({r.run_source})", f"{r.cost:.4g} {r.currency}", str(r.in_flight), "-" if r.penalty == 1.0 else f"x{r.penalty:g}",
                f"{r.score:.4f}", why,
            ))
        policy = ", ".join(f"{k}={v:.2f}" for k, v in self.policy.items())
        parts = [render(HEAD, cells, f"QDREAMER ranking for task {self.task_id} (weights: {policy})")]
        levels = self.levels_table()
        if levels:
            parts.append(levels)
        if self.pairs is not None:
            parts.append(str(self.pairs))
        return "\n\n".join(parts)

    def levels_table(self) -> str:
        """Each weighed resource's estimated fidelity per optimisation level ("*" marks the level
        its run uses, whose estimate is the ranking's fidelity); empty when no plugin weighed any."""
        weighed = [r for r in self.rows if r.levels is not None]
        if not weighed:
            return ""
        names = sorted({k for r in weighed for k, _ in r.levels.estimated_fidelity})
        head = ("resource", *(f"level {k}" for k in names), "chosen", "how")
        cells = []
        for r in weighed:
            by = r.levels.by_level
            cells.append((r.resource_id, *(("-" if k not in by else f"{by[k]:.4f}" + ("*" if k == r.levels.chosen else ""))
                                           for k in names), str(r.levels.chosen), r.levels.note))
        return render(head, cells, f"estimated fidelity per optimisation level for task {self.task_id}")
