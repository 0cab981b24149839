"""The figure of a QDREAMER explanation: each feasible candidate's weighted score terms.

`Explanation.plot()` calls `plot_explanation`. The terms are computed with the ranking's own
arithmetic (`qtau.dreamer.terms`), and drawn with `qtau.plotting`'s matplotlib helpers
(`pip install 'qtau-core[plot]'`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtau.dreamer.terms import cheapest_price, cost_units, fidelity_units, speed_units
from qtau.plotting import new_figure, save, short_line

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def score_terms(rows: Sequence[Any], policy: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Each feasible candidate's weighted score terms as halvings behind the best candidate,
    `{resource_id: {"fidelity", "speed", "cost"}}`.

    The same arithmetic as QDREAMER's ranking (qtau.dreamer.terms): each term is -log2 of "best /
    this one" (fidelity points below the best, expected completion, price), times its weight; the
    row's score is 2 ** -(their sum) times its penalty.
    """
    feasible = [r for r in rows if r.feasible]
    best = max((r.fidelity for r in feasible), default=1.0)
    fastest = min((r.wait_s for r in feasible), default=0.0)
    cheapest = cheapest_price([r.cost for r in feasible])
    return {
        r.resource_id: {
            "fidelity": policy.get("fidelity", 0.0) * fidelity_units(r.fidelity, best),
            "speed": policy.get("speed", 0.0) * speed_units(r.wait_s, fastest),
            "cost": policy.get("cost", 0.0) * cost_units(r.cost, cheapest),
        }
        for r in feasible
    }


def plot_explanation(explanation: Any, path: str | Path | None = None) -> Figure:
    """Stacked bars of each feasible candidate's weighted score terms (halvings behind the best),
    best first; rejected candidates are listed under the chart with their reasons."""
    terms = score_terms(explanation.rows, explanation.policy)
    names = list(terms)
    rejected = [r for r in explanation.rows if not r.feasible]
    fig = new_figure(9.0, 1.4 + 0.45 * max(len(names), 1) + 0.22 * len(rejected))
    ax = fig.add_subplot()
    colours = {"fidelity": "#3b6ea5", "speed": "#e07b39", "cost": "#5aa469"}
    left = [0.0] * len(names)
    for term, colour in colours.items():
        widths = [terms[n][term] for n in names]
        ax.barh(names, widths, left=left, color=colour, label=f"{term} (weight {explanation.policy.get(term, 0):.2f})")
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlim(0, max(1.0, max(left, default=0.0)) * 1.02)
    ax.set_xlabel("weighted halvings behind the best (score = 2 ** -total x penalty; 0 = best on every term)")
    ax.set_title(f"QDREAMER ranking for task {explanation.task_id}")
    if names:
        fig.legend(loc="outside right upper", fontsize="small")
    if rejected:
        lines = [f"rejected {r.resource_id}: {short_line(r.reason)}" for r in rejected]
        fig.supxlabel("\n".join(lines), fontsize="small", ha="left", x=0.01)
    return save(fig, path)
