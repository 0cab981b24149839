"""Filtering and scoring of candidate resources for one task: the arithmetic of QDREAMER.

Filter (each rejection keeps every reason that applies): a report the provider failed to give;
enough qubits; online; a circuit-format path; mid-circuit measurement; the task's gates native or
reachable by the resource's transpiler; within `max_cost`; at or above `min_fidelity`; done before
`deadline`.

Score of a feasible candidate: a weighted geometric mean of three terms, each "best / this one"
of an amount where lower is better, so each lies in (0, 1] and the best candidate gets 1:
- fidelity: FIDELITY_STEP / (FIDELITY_STEP + points of estimated fidelity below the best
  candidate's), the estimated fidelity being the noise profile applied to the circuit's gate
  counts and readouts (the share of shots expected to run without an error): 1/2 at 2 points
  below the best, 1/3 at 4 points. Where the resource's plugin weighs its transpiler's
  optimisation levels (the `qtau_optimisation_levels` hook, `dreamer.levels`), the estimate of the
  level it will run, for the circuit as transpiled there, replaces the profile's;
- speed: (fastest + SPEED_OFFSET_S) / (this + SPEED_OFFSET_S) of the expected completion =
  provider queue wait + this service's in-flight tasks on the resource x estimated run time +
  estimated run time (+ how late its oldest in-flight task is, `dreamer.lateness`, and how much
  longer such a wait lasts there, `dreamer.wait_model`); the offset of 1 s keeps milliseconds
  against milliseconds from counting as a tenfold wait. Where each of our tasks there was placed
  with an expectation, the expected completion counts the longer of the queue wait and the time
  until the last of them is expected to complete + estimated run time (`serial_wait`); with
  `DreamerConfig.stacking_hedge` only the estimate does (recorded at placement, shown by
  explain()) and ranking keeps a full run time per task of ours ahead: a hedge against one
  hidden job delaying every task we stacked on a resource (`Plan.scored`). Run times are learned from results
  (`dreamer.runtime_model`: the plugin's figure until there are observations). Local simulators
  share one pool of workers, so for them the in-flight term is the work in flight on all local
  simulators, and the fastest one takes the stream;
- cost: cheapest / this price (a free candidate counts as FREE_SHARE of the cheapest priced one,
  so free against priced is a finite difference).
score = fidelity^w_fidelity x speed^w_speed x cost^w_cost (weights summing to 1), times a
penalty while the resource cools down from a recent failure. Ties: equal scores go to the resource
with fewer of this service's tasks in flight, then to the earlier candidate (pilots in the order
they were created, each pilot's resources in the order its plugin listed them): `scored` items
sort as (units behind, in-flight, candidate index). The code works with -log2 of each term
("units" behind the best: halvings).

A product, not a sum: halving any term costs the same whatever the others are, so at equal
weights two points of fidelity are worth a doubled completion time or price, and the wait
accepted for better fidelity grows with the gain: (1 + points/2)^(w_fidelity / w_speed)-fold,
sqrt(1 + points/2) for `balanced` (speed weighs twice fidelity: 2x for 6 points; see
`config.PRESETS` for why). A weighted sum of such terms (QDREAMER before) caps what a term can lose at its
weight: past some wait a device is no worse for waiting longer, so `high_fidelity` sent every
task to the best device however long its queue, and `balanced` never waited more than seconds
for any fidelity. Time and price are compared by ratio because they span orders of magnitude
(seconds to hours, cents to hundreds of dollars); fidelity by difference, because a point of
fidelity is a share of the user's shots whatever the device (a ratio of expected errors would
make a deep circuit that is noise everywhere queue for the best device).

Only the speed term changes between two decisions on the same reports (in-flight counts move), so
a `Plan` computes everything else once per task shape and a decision is a few arithmetic
operations per candidate.

Where each part lives: the terms and the run-time prior in `dreamer.terms`, the candidate, the
task's shape and the filter in `dreamer.candidates`; this module holds the `Plan` per task shape
and the `Row`s an explanation shows.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from qtau.dreamer.candidates import (
    Candidate,
    Shape,
    noise_note,
    price_of,
    static_reasons,
)
from qtau.dreamer.runtime_model import BURST_TRY, RuntimeEstimate, RuntimeModels
from qtau.dreamer.terms import (
    SPEED_OFFSET_S,
    cheapest_price,
    cost_units,
    fidelity,
    fidelity_units,
    provider_wait,
    run_seconds,
    serial_wait,
    speed_units,
)
from qtau.optimisation_levels import LevelEstimates
from qtau.types import Resource


@attrs.frozen
class Row:
    """One candidate in an explanation: every term QDREAMER weighed, and why it was rejected."""

    resource_id: str
    executor: str
    feasible: bool
    reason: str
    fidelity: float
    wait_s: float
    cost: float
    score: float
    in_flight: int = 0
    path: tuple[str, ...] = ()
    currency: str = "USD"
    #: Score multiplier: below 1 while the resource cools down from a failure.
    penalty: float = 1.0
    #: Why a penalty applies (cool-down), empty otherwise.
    note: str = ""
    #: Expected run time of the task there (s), where it comes from (`RuntimeEstimate.describe`:
    #: plugin prior, or learned from N tasks; "untried: ..." while it is being tried, see
    #: dreamer/runtime_model.py) and its expected relative error.
    run_s: float = 0.0
    run_source: str = ""
    run_error: float = 0.0
    #: The plugin's estimate per optimisation level and the level it will run (the fidelity
    #: column is the chosen level's), None when its plugin does not weigh levels.
    levels: LevelEstimates | None = None
    #: The resource whose twins (the same simulator with the same settings on other pilots,
    #: `qtau.pilots.distinct_ids`) this one is among: the first of them, its own id where it has none.
    twin_group: str = ""


#: A simulator still being tried takes more tasks than its tries only at this multiple of its
#: estimate (the top of the plugin prior's range, e**1.5: `runtime_fit.PRIOR_SD`): one batch seen
#: on a busy machine must not send it a whole burst.
UNTRUSTED = 4.5
#: A trusted simulator that has never run a call of `runtime_model.BURST_TRY` tasks is tried with
#: that many tasks of a burst when its expected time per task in a burst is within this factor of
#: the best simulator's (the spread of rho's prior over one call size), and beyond its try takes
#: no more of that burst than an untried one would.
BURST_RANGE = 2.0
#: In a burst more than EXTRAPOLATION_RANGE times the largest warm call a simulator has run, its
#: time per task is charged EXTRAPOLATED times what its model says. Measured here on Bell pubs:
#: Aer's 8-pub try (1.4 ms a pub) and its calls of one put it at about 1 ms a pub in a burst, level
#: with lightning's 1.0-1.1 ms seen in 992-pub bursts, and it then ran a burst at 1.6-3 ms a pub
#: (default.qubit: try 1.5 ms, bursts 2 ms, five bursts running). A call's fixed part plus a part
#: per task is the model's shape, but what a simulator does a thousand tasks at a time (memory, its
#: own threads, chunks side by side) is not in calls of eight. A close call stays with the
#: simulator that has shown its bursts; a clear gain (beyond 25%) still moves the burst.
EXTRAPOLATION_RANGE = 8
EXTRAPOLATED = 1.25


@attrs.define
class Bursts:
    """Tasks of one shape placed in its last burst (placed while local simulators had work in
    flight) and so far in this one: a burst's first task is placed for the whole burst
    (`Plan._shared_waits`). Kept by QDREAMER per shape, across the plans a changed report
    rebuilds: a plan made afresh between two bursts once took the next burst's first task for a
    lone one, sent it to the simulator whose call costs least, and the burst followed it there."""

    last: int = 1
    this: int = 0


class Plan:
    """Every term of every candidate for one task shape that does not change between decisions.

    Built from one snapshot of provider reports; `scored` adds the in-flight-dependent speed term.
    """

    def __init__(
        self, candidates: Sequence[Candidate], shape: Shape,
        path_for: Callable[[str | None, Resource], tuple[str, ...] | None],
        hint_for: Callable[[str | None, Resource], str] = lambda fmt, res: "",
        runtime: RuntimeModels | None = None,
        levels_for: Callable[[Candidate], LevelEstimates | None] | None = None,
        bursts: Bursts | None = None,
    ) -> None:
        self.candidates = list(candidates)
        self.shape = shape
        self.paths: list[tuple[str, ...] | None] = []
        self.reasons: list[str] = []
        self.fid: list[float] = []
        self.price: list[float] = []
        self.run: list[float] = []
        self.queue: list[float] = []
        #: The plugin's LevelEstimates per candidate (`levels_for`), asked of those that pass
        #: every other check; None elsewhere.
        self.levels: list[LevelEstimates | None] = []
        for cand in self.candidates:
            path = path_for(shape.circuit_format, cand.resource)
            fid = fidelity(cand.noise, shape.summary)
            price = price_of(cand, shape, shape.overhead)
            levels = None
            if levels_for is not None and not static_reasons(cand, shape, path, 1.0, price):
                levels = levels_for(cand)
                if levels is not None:
                    fid = levels.fidelity
            self.levels.append(levels)
            self.paths.append(path)
            self.fid.append(fid)
            self.price.append(price)
            self.queue.append(provider_wait(cand.status, cand.in_flight_at_report))
            hint = hint_for(shape.circuit_format, cand.resource) if path is None else ""
            self.reasons.append(static_reasons(cand, shape, path, fid, price, hint))
        self.ok = [i for i, why in enumerate(self.reasons) if not why]
        self.ok_ids = [self.candidates[i].resource.id for i in self.ok]
        self.ok_queue = [self.queue[i] for i in self.ok]
        self.ok_penalty = [self.candidates[i].penalty for i in self.ok]
        #: Feasible local simulators (positions in `ok`): they share this machine's (or cluster's)
        #: workers, so work in flight on any of them delays a task on each (see `scored`).
        self.ok_shared = [self.candidates[i].resource.kind == "simulator" and not self.candidates[i].resource.remote
                          for i in self.ok]
        self.any_shared = any(self.ok_shared)
        #: Feasible resources that run our tasks one after another: the only ones whose waits
        #: `ahead` changes (see `scored`'s hedge).
        self.serial_ids = frozenset(rid for rid, shared in zip(self.ok_ids, self.ok_shared, strict=True) if not shared)
        self.refresh_runs(runtime)
        self._static: dict[tuple[float, float], list[float]] = {}
        #: The caller's per-candidate objects built from this plan (QDREAMER keeps Placements here).
        self.placements: dict[int, Any] = {}
        #: Tasks of this shape placed in the last burst and so far in this one (`Bursts`).
        self.bursts = Bursts() if bursts is None else bursts

    def refresh_runs(self, runtime: RuntimeModels | None) -> None:
        """Every candidate's expected run time from `runtime`'s models (the plugin prior without
        one), and the free local simulators still to be tried (`runtime_model`: exploration)."""
        shape = self.shape
        shots = round(shape.shots * shape.overhead[1])  # a mitigated task runs its overhead's shots
        priors = [run_seconds(c.resource, shots, shape.summary) for c in self.candidates]
        self.explore: dict[int, int] = {}
        if runtime is None:
            self.estimates: list[RuntimeEstimate | None] = [None] * len(priors)
            self.run = priors
            self.model_version = -1
        else:
            self.model_version = runtime.version
            fmt = shape.circuit_format
            self.estimates = [runtime.estimate(c.resource, p, shots, shape.summary, circuit_format=fmt)
                              for c, p in zip(self.candidates, priors, strict=True)]
            self.run = [e.seconds for e in self.estimates]
            for j, i in enumerate(self.ok):
                if self.ok_shared[j] and self.price[i] == 0:
                    quota = runtime.explore_quota(self.candidates[i].resource.id, fmt)
                    if quota:
                        self.explore[j] = quota
        #: The largest warm call of each feasible candidate's model (0: none, or not a local
        #: simulator): how far a burst's estimate is extrapolated (EXTRAPOLATED).
        self.ok_largest = [runtime.largest_call(self.candidates[i].resource.id, shape.circuit_format)
                           if runtime is not None and self.ok_shared[j] else 0 for j, i in enumerate(self.ok)]
        self._extrapolated_for: tuple[int, tuple[bool, ...]] = (-1, ())
        self.ok_run = [self.run[i] for i in self.ok]
        # A backend call of k tasks as call + k x task (`runtime_model`): what a task adds to a
        # local simulator that has work in flight, or its call as well to an idle one.
        self.ok_call: list[float] = []
        self.ok_task: list[float] = []
        for j, i in enumerate(self.ok):
            est = self.estimates[i]
            call = est.call_seconds if est is not None and self.ok_shared[j] else 0.0
            self.ok_call.append(call)
            self.ok_task.append(max(self.run[i] - call, 0.0))
        #: Trusted free simulators not yet tried in a burst (`runtime_model.burst_quota`), within
        #: BURST_RANGE of the best time per task: position in `ok` -> tasks of the next burst. The
        #: most promising gets its try, the others 0 (one try a burst: three run one after another
        #: before a 1000-pub burst's bulk cost it 7%); none of them takes a burst's bulk before
        #: its try (with 0, Aer took a whole burst on its one warm pub's estimate).
        self.burst_explore: dict[int, int] = {}
        if runtime is not None:
            trusted = [j for j, i in enumerate(self.ok)
                       if self.ok_shared[j] and self.price[i] == 0 and j not in self.explore]
            if len(trusted) > 1:
                best = min(self.ok_task[j] for j in trusted)
                for j in sorted(trusted, key=self.ok_task.__getitem__):
                    if self.ok_task[j] > BURST_RANGE * best:
                        break
                    quota = runtime.burst_quota(self.ok_ids[j], self.shape.circuit_format)
                    if quota:
                        self.burst_explore[j] = 0 if any(self.burst_explore.values()) else quota

    def with_queues(self, candidates: Sequence[Candidate]) -> Plan:
        """This plan for candidates that differ from its own only in their queues (see
        `same_but_queues`): a status refresh re-reads the queues instead of re-planning.
        `candidates` may be the whole snapshot: the plan keeps its own resources, in its order (a
        pinned task's plan holds only the pinned ones; every index into it means its own list)."""
        plan = copy.copy(self)
        fresh = {c.resource.id: c for c in candidates}
        plan.candidates = [fresh.get(c.resource.id, c) for c in self.candidates]
        plan.queue = [provider_wait(c.status, c.in_flight_at_report) for c in plan.candidates]
        plan.ok_queue = [plan.queue[i] for i in plan.ok]
        plan._static = dict(self._static)
        plan.placements = dict(self.placements)
        return plan

    def static_terms(self, weights: Mapping[str, float], subset: Sequence[int] | None = None) -> list[float]:
        """w_fidelity*units_fidelity + w_cost*units_cost for feasible candidates (positions in
        `ok`), less log2 of the penalty: the part of the score's exponent that in-flight work does
        not change."""
        positions = range(len(self.ok)) if subset is None else subset
        fids = [self.fid[self.ok[j]] for j in positions]
        prices = [self.price[self.ok[j]] for j in positions]
        penalties = [self.ok_penalty[j] for j in positions]
        best = max(fids, default=1.0)
        cheapest = cheapest_price(prices)
        wf, wc = weights.get("fidelity", 0.0), weights.get("cost", 0.0)
        return [
            wf * fidelity_units(f, best) + wc * cost_units(p, cheapest) - (math.log2(pen) if pen > 0 else -math.inf)
            for f, p, pen in zip(fids, prices, penalties, strict=True)
        ]

    def scored(
        self, weights: Mapping[str, float], in_flight: Mapping[str, int], deadline: float | None = None,
        late: Mapping[str, float] | None = None, ahead: Mapping[str, float] | None = None,
        hedge: bool = False,
    ) -> tuple[list[tuple[float, int, int, float]], dict[int, float]]:
        """Feasible candidates as sortable (units behind, in-flight, index, wait), and the waits of
        those the deadline rejects (by index). Sorting the first list ranks them best first; a
        candidate's score is 2 ** -(units behind). `late`: by resource, seconds added to the
        expected completion: how far this service's oldest task there is past its expected
        completion (`dreamer.lateness`) and how much longer such a wait lasts (`dreamer.wait_model`).
        `ahead`: by resource, seconds until this service's last in-flight task there is expected
        to complete (`Lateness.ahead`): a task placed there is expected to wait for that, or for
        the reported queue if longer, instead of a full run time for each task ahead
        (`serial_wait`). Not on a resource in `late`.

        `hedge` (`DreamerConfig.stacking_hedge`): ranking and estimate differ on purpose. The
        wait in each item (what the decision records as the task's expected completion, what
        explain() shows and the deadline is checked against) stays the expectation, with
        `ahead`; the speed term ranks by the stacking-averse wait, every task of ours ahead on
        the resource counted as a full run time, as if `ahead` were unknown. That is a risk term,
        not an estimate: one hidden job of another user delays every task we stacked on a
        resource, and ranking by the expectation stacks more of them there (benchmarks/
        scheduling.py, load 0.9, tuning seeds 1-9: balanced's p95 1.54x least_busy's with the
        hedge, 1.77x without; mean 0.91x against 0.99x; 94.0% of the sustainable-fidelity bound
        against 95.3%)."""
        counts = [in_flight.get(rid, 0) for rid in self.ok_ids]
        if ahead and late:
            # An overdue resource: its last task's expectation already holds the lateness seen
            # when it was placed, which `late` now restates: a run time for each task ahead.
            ahead = {rid: s for rid, s in ahead.items() if rid not in late}
        # Two waits per candidate (see the docstring): the stacking-averse one the speed term
        # ranks by, and the expectation. They differ only where `ahead` knows our tasks there.
        expected = self._waits(counts, ahead, late)
        # Local simulators' waits ignore `ahead`: only a serial resource in it makes the two differ.
        hedged = hedge and ahead and not self.serial_ids.isdisjoint(ahead)
        waits = self._waits(counts, None, late) if hedged else expected
        ws = weights.get("speed", 0.0)
        if deadline is None or all(w <= deadline for w in expected):
            key = (weights.get("fidelity", 0.0), ws, weights.get("cost", 0.0))
            static = self._static.get(key)
            if static is None:
                static = self._static[key] = self.static_terms(weights)
            if not waits:
                return [], {}
            # The hot loop of every decision: one expression per candidate.
            fastest = math.log2(max(min(waits), 0.0) + SPEED_OFFSET_S)
            log2 = math.log2
            return [
                (s + ws * (log2(w + SPEED_OFFSET_S) - fastest), n, i, e)
                for s, w, e, n, i in zip(static, waits, expected, counts, self.ok, strict=True)
            ], {}
        positions = [j for j, e in enumerate(expected) if e <= deadline]
        late_ones = {self.ok[j]: e for j, e in enumerate(expected) if e > deadline}
        if not positions:
            return [], late_ones
        static = self.static_terms(weights, positions)
        fastest = min(waits[j] for j in positions)
        items = [(s + ws * speed_units(waits[j], fastest), counts[j], self.ok[j], expected[j])
                 for s, j in zip(static, positions, strict=True)]
        return items, late_ones

    def _waits(self, counts: list[int], ahead: Mapping[str, float] | None,
               late: Mapping[str, float] | None) -> list[float]:
        """Expected completion of each feasible candidate: `_shared_waits` or `_serial_waits`
        with `ahead`, + `late` on resources that are not local simulators."""
        if self.any_shared:
            waits = self._shared_waits(counts, ahead)
        else:
            waits = self._serial_waits(counts, ahead)
        if late:
            # Not on local simulators: all their work is this service's own and counted already,
            # and a burst's first tasks are "late" only because the batch they wait for is filling.
            waits = [w + (0.0 if s else late.get(rid, 0.0))
                     for w, rid, s in zip(waits, self.ok_ids, self.ok_shared, strict=True)]
        return waits

    def _serial_waits(self, counts: list[int], ahead: Mapping[str, float] | None) -> list[float]:
        """Expected completions on resources that run this service's tasks one after another:
        reported queue + a run time per task of ours ahead + its own run time; where `ahead`
        knows when the last task of ours there is expected to complete, the longer of that and the
        reported queue, + its own run time."""
        if not ahead:
            return [q + (n + 1) * r for q, n, r in zip(self.ok_queue, counts, self.ok_run, strict=True)]
        return [serial_wait(q, n, r, ahead.get(rid))
                for q, n, r, rid in zip(self.ok_queue, counts, self.ok_run, self.ok_ids, strict=True)]

    def count_decision(self, in_flight: Mapping[str, int]) -> None:
        """Count one placement of this shape in the current burst (a new one starts when no local
        simulator candidate has work in flight)."""
        if not self.any_shared:
            return
        bursts = self.bursts
        if any(in_flight.get(rid, 0) for rid, s in zip(self.ok_ids, self.ok_shared, strict=True) if s):
            bursts.this += 1
        else:
            bursts.last, bursts.this = max(bursts.this, 1), 1

    def _shared_waits(self, counts: list[int], ahead: Mapping[str, float] | None = None) -> list[float]:
        """Expected completions when some candidates are local simulators: each of those waits for
        the work in flight on all of them (one pool of workers runs them all), so among simulators
        the fastest takes every task and equal ones share by the in-flight tie-break. A task adds
        its marginal time to a simulator with tasks in flight (it joins their batch) and the
        call's fixed time as well to an idle one (in a burst: its share of the call over what is
        left of the burst, see `count_decision`). A simulator still being explored counts as fast
        as the fastest for its remaining tries, and UNTRUSTED times slower beyond them; so does,
        in a burst (the last of this shape had BURST_TRY tasks or more), a trusted simulator not
        yet tried in one (`burst_explore`)."""
        calls, tasks, shared = self.ok_call, self.ok_task, self.ok_shared
        backlog = sum(n * t + (c if n else 0.0) for n, c, t, s in zip(counts, calls, tasks, shared, strict=True) if s)
        last_burst = self.bursts.last
        rest = last_burst - self.bursts.this + 1  # this task and those expected after it
        if last_burst > 1 and rest > 1:
            # In a burst: bursts of a shape repeat, so a task goes where the rest of the burst
            # (call + k x task, k what is left of the last burst's size) is done first, and the
            # rest follow it. Not only its first task: when a burst's tries took its first tasks,
            # the next one still chooses for the burst's bulk, not for itself (an idle simulator's
            # whole call against a task joining a try's batch sent a burst after its try).
            calls = [c / rest for c in calls]
            flags = self._extrapolated(last_burst)
            if any(flags):
                tasks = [t * EXTRAPOLATED if far else t for t, far in zip(tasks, flags, strict=True)]
        ahead = ahead or {}
        waits = [(q + backlog + t + (0.0 if n else c)) if s else serial_wait(q, n, r, ahead.get(rid))
                 for q, n, r, c, t, s, rid in zip(self.ok_queue, counts, self.ok_run, calls, tasks, shared,
                                                  self.ok_ids, strict=True)]
        explore = self.explore
        if self.burst_explore and last_burst >= BURST_TRY:  # bursts of this shape come
            explore = {**self.burst_explore, **explore}
        if explore:
            best = min(w for w, s in zip(waits, shared, strict=True) if s)
            for j, quota in explore.items():
                if counts[j] < quota:
                    waits[j] = best
                else:  # beyond its tries, an untrusted model is charged the top of its range
                    waits[j] += (UNTRUSTED - 1.0) * (tasks[j] + (0.0 if counts[j] else calls[j]))
        return waits

    def rows(
        self, weights: Mapping[str, float], in_flight: Mapping[str, int], deadline: float | None = None,
        note_for: Callable[[str], str] = lambda rid: "", behind: Mapping[str, float] | None = None,
        scored: tuple[list[tuple[float, int, int, float]], dict[int, float]] | None = None,
        ahead: Mapping[str, float] | None = None, hedge: bool = False,
    ) -> list[Row]:
        """Every candidate as a Row: feasible ones best first, then the rejected with their reasons.

        `scored`: what `scored` returned for a decision already made, so the rows are that
        decision's ranking rather than a new one. Rows are in the decision's order: score, then
        fewer in-flight tasks, then candidate order (the tie-break; see the module docstring).
        """
        behind = behind or {}
        items, late = scored if scored is not None else self.scored(weights, in_flight, deadline, behind, ahead, hedge)
        items = sorted(items)
        rows = [self._row(i, True, "ok", w, 2.0 ** -units, in_flight, note_for) for units, _, i, w in items]
        chosen = {i for _, _, i, _ in items}
        for i, cand in enumerate(self.candidates):
            if i in chosen:
                continue
            n = in_flight.get(cand.resource.id, 0)
            wait = late.get(i, self.queue[i] + (n + 1) * self.run[i] + behind.get(cand.resource.id, 0.0))
            reason = self.reasons[i] or f"expected completion {wait:.3g} s is past the deadline of {deadline:g} s"
            rows.append(self._row(i, False, reason, wait, 0.0, in_flight, note_for))
        return rows

    def _extrapolated(self, burst: int) -> tuple[bool, ...]:
        """Per feasible candidate: a local simulator whose bursts of `burst` tasks lie beyond
        EXTRAPOLATION_RANGE times its largest warm call, while another has run calls that large
        (one that has shown such bursts; when none has, no one is charged). Kept per burst size
        until the plan's estimates are refreshed: a burst's every task asks. () for a burst
        within EXTRAPOLATION_RANGE tasks (none is charged)."""
        if burst <= EXTRAPOLATION_RANGE:
            return ()
        size, flags = self._extrapolated_for
        if size != burst:
            reach = [n * EXTRAPOLATION_RANGE >= burst for n in self.ok_largest]
            shown = any(reach)
            flags = tuple(shown and shared and not far for shared, far in zip(self.ok_shared, reach, strict=True))
            self._extrapolated_for = (burst, flags)
        return flags

    def _trying_note(self, i: int) -> str:
        try:
            j = self.ok.index(i)
        except ValueError:
            return ""
        quota = self.explore.get(j)
        if quota is not None:
            return f"untried: ranked as fast as the fastest for {quota} more task(s)"
        quota = self.burst_explore.get(j)
        if quota is not None and self.bursts.last >= BURST_TRY:
            if not quota:
                return f"untried in a burst: charged {UNTRUSTED:g}x in bursts until its try (another's first)"
            return f"untried in a burst: ranked as fast as the fastest for {quota} task(s) of the next burst"
        flags = self._extrapolated(self.bursts.last)
        if flags and flags[j]:
            return (f"a burst of {self.bursts.last} extrapolated from calls of {self.ok_largest[j]} or fewer: "
                    f"charged {EXTRAPOLATED:g}x a task in it")
        return ""

    def _row(self, i: int, feasible: bool, reason: str, wait: float, score: float,
             in_flight: Mapping[str, int], note_for: Callable[[str], str]) -> Row:
        cand = self.candidates[i]
        rid = cand.resource.id
        est = self.estimates[i]
        return Row(
            rid, cand.resource.executor, feasible, reason, self.fid[i], wait, self.price[i], score,
            in_flight.get(rid, 0), self.paths[i] or (), cand.cost.currency if cand.cost else "USD",
            cand.penalty, "; ".join(filter(None, (note_for(rid) if cand.penalty != 1.0 else "", noise_note(cand)))),
            self.run[i], "; ".join(filter(None, (est.describe() if est is not None else "plugin prior",
                                                 self._trying_note(i)))),
            est.error if est is not None else 0.0, self.levels[i], cand.resource.metadata.get("twin_of", rid),
        )
