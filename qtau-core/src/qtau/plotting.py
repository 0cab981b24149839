"""Figures of QTAU's results with matplotlib (`pip install 'qtau-core[plot]'`).

`Result.plot()` calls these, and `Explanation.plot()` draws with them (in
`qtau.dreamer.explanation_plot`); this module imports nothing of QTAU but its errors, so
`qtau.types` can use it. Figures are built with matplotlib's object-oriented `Figure` (no pyplot,
no GUI backend), so they work in scripts, on servers and in notebooks alike; Jupyter shows a returned Figure inline. Pass `path=` to save a PNG (or any format
matplotlib infers from the suffix).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from qtau.errors import ConfigurationError

if TYPE_CHECKING:
    from pathlib import Path

    from matplotlib.figure import Figure


class CountedResult(Protocol):
    """What a counts histogram reads of a `qtau.Result` (this module sits below `qtau.types`)."""

    resource_id: str
    shots: int
    counts: Mapping[str, int]


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
        from pathlib import Path  # here, not at module level: `import qtau` imports this module

        try:
            fig.savefig(Path(path), dpi=110)
        except (OSError, ValueError) as err:
            raise ConfigurationError(
                f"cannot write the plot to {str(path)!r}: {err}", field="path", value=str(path),
                fix="give a writable file path ending in .png (or .svg, .pdf)",
            ) from None
    return fig


def counts_axes(ax: Any, result: CountedResult, title: str | None = None) -> None:
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


def plot_result(result: CountedResult, path: str | Path | None = None, title: str | None = None) -> Figure:
    """A counts histogram of one Result."""
    fig = new_figure()
    counts_axes(fig.add_subplot(), result, title)
    return save(fig, path)


def plot_results(results: Sequence[CountedResult], titles: Sequence[str] | None = None,
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


def short_line(text: str, limit: int = 90) -> str:
    line = str(text).splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
