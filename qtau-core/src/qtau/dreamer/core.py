"""QDREAMER: chooses a resource for each task among every pilot's resources, and says why.

Decisions are made in the driver, once per task, with the user's configuration; workers only
execute the ranked placements they are given (the tail of the ranking is the failover order).
In-flight work per resource feeds expected wait, so a burst spreads over equally good resources.

A decision reads a snapshot of every candidate's cached reports, valid until the first of them
expires (or a refresh, a new pilot or a failure changes one), and a plan per task shape built
from it; so with a warm cache a decision is arithmetic over in-flight counts, not provider calls.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

import attrs

from qtau import validation
from qtau.backend import OFFLINE
from qtau.circuits import Circuits, missing_path_hint, shape_key
from qtau.dreamer.budget import Budgets
from qtau.dreamer.cache import KINDS, ProviderCache
from qtau.dreamer.candidates import Candidate, Shape, calibrated_price, same_but_queues
from qtau.dreamer.config import DreamerConfig, weights_for
from qtau.dreamer.explanation import Explanation
from qtau.dreamer.lateness import Lateness
from qtau.dreamer.levels import asker
from qtau.dreamer.prices import apply_override
from qtau.dreamer.ranking import Bursts, Plan
from qtau.dreamer.runtime_model import RuntimeEstimate, RuntimeModels, shared_models
from qtau.dreamer.terms import run_seconds
from qtau.dreamer.wait_model import WaitModel, default_path
from qtau.errors import InvalidTaskError, NoSuitableResourceError, QtauError
from qtau.mitigation.calibration import STORE as CALIBRATIONS
from qtau.mitigation.choice import rank_pairs
from qtau.mitigation.overhead import declared
from qtau.payloads import CONVERSION_REFUSED, Placement
from qtau.plugins import PluginHost
from qtau.resource_limits import common_breach
from qtau.types import Attempt, CircuitSummary, QuantumTask, Resource, Result

log = logging.getLogger("qtau.dreamer")

#: Shots at which cost estimates are fetched; totals for other shot counts come from the rates.
REFERENCE_SHOTS = 1000


#: Plans kept per snapshot (one per task shape); a workload of many shapes starts over past this.
MAX_PLANS = 256
#: Placed tasks whose shape is kept until their result teaches the run-time model.
MAX_PENDING_SHAPES = 100_000


@attrs.frozen
class ReportFailure:
    """A report the provider failed to give, cached like an answer so it is not asked every task."""

    message: str


@attrs.define
class _Snapshot:
    candidates: list[Candidate]
    lookups: int
    valid_until: float
    cache_version: int
    version: int
    plans: dict[tuple, Plan] = attrs.field(factory=dict)
    #: The previous snapshot's plans when only queues changed since: reused with the new queues.
    earlier: dict[tuple, Plan] = attrs.field(factory=dict)


def other_readers(paths: list, top: list[tuple], scored: list[tuple]) -> list[tuple]:
    """The best of `scored` (items of `Plan.scored`, by candidate index) for each conversion path
    that `top` lacks, best first; none when a resource in `top` takes the circuit as it is
    (a one-step path: nothing to convert, so no reader to refuse it)."""
    have = {paths[item[2]] for item in top}
    if any(len(path) < 2 for path in have):
        return []
    out = []
    for item in sorted(scored):
        path = paths[item[2]]
        if path not in have:
            have.add(path)
            out.append(item)
    return out


class QDreamer:
    """Ranks resources, caches provider reports, tracks in-flight work and recent failures."""

    def __init__(
        self, host: PluginHost, circuits: Circuits, config: DreamerConfig | None = None, *,
        clock: Callable[[], float] | None = None, runtime: RuntimeModels | None = None,
    ) -> None:
        self.host = host
        #: Learned run times (dreamer/runtime_model.py): by default the process's store, persisted
        #: in the per-user cache, so every service learns from what the others saw.
        self.runtime = runtime if runtime is not None else shared_models()
        #: task id -> (summary, shots, circuit format, the run estimate the ranking used for each
        #: resource of its failover order) of placed tasks, until their result is learned from
        self._shapes: OrderedDict[str, tuple[CircuitSummary, int, str | None, dict[str, RuntimeEstimate | None]]] = \
            OrderedDict()
        #: Burst sizes by plan key, kept across the plans a changed report rebuilds (`Bursts`).
        self._bursts: dict[tuple, Bursts] = {}
        self.circuits = circuits
        self.config = config or DreamerConfig()
        self.clock = clock or time.monotonic
        self.cache = ProviderCache(self.config.cache_ttl_seconds, clock=self.clock)
        self._pool: dict[str, tuple[Resource, dict[str, Any]]] = {}
        self._pilot_of: dict[str, str] = {}
        #: Price overrides from pilot descriptions, by resource id (see dreamer/prices.py).
        self._prices: dict[str, dict[str, Any]] = {}
        #: Service and pilot budgets; the service shares one Budgets across re-initialisations.
        self.budgets = Budgets()
        self._in_flight: dict[str, int] = {}
        #: When this service's in-flight tasks were expected to complete (see dreamer/lateness.py).
        self.lateness = Lateness()
        #: How late tasks on each remote resource end, learned (see dreamer/wait_model.py): per
        #: user on the real clock, in memory on an injected (simulated) one.
        self.waits = WaitModel(default_path() if clock is None else None, time.time if clock is None else self.clock)
        #: resource id -> in-flight tasks when its status was last fetched (see terms.provider_wait)
        self._in_flight_at_status: dict[str, int] = {}
        #: resource id -> (consecutive failures, clock time of the last, its attempt's end time)
        self._failures: dict[str, tuple[int, float, float]] = {}
        self._seen_failures: OrderedDict[Attempt, None] = OrderedDict()
        self._summaries: OrderedDict[tuple, tuple[CircuitSummary, str | None, tuple, Any]] = OrderedDict()
        self._paths: dict[tuple[str | None, tuple[str, ...]], tuple[str, ...] | None] = {}
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._decide_lock = threading.Lock()
        self._version = 0
        self._snap: _Snapshot | None = None
        self.decisions = 0
        #: task id -> the Explanation its placement was decided by (None: not kept; see remember_decisions)
        self._decided: OrderedDict[str, Explanation] | None = None
        self._decided_limit = 0

    # -- candidates ------------------------------------------------------------------------------

    def add_resources(self, resources: list[Resource], config: Mapping[str, Any], pilot: str = "",
                      prices: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Make a pilot's resources candidates (ids are unique across pilots: see qtau.pilots);
        `prices` are the pilot description's validated price overrides by resource id."""
        with self._lock:
            for res in resources:
                self._pool[res.id] = (res, dict(config))
                self._pilot_of[res.id] = pilot
                self._in_flight.setdefault(res.id, 0)
                if res.metadata.get("twin_of"):
                    self.runtime.twin(res.id, res.metadata["twin_of"])
                if prices and res.id in prices:
                    self._prices[res.id] = dict(prices[res.id])
            self._version += 1

    def resource_config(self, resource_id: str) -> tuple[Resource, dict[str, Any]]:
        """A candidate resource and the pilot config its executor needs."""
        return self._pool[resource_id]

    def candidates(self) -> dict[str, Candidate]:
        """Every resource with its current reports (status, noise, cost), as ranking sees them."""
        return {cand.resource.id: cand for cand in self._snapshot().candidates}

    def budget_info(self) -> dict[str, Any]:
        """Every budget: currency, limit, spent, reserved, left (empty when none is set)."""
        return self.budgets.info()

    @property
    def resources(self) -> list[Resource]:
        return [res for res, _ in self._pool.values()]

    def _fetcher(self, res: Resource, config: dict, kind: str) -> Callable[[], Any]:
        args: tuple = (res, config, REFERENCE_SHOTS) if kind == "cost" else (res, config)
        if kind != "cost" and res.metadata.get(OFFLINE):
            # Built from shipped data for a quote: the provider is not asked (no credentials).
            return lambda: None

        def fetch() -> Any:
            if kind == "status":
                self._in_flight_at_status[res.id] = self._in_flight.get(res.id, 0)
            try:
                return self.host.on_backend(res.provider, kind, *args)
            except QtauError as err:
                return ReportFailure(f"{type(err).__name__}: {err}"[:300])

        return fetch

    def _fetchers(self) -> dict[tuple[str, str], Callable[[], Any]]:
        return {
            (rid, kind): self._fetcher(res, cfg, kind)
            for rid, (res, cfg) in list(self._pool.items())
            for kind in KINDS
        }

    def _fresh(self, snap: _Snapshot) -> bool:
        return (snap.version == self._version and snap.cache_version == self.cache.version
                and self.clock() < snap.valid_until)

    def _snapshot(self) -> _Snapshot:
        """Every candidate with its reports; rebuilt (asking only for expired reports) when stale."""
        snap = self._snap
        if snap is None or not self._fresh(snap):
            with self._build_lock:
                snap = self._snap
                if snap is None or not self._fresh(snap):
                    self._snap = snap = self._build()
                    return snap
        self.cache.count_hits(snap.lookups)
        return snap

    def _build(self) -> _Snapshot:
        # Versions are read first: a change made while building makes the next decision rebuild.
        version, cache_version = self._version, self.cache.version
        ttl = self.cache.ttl
        valid_until = math.inf
        found = []
        for rid, (res, cfg) in list(self._pool.items()):
            reports: dict[str, Any] = {}
            failed = []
            for kind in KINDS:
                value, at = self.cache.lookup(rid, kind, self._fetcher(res, cfg, kind))
                valid_until = min(valid_until, at + ttl)
                if isinstance(value, ReportFailure):
                    failed.append(f"{kind} report failed: {value.message}")
                    value = None
                reports[kind] = value
            if rid in self._prices:
                reports["cost"] = apply_override(reports["cost"], rid, self._prices[rid])
            penalty = 1.0
            failures = self._failures.get(rid)
            if failures is not None:
                ends = failures[1] + self.config.failure_cooldown_seconds
                if self.clock() < ends:
                    penalty = self.config.failure_penalty ** failures[0]
                    valid_until = min(valid_until, ends)
            found.append(Candidate(res, cfg, reports["status"], reports["noise"], reports["cost"], penalty,
                                   "; ".join(failed), self._in_flight_at_status.get(rid, 0)))
        snap = _Snapshot(found, len(KINDS) * len(found), valid_until, cache_version, version)
        old = self._snap
        if old is not None and same_but_queues(old.candidates, found):
            snap.earlier = {**old.earlier, **old.plans} if len(old.earlier) < MAX_PLANS else dict(old.plans)
        return snap

    def _path(self, fmt: str | None, res: Resource) -> tuple[str, ...] | None:
        if fmt is None:
            # A circuit function: its format is known only once it runs on the worker.
            return ("(circuit function)",) if res.circuit_formats else None
        key = (fmt, res.circuit_formats)
        if key not in self._paths:
            self._paths[key] = self.circuits.path_names(fmt, res.circuit_formats)
        return self._paths[key]

    def _path_hint(self, fmt: str | None, res: Resource) -> str:
        return missing_path_hint(fmt or "", res.circuit_formats, self.circuits.graph)

    # -- circuits --------------------------------------------------------------------------------

    def _summary(self, task: QuantumTask) -> tuple[CircuitSummary, str | None, tuple]:
        """Width and gate counts for scoring, read from the circuit when it is an object we know.

        Cached by `qtau.circuits.shape_key` (content read cheaply, never by `id()` alone): a circuit
        mutated after one submission is summarised as it is now.
        """
        circuit = task.circuit
        content = shape_key(circuit)
        if content is not None:
            hit = self._summaries.get((content, task.circuit_format))
            if hit is not None and (isinstance(circuit, str) or hit[3] is circuit):
                return hit[:3]
        fmt = task.circuit_format
        if fmt is None:
            if isinstance(circuit, str):
                fmt = self.circuits.detect(circuit)
            else:
                fmt = self.host.call("qtau_circuit_format", circuit=circuit)
                if fmt is None and not callable(circuit):
                    self.circuits.detect(circuit)  # raises the unsupported-circuit error
        summary = self.circuits.summary(circuit, fmt, task.circuit_format is not None) if fmt else None
        if summary is None:
            if fmt is not None:
                raise InvalidTaskError(
                    f"no installed plugin can read a {fmt} circuit's width and gates", field="circuit_format",
                    value=fmt, fix=f"check circuit_format={fmt!r} matches the circuit, or install the plugin "
                    "of its SDK",
                )
            if task.num_qubits is None:
                raise InvalidTaskError(
                    "QDREAMER cannot read the width of a circuit function before it runs", field="num_qubits",
                    value=None, fix="pass num_qubits (and gate_set) in the QuantumTask when the circuit is a function",
                )
            summary = CircuitSummary(
                num_qubits=task.num_qubits, gate_counts={g: task.num_qubits for g in task.gate_set},
                num_measured=task.num_qubits,
            )
        # Circuits of the same shape share plans, whichever object they are.
        key = (fmt, summary.num_qubits, tuple(sorted(summary.gate_counts.items())), summary.num_measured,
               summary.mid_circuit_measurement, summary.classical_control, summary.returns_values)
        if content is not None:
            with self._lock:
                # Holding the object keeps its id (part of the key) from being reused while cached.
                self._summaries[(content, task.circuit_format)] = (summary, fmt, key, circuit)
                if len(self._summaries) > 512:
                    self._summaries.popitem(last=False)
        return summary, fmt, key

    def summarize(self, task: QuantumTask) -> tuple[CircuitSummary, str | None]:
        """The circuit's summary and format as QDREAMER scores them (quotes and splits price with it)."""
        summary, fmt, _ = self._summary(task)
        return summary, fmt

    def _pinned(self, candidates: list[Candidate], pin: str) -> list[Candidate]:
        """The candidates a pin names (resource id, executor name or pilot name), or
        NoSuitableResourceError saying what was asked and what exists."""
        chosen = [c for c in candidates if pin in (c.resource.id, c.resource.executor,
                                                    self._pilot_of.get(c.resource.id))]
        if not chosen:
            pilots = sorted({p for p in self._pilot_of.values() if p})
            raise NoSuitableResourceError(
                f"the task is pinned to {pin!r}, which names no resource, executor or pilot of this service",
                rejections={c.resource.id: f"not {pin!r} (executor {c.resource.executor}, pilot "
                            f"{self._pilot_of.get(c.resource.id) or '-'})" for c in candidates},
                fix=f"pin to one of the resources above, an executor or a pilot ({', '.join(pilots) or 'none yet'})",
            )
        return chosen

    def _plan(self, snap: _Snapshot, task: QuantumTask) -> tuple[Plan, str | None]:
        summary, fmt, skey = self._summary(task)
        validation.declared_width(task, summary.num_qubits)
        pin = task.pin
        memory = task.resource_config.get("memory")
        memory = None if memory is None else int(memory)
        bits = summary.num_measured or summary.num_qubits
        overhead = declared(task.mitigation, bits)
        calibrated = declared(task.mitigation, bits, calibrated=True)
        key = (skey, task.gate_set, task.num_qubits, task.shots, task.max_cost, task.min_fidelity, pin, memory,
               overhead, calibrated)
        plan = snap.plans.get(key)
        if plan is None and key in snap.earlier:
            plan = snap.plans[key] = snap.earlier[key].with_queues(snap.candidates)
        if plan is None:
            gates = tuple(sorted(set(summary.gate_counts) | set(task.gate_set)))
            shape = Shape(summary, fmt, gates, max(summary.num_qubits, task.num_qubits or 0), task.shots,
                          task.max_cost, task.min_fidelity, memory, (overhead.circuits, overhead.shots_multiplier),
                          (calibrated.circuits, calibrated.shots_multiplier))
            candidates = snap.candidates if pin is None else self._pinned(snap.candidates, pin)
            bursts = self._bursts.get(key)
            if bursts is None:
                if len(self._bursts) >= MAX_PLANS:
                    self._bursts.clear()
                bursts = self._bursts[key] = Bursts()
            plan = Plan(candidates, shape, self._path, self._path_hint, self.runtime,
                        asker(self.host, self.circuits, task), bursts)
            if len(snap.plans) >= MAX_PLANS:
                snap.plans.clear()
            snap.plans[key] = plan
        if plan.model_version != self.runtime.version:
            plan.refresh_runs(self.runtime)
        return plan, fmt

    # -- decisions -------------------------------------------------------------------------------

    def weights(self, task: QuantumTask) -> dict[str, float]:
        return weights_for(task.policy, self.config.weights, "policy")

    def _note(self, resource_id: str) -> str:
        failures = self._failures.get(resource_id)
        if failures is None:
            return ""
        streak, failed_at, _ = failures
        left = failed_at + self.config.failure_cooldown_seconds - self.clock()
        what = "a failure" if streak == 1 else f"{streak} failures in a row"
        return (f"cooling down after {what}: score x{self.config.failure_penalty ** streak:g} "
                f"for {max(left, 0):.0f} s more")

    def explain(self, task: QuantumTask, *, planned: Collection[tuple] | None = None) -> Explanation:
        """The ranked table for `task` with every term, without submitting it. `planned`: the
        readout calibrations tasks submitted with it will run (`mitigation.choice.resolve_auto`),
        which its mitigation pairs count as shared rather than run again."""
        validation.require_task(task, "explain")
        weights = self.weights(task)
        plan, fmt = self._plan(self._snapshot(), task)
        rows = plan.rows(weights, self._in_flight, task.deadline, self._note, self._behind(),
                         ahead=self.lateness.ahead(self.clock()), hedge=self.config.stacking_hedge)
        pairs = rank_pairs(self, task, rows, run_seconds, planned) if task.mitigation.active else None
        return Explanation(task.task_id, weights, tuple(rows), fmt, pairs)

    def remember_decisions(self, limit: int = 1024) -> None:
        """Keep the ranking each of the last `limit` placements was decided by (`decision()`).

        `explain` ranks a task as it would be placed now; a task placed after others are in flight
        is ranked with their load, so only the decision's own table says why it went where it did.
        Off by default: building the table costs more than the decision itself.
        """
        with self._lock:
            self._decided = OrderedDict() if self._decided is None else self._decided
            self._decided_limit = int(validation.finite_number(limit, "limit", low=1, integer=True,
                                                               fix="pass limit=1024, for example"))

    def decision(self, task_id: str) -> Explanation | None:
        """The ranked table `task_id`'s placement was decided by, with the in-flight counts it saw
        (None when decisions are not remembered or the task was not placed by a ranking)."""
        with self._lock:
            return None if self._decided is None else self._decided.get(task_id)

    def place(self, task: QuantumTask, *, reserve: bool = False) -> tuple[Placement, ...]:
        """Feasible resources best first, at most `max_attempts` of them (the failover order),
        then, when each of those converts the circuit, the best resource of each other conversion
        path (`other_readers`): a path's reader may refuse a valid circuit that another reads, and
        a refusal runs nothing, so at most `max_attempts` resources still run a task
        (`TaskPayload.max_runs`).

        With `reserve=True` the first one is counted in flight in the same step (as `task_started`
        would), so threads submitting at once each see the others' choices and spread out.
        """
        weights = self.weights(task)
        plan, _ = self._plan(self._snapshot(), task)
        if reserve:
            with self._decide_lock:
                top = self._top(task, plan, weights)
                self.task_started(plan.candidates[top[0][2]].resource.id, expected_s=top[0][3])
        else:
            top = self._top(task, plan, weights)
        # A circuit function (no format until it runs): its own time is not the resource's.
        if plan.shape.circuit_format is not None or not callable(task.circuit):
            estimates = plan.estimates
            placed = {plan.candidates[item[2]].resource.id: estimates[item[2]] for item in top}
            with self._lock:
                self._shapes[task.task_id] = (plan.shape.summary, task.shots, plan.shape.circuit_format, placed)
                if len(self._shapes) > MAX_PENDING_SHAPES:
                    self._shapes.popitem(last=False)
        out = []
        for item in top:
            i = item[2]
            placement = plan.placements.get(i)
            if placement is None:
                cand = plan.candidates[i]
                currency = cand.cost.currency if cand.cost else "USD"
                placement = plan.placements[i] = Placement(cand.resource, cand.config, plan.price[i], currency,
                                                           calibrated_price(cand, plan.shape))
            out.append(placement)
        return tuple(out)

    def _top(self, task: QuantumTask, plan: Plan, weights: dict[str, float]) -> list[tuple]:
        keep = self._decided is not None
        # A copy when the decision is kept: its table shows the counts it saw, not later ones.
        in_flight = self.in_flight() if keep else self._in_flight
        late = self._behind()
        plan.count_decision(in_flight)
        scored = plan.scored(weights, in_flight, task.deadline, late, self.lateness.ahead(self.clock()),
                             self.config.stacking_hedge)
        if not scored[0]:
            self._nothing_fits(task, plan, weights)
        if keep:
            rows = plan.rows(weights, in_flight, task.deadline, self._note, late, scored=scored)
            self._remember(Explanation(task.task_id, weights, tuple(rows), plan.shape.circuit_format))
        with self._lock:
            self.decisions += 1
        top = heapq.nsmallest(self.config.max_attempts, scored[0])
        return top + other_readers(plan.paths, top, scored[0])

    def _behind(self) -> dict[str, float]:
        """Seconds each resource is behind its report: lateness of this service's oldest task
        there, and how much longer such waits last there (learned: dreamer/wait_model.py)."""
        return self.waits.behind(self.lateness.late(self.clock()))

    def _remember(self, explanation: Explanation) -> None:
        with self._lock:
            self._decided[explanation.task_id] = explanation
            self._decided.move_to_end(explanation.task_id)
            while len(self._decided) > self._decided_limit:
                self._decided.popitem(last=False)

    def _nothing_fits(self, task: QuantumTask, plan: Plan, weights: dict[str, float]) -> None:
        if not plan.candidates:
            raise NoSuitableResourceError(
                "no resources: create a pilot with a quantum executor first", rejections={},
                fix="call create_pilot({'resource_type': 'quantum', 'quantum': {'executor': 'qiskit_local'}})",
            )
        rows = plan.rows(weights, self._in_flight, task.deadline, behind=self._behind())
        shape = plan.shape
        limit = common_breach([c.resource.metadata for c in plan.candidates], shape.width, shape.shots, shape.memory)
        named = {} if limit is None else {"field": limit.field, "value": limit.value}
        raise NoSuitableResourceError(
            f"no resource can run task {task.task_id}; every candidate was rejected:",
            rejections={r.resource_id: r.reason for r in rows},
            fix=limit.fix if limit else "relax the task's constraints, or add a pilot whose resources fit", **named,
        )

    # -- accounting ------------------------------------------------------------------------------

    def task_started(self, resource_id: str, n: int = 1, expected_s: float | None = None) -> None:
        """`n` tasks went to the resource, each expected to complete `expected_s` from now (None:
        unknown; see dreamer/lateness.py)."""
        with self._lock:
            self._in_flight[resource_id] = self._in_flight.get(resource_id, 0) + n
        self.lateness.started(resource_id, self.clock(), expected_s, n)

    def task_finished(self, resource_id: str, attempts: tuple[Attempt, ...] = ()) -> None:
        with self._lock:
            self._in_flight[resource_id] = max(self._in_flight.get(resource_id, 0) - 1, 0)
        due = self.lateness.finished(resource_id)
        # A task placed with an expectation that succeeded on a remote resource: how late it
        # ended is what the wait model learns (attempts given by the registry and the simulation).
        if math.isfinite(due) and any(a.ok and a.resource_id == resource_id for a in attempts):
            res = self._pool.get(resource_id)
            if res is not None and res[0].remote:
                self.waits.observe(resource_id, self.clock() - due)
        self.record_failures(attempts)

    def record_failures(self, attempts: Iterable[Attempt]) -> None:
        """Learn from a task's attempts (seen in a Result or error; each attempt counts once).

        A failed attempt starts its resource's cool-down: score x failure_penalty per failure in a
        row, for failure_cooldown_seconds after the last; its provider is asked for status again at
        the next decision. A later successful attempt on the resource ends the cool-down.
        """
        now = self.clock()
        failed = []
        changed = False
        with self._lock:
            for attempt in attempts:
                if attempt in self._seen_failures:
                    continue
                self._seen_failures[attempt] = None
                if len(self._seen_failures) > 4096:
                    self._seen_failures.popitem(last=False)
                if attempt.error_type == CONVERSION_REFUSED:
                    continue  # the circuit's form, not the resource: no cool-down for other tasks
                rid = attempt.resource_id
                streak, _, last_end = self._failures.get(rid, (0, 0.0, -math.inf))
                if attempt.ok:
                    if streak and attempt.ended_at >= last_end:
                        del self._failures[rid]
                        changed = True
                    continue
                self._failures[rid] = (streak + 1, now, max(attempt.ended_at, last_end))
                failed.append(rid)
            if failed or changed:
                self._version += 1
        for rid in failed:
            self.cache.invalidate(rid, "status")

    def learn(self, outcome: Any) -> None:
        """Teach the run-time model from a task's Result (once per task; anything else is ignored):
        the time of its successful attempt on a local resource, from the worker's preparation of
        the task to its result, with the shape QDREAMER placed it by. Learning never fails the task
        it learns from: it runs in a result's done-callback (where an error was only printed by
        concurrent.futures) or while results are handed out, so an error is logged to
        `qtau.dreamer`, with its traceback, and the result stands."""
        if not isinstance(outcome, Result) or not outcome.attempts:
            return
        with self._lock:
            shape = self._shapes.pop(outcome.task_id, None)
        last = outcome.attempts[-1]
        found = self._pool.get(last.resource_id)
        if shape is None or found is None or not last.ok or found[0].remote:
            return
        summary, shots, fmt, _ = shape
        try:
            prior = run_seconds(found[0], shots, summary)
            self.runtime.observe(last.resource_id, last.started_at, last.ended_at, prior, shots, summary, fmt,
                                 first=last.cold)
        except Exception:
            log.exception("QDREAMER could not learn the run time of task %s on %s; its result is unaffected",
                          outcome.task_id, last.resource_id)

    def run_estimate(self, task: QuantumTask, resource_id: str) -> RuntimeEstimate:
        """The expected run time of `task` on one of this service's resources: seconds, source
        (plugin prior, or learned from N tasks) and expected relative error."""
        resource = self._pool[resource_id][0]
        summary, fmt = self.summarize(task)
        prior = run_seconds(resource, task.shots, summary)
        return self.runtime.estimate(resource, prior, task.shots, summary, circuit_format=fmt)

    def placed_estimate(self, task_id: str, resource_id: str) -> RuntimeEstimate | None:
        """The run estimate the ranking placed a task by on `resource_id` (its shots as the plan ran
        them, mitigation's included): kept from the placement, so asking costs a lookup, not a
        refit of a model an observation just changed. None once its result was learned, for a
        resource outside its failover order, or for a task placed otherwise."""
        with self._lock:
            shape = self._shapes.get(task_id)
        return None if shape is None else shape[3].get(resource_id)

    def in_flight(self) -> dict[str, int]:
        with self._lock:
            return dict(self._in_flight)

    # -- cache API (Pilot-Quantum names) ---------------------------------------------------------

    def get_cache_info(self) -> dict[str, Any]:
        info = self.cache.info()
        info["decisions"] = self.decisions
        info["in_flight"] = self.in_flight()
        info["waits"] = self.waits.info()
        info["runtime_models"] = self.runtime.info(list(self._pool))
        info["calibrations"] = CALIBRATIONS.info(list(self._pool))
        return info

    def clear_cache(self, runtime_models: bool = False, calibrations: bool = False) -> None:
        """Forget every cached provider report; with `runtime_models=True` also the learned run
        times of this service's resources (here and in the per-user cache file); with
        `calibrations=True` also their readout calibrations and what they measured, kept in this
        process (`qtau.mitigation.calibration`): the next mitigated task on each calibrates again."""
        forget_runs = validation.flag(runtime_models, "runtime_models")
        forget_calibrations = validation.flag(calibrations, "calibrations")
        self.cache.clear()
        self.waits.clear()
        if forget_runs:
            self.runtime.clear(list(self._pool))
        if forget_calibrations:
            CALIBRATIONS.forget(list(self._pool))

    def start_background_monitoring(self, interval_seconds: float = 60) -> None:
        """Refresh every candidate's reports each `interval_seconds` in one daemon thread."""
        interval = validation.monitoring_interval(interval_seconds)
        self.cache.start_monitoring(float(interval), self._fetchers)

    def stop_background_monitoring(self) -> None:
        self.cache.stop_monitoring()
