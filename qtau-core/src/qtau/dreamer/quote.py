"""Quotes: what tasks would cost, how long they would wait and how well they would run, before
anything is submitted.

    quote = pcs.quote([task_a, task_b])       # or one task
    print(quote)                              # plain table; quote in a notebook renders as HTML
    quote.totals                              # {"USD": 12.6}: overall, per currency, never mixed
    quote.to_dict()                           # plain values (what `qtau quote --json` prints)

For each task: every candidate's price (for the task's shots and, on time-billed devices, its
circuit's duration), expected wait, estimated fidelity, score and where the price comes from
(provider API, shipped table and its date, or user override); the resource QDREAMER would
choose now under the current policy and budgets (a split task lists its parts). Each task is
quoted as if submitted alone now: quoting changes no in-flight count and reserves no money.
Totals add the chosen resources' prices per resource and per currency.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from qtau.backend import OFFLINE
from qtau.errors import InvalidTaskError, NoSuitableResourceError, QtauError
from qtau.types import QuantumTask


@attrs.frozen
class QuoteLine:
    """One candidate for one task."""

    resource_id: str
    executor: str
    feasible: bool
    reason: str
    price: float
    currency: str
    wait_s: float
    fidelity: float
    score: float
    origin: str = ""
    source: str = ""
    as_of: str = ""
    #: False when the price does not fit a budget's money left now.
    affordable: bool = True
    #: Built from the plugin's shipped data (no credentials): queue and noise unknown, so the wait
    #: is the run time alone and the fidelity is not estimated.
    offline: bool = False


@attrs.frozen
class TaskQuote:
    """One task: its candidates best first, and the choice (None with `problem` when none)."""

    task_id: str
    shots: int
    lines: tuple[QuoteLine, ...]
    chosen: str | None
    price: float
    currency: str
    wait_s: float
    #: A split task's parts (`qtau.split.PartPlan`: resource id, shots, price, currency, expected seconds).
    parts: tuple[Any, ...] = ()
    problem: str = ""


@attrs.frozen
class ResourceTotal:
    resource_id: str
    tasks: int
    shots: int
    price: float
    currency: str


def _line_row(line: QuoteLine) -> tuple[str, ...]:
    src = {"table": f"table {line.as_of}".strip(), "provider": "provider API", "override": "user override",
           "free": "free"}.get(line.origin, line.origin or "-")
    if line.offline:
        src += " (offline)"
    return (line.resource_id, "yes" if line.feasible else "no", f"{line.price:.4g} {line.currency}",
            f"{line.wait_s:.3g}" + ("+queue?" if line.offline else ""),
            "unknown" if line.offline else f"{line.fidelity:.4f}", f"{line.score:.3f}" if line.feasible else "-",
            src + ("" if line.affordable else "; over budget"), "" if line.feasible else line.reason)


def _table(rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return [indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


@attrs.frozen
class Quote:
    """Prices, waits and fidelities of tasks before submission: data, printable, notebook-ready."""

    tasks: tuple[TaskQuote, ...]
    policy: dict[str, float]
    resources: tuple[ResourceTotal, ...]
    totals: dict[str, float]
    budgets: dict[str, Any] = attrs.field(factory=dict)
    warnings: tuple[str, ...] = ()
    #: executor -> where its resources and reports came from ("live: ..." or "offline: ...").
    sources: dict[str, str] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        head = ("resource", "feasible", "price", "wait_s", "fidelity", "score", "price source", "why not")
        out = [f"QTAU quote: {len(self.tasks)} task(s), policy "
               + ", ".join(f"{k}={v:.2f}" for k, v in self.policy.items())]
        out.extend(f"source of {executor}: {source}" for executor, source in self.sources.items())
        shown = {}
        for tq in self.tasks:
            key = (tq.lines, tq.chosen, tq.parts)
            if key in shown:
                out.append(f"task {tq.task_id}: same as task {shown[key]}")
                continue
            shown[key] = tq.task_id
            choice = (f"chosen {tq.chosen}: {tq.price:.4g} {tq.currency}, wait {tq.wait_s:.3g} s"
                      if tq.chosen else f"no resource: {tq.problem}")
            out.append(f"task {tq.task_id} ({tq.shots} shots): {choice}")
            for part in tq.parts:
                out.append(f"    part {part.resource_id}: {part.shots} shots, {part.price:.4g} {part.currency}, "
                           f"expected {part.expected_s:.3g} s")
            out.extend(_table([head, *(_line_row(x) for x in tq.lines)], "    "))
        out.append("totals by resource:")
        rows = [("resource", "tasks", "shots", "price")]
        rows += [(r.resource_id, str(r.tasks), str(r.shots), f"{r.price:.4g} {r.currency}") for r in self.resources]
        out.extend(_table(rows))
        out.append("total: " + (", ".join(f"{v:.4g} {c}" for c, v in sorted(self.totals.items())) or "0"))
        for name, b in self.budgets.items():
            out.append(f"{name} budget: {b['left']:.4g} of {b['limit']:.4g} {b['currency']} left "
                       f"(spent {b['spent']:.4g}, reserved {b['reserved']:.4g})")
        out.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(out)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = ("task", "resource", "feasible", "price", "wait (s)", "fidelity", "score", "price source", "why not")
        parts = ["<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead><tbody>"]
        for tq in self.tasks:
            for line in tq.lines:
                cells = _line_row(line)
                bold = line.resource_id == tq.chosen
                tds = [tq.task_id, *cells[:1], *cells[1:]]
                parts.append("<tr>" + "".join(
                    f"<td><b>{esc(c)}</b></td>" if bold else f"<td>{esc(c)}</td>" for c in tds) + "</tr>")
        parts.append("</tbody></table>")
        total = ", ".join(f"{v:.4g} {c}" for c, v in sorted(self.totals.items())) or "0"
        parts.append(f"<p>Total: <b>{esc(total)}</b> over {len(self.tasks)} task(s); chosen rows in bold.</p>")
        parts.extend(f"<p>Warning: {esc(w)}</p>" for w in self.warnings)
        return "".join(parts)


def _task_key(dreamer: Any, task: QuantumTask, shapes: dict[int, tuple]) -> tuple:
    """Tasks with equal keys get equal quotes: same circuit shape, shots, constraints and policy.
    `shapes` remembers each circuit object's shape for the length of one quote."""
    hit = shapes.get(id(task.circuit))
    if hit is not None and hit[0] is task.circuit and hit[1] == task.circuit_format:
        shape = hit[2]
    else:
        summary, fmt = dreamer.summarize(task)
        shape = (fmt, summary.num_qubits, tuple(sorted(summary.gate_counts.items())), summary.depth,
                 summary.num_measured, summary.mid_circuit_measurement, summary.classical_control,
                 summary.returns_values)
        shapes[id(task.circuit)] = (task.circuit, task.circuit_format, shape)
    policy = task.policy if not isinstance(task.policy, Mapping) else tuple(sorted(task.policy.items()))
    return (shape, task.shots, task.gate_set, task.num_qubits, task.max_cost, task.min_fidelity, task.deadline,
            policy, task.split)


def quote_tasks(dreamer: Any, tasks: QuantumTask | Iterable[QuantumTask], plan_split: Callable[..., Any],
                deadline_split: Callable[..., Any]) -> Quote:
    """The Quote for `tasks` on `dreamer`'s resources, now. Submits nothing, reserves nothing.

    `plan_split(dreamer, task)` and `deadline_split(dreamer, task, missed)` are the service's split
    planners (`qtau.split`), given by the caller: QDREAMER sits below the service's layer.
    """
    if isinstance(tasks, QuantumTask):
        tasks = [tasks]
    tasks = list(tasks)
    for task in tasks:
        if not isinstance(task, QuantumTask):
            raise InvalidTaskError(
                f"quote takes QuantumTasks, not {type(task).__name__}", field="tasks",
                value=type(task).__name__, fix="wrap the circuit: QuantumTask(circuit=qc)",
            )
    budgets = dreamer.budgets
    cands = dreamer.candidates()
    memo: dict[tuple, tuple] = {}
    shapes: dict[int, tuple] = {}
    quoted = []
    for task in tasks:
        key = _task_key(dreamer, task, shapes)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = _quote_one(dreamer, task, cands, budgets, plan_split, deadline_split)
        lines, chosen, price, currency, wait, parts, problem = hit
        quoted.append(TaskQuote(task.task_id, task.shots, lines, chosen, price, currency, wait, parts, problem))
    per_resource: dict[str, list] = {}
    totals: dict[str, float] = {}
    for tq in quoted:
        spread = [(p.resource_id, p.shots, p.price, p.currency) for p in tq.parts] or (
            [(tq.chosen, tq.shots, tq.price, tq.currency)] if tq.chosen else [])
        for rid, shots, price, currency in spread:
            entry = per_resource.setdefault(rid, [0, 0, 0.0, currency])
            entry[0] += 1
            entry[1] += shots
            entry[2] += price
            totals[currency] = totals.get(currency, 0.0) + price
    resources = tuple(ResourceTotal(rid, n, s, p, c) for rid, (n, s, p, c) in sorted(per_resource.items()))
    info = budgets.info()
    warnings = [f"task {tq.task_id}: {tq.problem}" for tq in quoted if tq.problem]
    for name, b in info.items():
        total = sum(v if c == b["currency"] else v * b["rates"].get(c, float("nan")) for c, v in totals.items())
        if total != total:
            warnings.append(f"the {name} budget is in {b['currency']} and has no rate for every currency quoted")
        elif total > b["left"] + 1e-12:
            warnings.append(f"together these tasks cost {total:.4g} {b['currency']}, more than the {name} "
                            f"budget has left ({b['left']:.4g})")
    return Quote(tuple(quoted), dict(dreamer.weights(tasks[0]) if tasks else dreamer.config.weights), resources,
                 totals, info, tuple(warnings))


def _quote_one(dreamer: Any, task: QuantumTask, cands: Mapping[str, Any], budgets: Any, plan_split: Any,
               deadline_split: Any) -> tuple:
    rows = list(dreamer.explain(task).rows)
    lines = []
    for row in rows:
        cand = cands.get(row.resource_id)
        cost = cand.cost if cand is not None else None
        affordable = budgets.shortfall(row.resource_id, row.cost, row.currency) is None if budgets.active else True
        lines.append(QuoteLine(
            row.resource_id, row.executor, row.feasible, row.reason, row.cost, row.currency, row.wait_s,
            row.fidelity, row.score, cost.origin if cost else "", cost.source if cost else "",
            cost.as_of if cost else "", affordable,
            bool(cand is not None and cand.resource.metadata.get(OFFLINE)),
        ))
    lines_t = tuple(lines)
    problem = ""
    try:
        plan = plan_split(dreamer, task) if task.split else None
        if plan is None and task.deadline is not None and not any(r.feasible for r in rows):
            plan = deadline_split(dreamer, task, NoSuitableResourceError("no resource meets the deadline",
                                                                         rejections={}))
    except QtauError as err:
        plan = None
        problem = str(err).splitlines()[0]
    if plan is not None:
        parts = plan.parts
        return lines_t, "+".join(p.resource_id for p in parts), plan.price, plan.currency, plan.expected_s, parts, ""
    for line in lines:
        if line.feasible and line.affordable:
            return lines_t, line.resource_id, line.price, line.currency, line.wait_s, (), problem
    if not problem:
        problem = ("no feasible resource fits the budget left" if any(x.feasible for x in lines)
                   else "every candidate was rejected (see each line's reason)")
    return lines_t, None, 0.0, "USD", 0.0, (), problem
