"""HTML tables for Jupyter: what `_repr_html_` of Result, Explanation, pilots and cache info returns.

Plain HTML from the standard library (every value escaped), no CSS framework and no imports
beyond `html`, so notebooks show QTAU's objects as tables at no cost to `import qtau`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px"
_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], caption: str = "") -> str:
    """An HTML table with an optional caption; every cell is escaped."""
    out = [f'<table style="{_STYLE}">']
    if caption:
        out.append(f'<caption style="text-align:left;font-weight:bold">{html.escape(caption)}</caption>')
    out.append("<tr>" + "".join(f'<th style="{_CELL}">{html.escape(str(h))}</th>' for h in header) + "</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f'<td style="{_CELL}">{html.escape(str(c))}</td>' for c in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def mapping_table(values: Mapping[str, Any], caption: str = "") -> str:
    return table(("field", "value"), values.items(), caption)


def result_html(result: Any) -> str:
    """Summary fields, then the counts (bit 0 rightmost), most frequent first."""
    timings = result.timings
    summary = {
        "task": result.task_id,
        "resource": result.resource_id,
        "executor": result.executor,
        "shots": result.shots,
        "ran": f"{timings.ran_s * 1000:.1f} ms" if timings else "-",
        "cost": f"{result.cost:g} {result.currency}",
        "attempts": " → ".join(f"{a.resource_id} ({'ok' if a.ok else a.error_type})" for a in result.attempts) or "-",
        "conversion": " → ".join(result.conversion_path) or "-",
    }
    if result.values is not None:
        summary["values"] = result.values
    total = sum(result.counts.values()) or 1
    counts = sorted(result.counts.items(), key=lambda kv: -kv[1])
    return (mapping_table(summary, "QTAU Result")
            + table(("outcome (bit 0 rightmost)", "count", "probability"),
                    ((k, n, f"{n / total:.4f}") for k, n in counts)))


def explanation_html(explanation: Any) -> str:
    """QDREAMER's ranked table with every term, as `str(explanation)` shows it in text."""
    policy = ", ".join(f"{k}={v:.2f}" for k, v in explanation.policy.items())
    header = ("rank", "resource", "feasible", "fidelity", "wait_s", "cost", "in_flight", "penalty", "score",
              "path / reason")
    rows = []
    for i, r in enumerate(explanation.rows, 1):
        why = " -> ".join(r.path) if r.feasible else r.reason
        if r.note:
            why = f"{why}; {r.note}"
        rows.append((i, r.resource_id, "yes" if r.feasible else "no", f"{r.fidelity:.4f}", f"{r.wait_s:.3g}",
                     f"{r.cost:.4g} {r.currency}", r.in_flight, "-" if r.penalty == 1.0 else f"x{r.penalty:g}",
                     f"{r.score:.4f}", why))
    return table(header, rows, f"QDREAMER ranking for task {explanation.task_id} (weights: {policy})")


def pilot_html(pilot: Any) -> str:
    """A pilot's name, executor, state and resources (never its description: it may hold secrets)."""
    rows = [(r.id, r.kind, r.num_qubits, ", ".join(r.circuit_formats)) for r in pilot.resources]
    return (mapping_table({"pilot": pilot.name, "executor": pilot.executor, "state": pilot.state},
                          "QTAU pilot")
            + table(("resource", "kind", "qubits", "formats"), rows))


def cache_info_html(info: Mapping[str, Any]) -> str:
    """`get_cache_info()`: the counters, then one row per cached report."""
    counters = {k: v for k, v in info.items() if k not in ("entries", "in_flight")}
    if "hit_rate" in counters:
        counters["hit_rate"] = f"{counters['hit_rate']:.1%}"
    in_flight = ", ".join(f"{rid}: {n}" for rid, n in (info.get("in_flight") or {}).items()) or "-"
    entries = (info.get("entries") or {}).values()
    return (mapping_table({**counters, "in_flight": in_flight}, "QDREAMER cache")
            + table(("resource", "report", "age_seconds", "fresh"),
                    ((e["resource"], e["kind"], e["age_seconds"], e["fresh"]) for e in entries)))
