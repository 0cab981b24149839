"""Figures of QTAU's results with matplotlib (`pip install 'qtau-core[plot]'`).

`Result.plot()` and `Explanation.plot()` call these. Figures are built with matplotlib's
object-oriented `Figure` (no pyplot, no GUI backend), so they work in scripts, on servers and in
notebooks alike; Jupyter shows a returned Figure inline. Pass `path=` to save a PNG (or any format
matplotlib infers from the suffix).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtau.errors import ConfigurationError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from qtau.types import Result

#: A histogram shows at most this many outcomes (the most frequent); the title says how many were left out.
MAX_BARS = 64


def new_figure(width: float = 7.0, height: float = 4.0) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ConfigurationError(
            "plots need matplotlib", field="plot", value="matplotlib",
            fix="pip install 'qtau-core[plot]'",
        ) from None
    _show_inline_in_ipython(Figure)
    return Figure(figsize=(width, height), layout="constrained")


def _show_inline_in_ipython(figure_class: type) -> None:
    """In IPython/Jupyter, display a returned Figure as a PNG (what `%matplotlib inline` does for
    pyplot figures; ours are built without pyplot, so nothing else registers them)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    if figure_class not in formatter.type_printers:
        from IPython.core.pylabtools import print_figure

        formatter.for_type(figure_class, lambda fig: print_figure(fig, "png"))


def save(fig: Figure, path: str | Path | None) -> Figure:
    """Write `fig` to `path` when given; a path that cannot be written is a ConfigurationError."""
    if path is not None:
        try:
            fig.savefig(Path(path), dpi=110)
        except (OSError, ValueError) as err:
            raise ConfigurationError(
                f"cannot write the plot to {str(path)!r}: {err}", field="path", value=str(path),
                fix="give a writable file path ending in .png (or .svg, .pdf)",
            ) from None
    return fig


def counts_axes(ax: Any, result: Result, title: str | None = None) -> None:
    """Draw a counts histogram of `result` on `ax`, with QTAU's bit order in the axis label."""
    counts = dict(result.counts)
    keys = sorted(counts, key=lambda k: -counts[k])[:MAX_BARS]
    keys.sort()
    left_out = len(counts) - len(keys)
    ax.bar(range(len(keys)), [counts[k] for k in keys], color="#3b6ea5")
    ax.set_xticks(range(len(keys)), keys, rotation=90 if len(keys) > 8 or any(len(k) > 6 for k in keys) else 0,
                  fontfamily="monospace")
    width = max((len(k) for k in keys), default=0)
    order = f"c{width - 1}…c0" if width > 1 else "c0"
    ax.set_xlabel(f"outcome: classical bits {order}, bit 0 rightmost (an X on qubit 0 measured to c0 reads ...1)")
    ax.set_ylabel("counts")
    heading = title or f"{result.resource_id} · {result.shots} shots"
    if left_out:
        heading += f" ({left_out} rarer outcomes not shown)"
    ax.set_title(heading)


def plot_result(result: Result, path: str | Path | None = None, title: str | None = None) -> Figure:
    """A counts histogram of one Result."""
    fig = new_figure()
    counts_axes(fig.add_subplot(), result, title)
    return save(fig, path)


def plot_results(results: Sequence[Result], titles: Sequence[str] | None = None,
                 path: str | Path | None = None) -> Figure:
    """One counts histogram per Result, stacked (what `qtau run --plot` writes)."""
    if not results:
        raise ConfigurationError("there are no results to plot", field="results", value=[],
                                 fix="run at least one task successfully before plotting")
    fig = new_figure(7.0, 3.6 * len(results))
    axes = fig.subplots(len(results), 1, squeeze=False)[:, 0]
    for i, (ax, result) in enumerate(zip(axes, results, strict=True)):
        counts_axes(ax, result, titles[i] if titles else None)
    return save(fig, path)


def score_terms(rows: Sequence[Any], policy: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Each feasible candidate's weighted score terms as halvings behind the best candidate,
    `{resource_id: {"fidelity", "speed", "cost"}}`.

    The same arithmetic as QDREAMER's ranking (qtau.dreamer.ranking): each term is -log2 of "best /
    this one" (fidelity points below the best, expected completion, price), times its weight; the
    row's score is 2 ** -(their sum) times its penalty.
    """
    from qtau.dreamer.ranking import cheapest_price, cost_units, fidelity_units, speed_units

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
        lines = [f"rejected {r.resource_id}: {_short(r.reason)}" for r in rejected]
        fig.supxlabel("\n".join(lines), fontsize="small", ha="left", x=0.01)
    return save(fig, path)


def plot_matrix(values: Mapping[tuple[str, str], float], row_label: str, column_label: str,
                title: str, path: str | Path | None = None) -> Figure:
    """A heat map of `{(row, column): value}` with each value written in its cell; missing cells
    are blank (e.g. TVD per backend x input format, as examples/test_all_quantum_backends.py --plot)."""
    rows = sorted({r for r, _ in values})
    columns = sorted({c for _, c in values})
    grid = [[values.get((r, c), math.nan) for c in columns] for r in rows]
    fig = new_figure(1.6 + 1.3 * len(columns), 1.2 + 0.4 * len(rows))
    ax = fig.add_subplot()
    image = ax.imshow(grid, cmap="viridis_r", aspect="auto", vmin=0.0)
    ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel(column_label)
    ax.set_ylabel(row_label)
    ax.set_title(title)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if not math.isnan(value):
                ax.text(j, i, f"{value:.3f}", ha="center", va="center", fontsize="small", color="white")
    fig.colorbar(image, ax=ax)
    return save(fig, path)


def _short(text: str, limit: int = 90) -> str:
    line = str(text).splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
