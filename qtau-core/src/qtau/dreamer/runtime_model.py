"""Run time of a task on a resource, learned from every result: what QDREAMER's speed term uses.

A plugin states a run time in its resources' metadata (`seconds_per_task`, `seconds_per_shot`,
`gate_seconds`, `seconds_per_amplitude_gate` with `state_base`: `terms.run_seconds`); that is
the prior. No plugin knows what its figure misses on this machine (Braket's local simulator pays
an OpenQASM round trip, a PennyLane tape converted to Qiskit pays the transpiler), so every
result of a local resource is an observation: the time from the worker's preparation of the task
(conversion counts) to its result, a batch's time shared equally among its members. Local
simulators share one pool of workers, so a stretch a batch ran beside n others is charged 1/(n+1)
(`shared_seconds`): the tries of a burst spread over every simulator run side by side, and a
simulator tried beside a slow one must not look slow for it. The chunks of one burst that ran
side by side on one resource are one observation (`chunk_rows`).

This module keeps the models (observations in, estimates out, the cache file, exploration); how a
model is fitted (its terms, priors and robust fit) is `qtau.dreamer.runtime_fit`, the
observations and their shares of the workers `qtau.dreamer.runtime_observations`.

A new fit reaches the plans that rank resources on a schedule that thins out as a model settles,
and at once when a result is far from what they were told (SURPRISE, `RuntimeModels._surprised`).

Each resource keeps its last KEEP observations (older ones and those older than MAX_AGE_S are
forgotten, so a model follows a changed machine) in a per-user cache file
(platformdirs' user cache directory, or `QTAU_CACHE_DIR`; `QTAU_CACHE_DIR=none` keeps models in
memory only), shared by every service of the process and read by the next process's: a new
service starts from what earlier ones saw. Only local resources learn: a remote job's time is
mostly the provider's queue, which is the wait's model, not the run's.

Exploration, bounded: a model that is never tried never learns, and one tried for ever costs the
user. A free local simulator whose model has seen fewer than EXPLORE_TRIES tasks is ranked as if it
were as fast as the fastest candidate for that many tasks (optimism under uncertainty,
deterministic: ties go to the resource with fewer tasks in flight); one whose tasks all ran in a
process's first batch (which paid for its executor too, so it barely counts) gets EXPLORE_TRIES
more, in a later batch. That is at most 2 x EXPLORE_TRIES tasks per simulator and circuit format: the
first 20 tasks of a new service's format on the five local simulators of the four plugins, after
which every burst goes to the simulator that runs it fastest. A simulator not run for
RECHECK_EVERY of the store's observations gets one task again, in case it became faster. What a
task or two per call says of a burst hangs on rho, so a trusted simulator that has never run a
call of BURST_TRY tasks is tried with that many of a burst before it may take one
(`burst_quota`; `ranking.Plan` decides who is close enough to be worth it).
"""

from __future__ import annotations

import atexit
import json
import math
import os
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import attrs
import platformdirs

from qtau.dreamer.runtime_fit import (
    RHO_PRIOR,
    Fit,
    features,
    fit,
    load_numpy,
    rho_prior,
    shape_key,
    shape_of,
)
from qtau.dreamer.runtime_observations import Observation, chunk_rows
from qtau.types import CircuitSummary, Resource

#: Observations (batches) kept per resource, and how old one may be.
KEEP = 64
MAX_AGE_S = 30 * 86400.0
#: Tasks each free local simulator is tried with per circuit format (as many again when all of them
#: ran in a process's first batch): at most 4 x 5 = 20 for the five local simulators of the plugins.
EXPLORE_TRIES = 2
RECHECK_EVERY = 5000
#: Tasks of a burst a trusted simulator is tried with, in one call, while no steady call of at
#: least as many has shown what it does in a burst (`burst_quota`); none once it has run twice as
#: many steady tasks in any calls (a stream of small coalesced batches never makes such a call).
BURST_TRY = 8
#: At most one write of the cache file per this many seconds (and one at exit).
SAVE_EVERY_S = 2.0
FILE_NAME = "runtime_models.json"
#: Batches whose members may still arrive (per resource, by start time).
OPEN_BATCHES = 64
#: An observation of a shape its model's last fit had not seen, or this far from what it said (log
#: units: 1.2 times either way, or SURPRISE_SDS of the fit's noise when that is wider), sends a
#: new estimate to plans at once (once per batch), while the refits such news caused (each
#: charged a fit's mean time) cost at most FIT_SHARE of the run time observed
#: (`RuntimeModels._surprised`).
SURPRISE = math.log(1.2)
SURPRISE_SDS = 3.0
FIT_SHARE = 0.05
#: A warm batch that ran beside cold calls (another executor being created in this process) for
#: at least this share of its time counts as a cold one itself (`RuntimeModels._judge_contended`).
CONTENDED_SHARE = 0.5
#: Cold calls of this process remembered for that judgement (a process makes a handful).
COLD_KEEP = 32


@attrs.frozen
class RuntimeEstimate:
    """Expected run time of one task on one resource, where it comes from and how far off it may be."""

    resource_id: str
    seconds: float
    #: "plugin prior", or "learned" (from `observations` tasks)
    source: str
    observations: int
    #: Expected relative error (0.25: within about 25% either way; one predictive sd in log space).
    error: float
    prior_seconds: float
    #: Seconds of a backend call's fixed part (start-up, conversion set-up): a batch of k tasks of
    #: this shape costs call_seconds + k x task_seconds, and `seconds` is that over k.
    call_seconds: float = 0.0
    task_seconds: float = 0.0
    #: The twin resource (same simulator, same settings) whose model this estimate comes from while
    #: the resource's own is still in its first tries (see `RuntimeModels.twin`); "" for its own.
    twin: str = ""

    def describe(self) -> str:
        where = "plugin prior" if self.observations == 0 else f"learned from {self.observations} tasks"
        if self.twin:
            where += f" of its twin {self.twin}"
        return f"{where}, ±{self.error:.0%}"



@attrs.define
class ResourceModel:
    observations: list[Observation] = attrs.field(factory=list)
    tasks: int = 0
    last_tick: int = 0
    fitted: Fit | None = None
    #: Tasks seen in batches other than a process's first (which also paid for the executor).
    steady: int = 0
    #: The mode of rho's prior (`rho_prior` of the resource, set by the latest estimate).
    prior_rho: float = RHO_PRIOR
    #: The last fit made (kept when `fitted` is reset by an observation): what plans were last
    #: told, which a new observation is judged against (`RuntimeModels.observe`).
    told: Fit | None = None


KEY_SEP = " <- "


def model_key(resource_id: str, circuit_format: str | None) -> str:
    """The name of the model of tasks in `circuit_format` on the resource (`qiskit:aer_simulator
    <- pennylane_tape`); the resource id alone when the format is not known."""
    return resource_id if not circuit_format else f"{resource_id}{KEY_SEP}{circuit_format}"


def cache_directory() -> Path | None:
    """Where models persist: `QTAU_CACHE_DIR` (`none`: nowhere), else the user cache directory."""
    chosen = os.environ.get("QTAU_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "none") else Path(chosen).expanduser()
    return Path(platformdirs.user_cache_dir("qtau", appauthor=False))


class RuntimeModels:
    """Every resource's learned run-time model, persisted in `directory` (None: memory only)."""

    def __init__(self, directory: Path | None = None, clock=time.time) -> None:
        self.path = None if directory is None else Path(directory) / FILE_NAME
        self.clock = clock
        self._models: dict[str, ResourceModel] = {}
        #: Resource id -> the twin it learns from until its own model is trusted (`twin`).
        self._twins: dict[str, str] = {}
        self._open: OrderedDict[tuple[str, float], Observation] = OrderedDict()
        self._lock = threading.RLock()
        #: One write of the cache file at a time (taken before `_lock`, never inside it).
        self._save_lock = threading.Lock()
        self._dirty: set[str] = set()
        self._cleared: set[str] = set()
        #: Models (resource and circuit format) this process has run a batch of: the next one's
        #: executor exists already, and so does its conversion path (a Qiskit circuit's first trip
        #: to a PennyLane device imports PennyLane's Qiskit converter, on a warm device).
        self._warm: set[str] = set()
        #: This process's latest cold batches (`Observation.first`), for `_judge_contended`.
        self._cold: list[Observation] = []
        self._last_save = -math.inf
        #: `_surprised`'s budget: a fit's mean time (seconds, a running mean), the refits news
        #: caused (each charged that mean), and wall seconds of the batches observed.
        self._fit_mean = 0.002
        self._news_seconds = 0.0
        self._run_seconds = 0.0
        #: Observations of every resource (the clock of re-checks).
        self.tick = 0
        #: Bumped whenever an estimate or an exploration quota may have changed.
        self.version = 0
        self._load()

    # -- estimates ---------------------------------------------------------------------------------

    def twin(self, resource_id: str, twin_of: str) -> None:
        """Declare `resource_id` the twin of `twin_of`: the same simulator with the same settings
        (another pilot's, `qtau.pilots.distinct_ids`). Until its own model is trusted (its first
        tries, `_learning`) it is estimated by the twin's trusted model and not explored: a second
        pilot of a simulator QDREAMER knows is as fast as the first, not untried (without this, a
        split over the two saw one learned and one plugin-prior run time, and refused or mis-shared)."""
        with self._lock:
            if twin_of != resource_id:
                self._twins[resource_id] = twin_of
                self.version += 1

    def _model(self, resource_id: str, circuit_format: str | None) -> tuple[ResourceModel | None, str]:
        """The model a resource is estimated by (its own, or its twin's while its own is still in
        its first tries and the twin's is trusted) and the twin's id ("" for its own). Under `_lock`."""
        own = self._models.get(model_key(resource_id, circuit_format))
        twin = self._twins.get(resource_id)
        if twin is not None and _learning(own):
            theirs = self._models.get(model_key(twin, circuit_format))
            if not _learning(theirs):
                return theirs, twin
        return own, ""

    def estimate(self, resource: Resource, prior_s: float, shots: int, summary: CircuitSummary | None = None,
                 batch: int = 1, circuit_format: str | None = None) -> RuntimeEstimate:
        """The expected run time of a task of this shape and format on `resource`, whose plugin
        prior is `prior_s`, when it runs in a backend call with `batch` tasks of its shape (per task)."""
        prior_rho = rho_prior(resource)
        with self._lock:
            model, twin = self._model(resource.id, circuit_format)
            if model is None or not model.observations:
                learned = Fit.prior(prior_rho)
            else:
                if model.prior_rho != prior_rho:
                    model.prior_rho, model.fitted = prior_rho, None
                learned = self._fitted(model)
        call, task, sd = learned.call_and_task(prior_s, features(*shape_of(shots, summary)))
        source = "learned" if learned.tasks else "plugin prior"
        return RuntimeEstimate(resource.id, task + call / max(batch, 1), source, learned.tasks, math.expm1(sd),
                               prior_s, call, task, twin)

    def _fitted(self, model: ResourceModel) -> Fit:
        """The model's fit, made now if an observation reset it. Under `_lock`."""
        if model.fitted is None:
            load_numpy()  # imported once, not counted as fitting
            began = time.thread_time()  # CPU: what fitting costs, not what other threads took meanwhile
            model.fitted = model.told = fit(self._rows(model), model.tasks, model.prior_rho)
            self._fit_mean += 0.2 * (time.thread_time() - began - self._fit_mean)
        return model.fitted

    def _rows(self, model: ResourceModel) -> list[tuple[tuple[float, ...], float, float]]:
        """The model's observations as fit rows, each batch charged its share of the workers."""
        everything = [o for m in self._models.values() for o in m.observations]
        steady = [o for o in model.observations if not o.first]
        # Once batches without a first one's excess exist, the first ones say nothing more (their
        # excess is b4's) but would widen the noise that weighs the others.
        return chunk_rows(steady or model.observations, everything)

    def still_learning(self, resource_id: str, circuit_format: str | None = None) -> bool:
        """Whether the resource's model for the format is still in its first tries (not yet
        trusted), as opposed to trusted and only due a periodic recheck."""
        with self._lock:
            return _learning(self._model(resource_id, circuit_format)[0])

    def explore_quota(self, resource_id: str, circuit_format: str | None = None) -> int:
        """Tasks still to try on the resource before its model is trusted (see the module docstring)."""
        with self._lock:
            model = self._model(resource_id, circuit_format)[0]
            if _learning(model):
                # First tries; then, as every try paid for the executor too, as many again in a
                # later batch (more than one, so the call's fixed part and a task's are not one number).
                tried = model.tasks if model is not None else 0
                return EXPLORE_TRIES - tried if tried < EXPLORE_TRIES else EXPLORE_TRIES
            return 1 if self.tick - model.last_tick >= RECHECK_EVERY else 0

    def burst_quota(self, resource_id: str, circuit_format: str | None = None) -> int:
        """Tasks of a burst to try the resource with before it may take a burst: BURST_TRY while
        its model is trusted but has seen no steady call of BURST_TRY tasks or more, else 0.

        A warm-up's tries run a task or two per call, and what such a call says of a burst's time
        per task hangs on rho, the call's fixed part, which one call size cannot tell
        (`posterior_split`): measured here, Aer runs Bell pubs at 1.05 ms alone and 0.45 ms each
        in a burst (rho 1.3; its plugin states 2), lightning at 2.1 ms alone and 0.35 ms (rho 5).
        A call of BURST_TRY tasks pins it (T8 / T1 is 0.52 at rho 1.3, 0.42 at rho 2), so a
        simulator that has never made one takes a burst's bulk only after such a try (`Plan`).
        Bounded: once per simulator and format, and never after 2 x BURST_TRY steady tasks."""
        with self._lock:
            model = self._model(resource_id, circuit_format)[0]
            if _learning(model) or model.steady >= 2 * BURST_TRY:
                return 0
            if _largest_warm_call(model) >= BURST_TRY:
                return 0
            return BURST_TRY

    def largest_call(self, resource_id: str, circuit_format: str | None = None) -> int:
        """Tasks in the largest warm call of the model the resource is estimated by (0: none yet):
        how far beyond what it has seen an estimate for a burst reaches (`ranking.EXTRAPOLATED`)."""
        with self._lock:
            return _largest_warm_call(self._model(resource_id, circuit_format)[0])

    # -- learning ----------------------------------------------------------------------------------

    def observe(self, resource_id: str, started: float, ended: float, prior_s: float, shots: int,
                summary: CircuitSummary | None = None, circuit_format: str | None = None,
                first: bool | None = None) -> None:
        """One task's run on the resource, from `started` (its preparation) to `ended` (epoch
        seconds). Tasks of one batch share `started`: they count as one observation whose time is
        shared among them. Tasks in `circuit_format` have a model of their own on the resource: what
        converting them costs depends on it. `first`: the call paid for creating its executor or
        conversion path (what the worker saw: `Attempt.cold`); None: it is the store's first batch
        of the model in this process (a worker in another process knows better)."""
        shape = shape_of(shots, summary)
        name = model_key(resource_id, circuit_format)
        due = False
        with self._lock:
            self._cleared.discard(name)
            model = self._models.setdefault(name, ResourceModel())
            key = (name, started)
            batch = self._open.get(key)
            previous = None
            if batch is not None:
                k = batch.members
                batch.shots, batch.width, batch.gates, batch.clifford = (
                    (old * k + new) / (k + 1)
                    for old, new in zip((batch.shots, batch.width, batch.gates, batch.clifford), shape, strict=True))
                batch.prior_s = (batch.prior_s * k + prior_s) / (k + 1)
                batch.members += 1
                grew = ended > batch.ended
                self._run_seconds += max(ended - batch.ended, 0.0)
                batch.ended = max(batch.ended, ended)
            else:
                grew = True
                shots_, width, gates, clifford = shape
                cold = name not in self._warm if first is None else first
                batch = Observation(started, ended, 1, shots_, width, gates, prior_s, cold, clifford)
                self._run_seconds += max(ended - started, 0.0)
                self._warm.add(name)
                self._open[key] = batch
                while len(self._open) > OPEN_BATCHES:
                    self._open.popitem(last=False)
                previous = model.observations[-1] if model.observations else None
                model.observations.append(batch)
                del model.observations[:-KEEP]
                for other in self._models.values():  # batches beside this one: their shares change
                    if other.observations and other.observations[-1].ended > started:
                        other.fitted = None
            if grew:
                self._judge_span(model, batch)
            model.tasks += 1
            model.steady += not batch.first
            model.last_tick = self.tick = self.tick + 1
            model.fitted = None
            self._dirty.add(name)
            # A new estimate reaches plans on a schedule that thins out as the model settles, and
            # at once when what ran is far from what plans were told.
            n = model.tasks
            # A batch is judged at its first member and once complete (its members after the first
            # are the same call: judged each, a burst of 1000 pubs paid 20 ms for it).
            news = batch.members == 1 and self._surprised(model, batch)
            if previous is not None and self._surprised(model, previous, complete=True):
                news = True
            if news or n <= EXPLORE_TRIES + 1 or n & (n - 1) == 0 or n % 256 == 0 or self.tick % RECHECK_EVERY == 0:
                self.version += 1
                due = self.clock() - self._last_save >= SAVE_EVERY_S
        if due:
            self.save()

    def _judge_span(self, model: ResourceModel, batch: Observation) -> None:
        """A batch's span is new or grew (a call's members share one): judge contention once for
        it, a warm batch against the cold calls known, a cold call against the warm batches beside
        it; a burst's thousand members do not each judge it again. Under `_lock`."""
        if not batch.first:
            self._judge_contended(model, batch, counted=batch.members - 1)
            return
        if batch.members == 1:
            self._cold.append(batch)
            del self._cold[:-COLD_KEEP]
        elif not any(c is batch for c in self._cold):
            return
        for (other_name, _), other in self._open.items():  # warm batches it ran beside
            if not other.first and other.started < batch.ended and other.ended > batch.started:
                self._judge_contended(self._models.get(other_name), other)

    def _judge_contended(self, model: ResourceModel | None, batch: Observation, counted: int | None = None) -> None:
        """Count a warm batch as a cold one when for CONTENDED_SHARE of its time or more it ran
        beside cold calls (`_cold`: this store's, from any executor); `counted`: its members
        already counted as steady (all of them when None). Under `_lock`. On RAY a cold call in
        one worker process counts against a warm one in another too: they share the machine's
        cores, not Python's lock, so that costs the simulator one more try, no more.

        A cold call imports an SDK and builds a simulator, holding Python's lock most of the time,
        and a warm call beside it waits for that lock far longer than its share of the workers
        (`shared_seconds`) charges: a qtau.qubit gradient's warm-up tries lightning.qubit's 8
        tapes while Aer (0.65 s) and Braket's local simulator (1.4 s) are imported, and in about one
        process in three they were measured at 3-30 ms a tape against 0.5-1.4 alone, which sent
        every later gradient to default.qubit (0.63x). Counted as cold, such a batch is what a
        first batch is (its excess is the first-call term's, it does not make the model trusted),
        so the simulator is tried again, warm and alone, in a later batch."""
        if model is None or batch.first:
            return
        start, end = batch.started, max(batch.ended, batch.started + 1e-6)
        spans = sorted((max(c.started, start), min(c.ended, end)) for c in self._cold
                       if c is not batch and c.started < end and c.ended > start)
        covered, reach = 0.0, start
        for lo, hi in spans:
            lo = max(lo, reach)
            if hi > lo:
                covered, reach = covered + hi - lo, hi
        if covered < CONTENDED_SHARE * (end - start):
            return
        batch.first = True
        model.steady -= batch.members if counted is None else counted
        model.fitted = None
        self.version += 1

    def _surprised(self, model: ResourceModel, batch: Observation, complete: bool = False) -> bool:
        """Whether `batch` is news to plans: a shape the model's fit had not seen when the batch's
        first member came, or one that took more than SURPRISE (or SURPRISE_SDS noise sds) longer
        or shorter per member than that fit said; at most once per batch, and only while the
        refits news caused (each charged a fit's mean CPU time) cost at most FIT_SHARE of the run
        time the store observed. Under `_lock`.

        A batch's members arrive one by one, all with the batch's whole time, so until the model's
        next batch opens (`complete`) its time per member is known only to be no more than it
        looks: a batch that looks slower is judged then (one task later, one at a time), one that
        looks faster or holds a new shape at once. Judged at its first member, every batch of 17
        gradient tapes looked 17 times slower and refitted the model (3-6% of qtau.qubit's time).

        Why any of it: plans keep each candidate's estimate until the store's version moves, and
        once a model has seen a few hundred tasks the schedule moves it rarely (a refit costs a
        millisecond, which a steady stream of millisecond tasks must not pay each time). A stream
        that changed its kind of circuit was then ranked and estimated by what the model said
        before it saw one of them: rotation circuits one at a time after a GHZ workload were
        expected at 0.3-3 times their run times for the rest of the round, and a shape whose first
        plan put it on BasicSimulator (36 ms; Aer 10 ms) went there every time it came (45% of
        completions within 20% of their estimates; 88% with a new estimate after every task). A
        steady stream of known shapes is no news, so it pays nothing; the budget bounds what a
        stream of ever new shapes pays."""
        if batch.told is None:
            batch.told = model.told
        told = batch.told
        if told is None or batch.first or batch.surprised:
            return False
        x = features(batch.shots, batch.width, batch.gates, batch.clifford)
        if shape_key(x) in told.shapes:
            call, task, _ = told.call_and_task(batch.prior_s, x)
            expected = task + call / batch.members
            off = math.log(max(batch.seconds, 1e-9) / max(expected, 1e-12))
            if abs(off) <= max(SURPRISE, SURPRISE_SDS * told.noise_sd):
                batch.surprised = complete  # no news, for good once complete
                return False
            if off > 0 and not complete:
                return False  # perhaps a batch whose other members are still to come
        if self._news_seconds + self._fit_mean > FIT_SHARE * self._run_seconds:
            return False
        batch.surprised = True
        self._news_seconds += self._fit_mean
        return True

    # -- what users see ----------------------------------------------------------------------------

    def info(self, resource_ids: list[str] | None = None) -> dict[str, Any]:
        """Each model: tasks and observations it learned from, its correction of the plugin's figure
        (a factor, at the reference shape of 1000 shots, 4 qubits, 10 gates) and its noise."""
        with self._lock:
            wanted = None if resource_ids is None else set(resource_ids)
            ids = sorted(k for k in self._models if wanted is None or k.split(KEY_SEP)[0] in wanted)
            out = {}
            for rid in ids:
                model = self._models[rid]
                learned = self._fitted(model) if model.observations else Fit.prior(model.prior_rho)
                recent = model.observations[-1].seconds if model.observations else None
                out[rid] = {"tasks": model.tasks, "observations": len(model.observations),
                            "factor_over_prior": round(math.exp(learned.coef[0]), 4),
                            "noise_sd_log": round(learned.noise_sd, 4), "last_seconds_per_task": recent,
                            "exploring": self.explore_quota(*rid.split(KEY_SEP, 1)) > 0,
                            "burst_try_due": self.burst_quota(*rid.split(KEY_SEP, 1)) > 0}
            return {"file": None if self.path is None else str(self.path), "observed_tasks": self.tick,
                    "resources": out}

    def clear(self, resource_ids: list[str] | None = None) -> None:
        """Forget the models of `resource_ids` (every model when None), here and in the cache file."""
        with self._lock:
            wanted = None if resource_ids is None else set(resource_ids)
            ids = [k for k in self._models if wanted is None or k.split(KEY_SEP)[0] in wanted]
            if resource_ids is not None:
                ids.extend(r for r in resource_ids if r not in ids)
            for rid in ids:
                self._models.pop(rid, None)
                self._cleared.add(rid)
                self._dirty.discard(rid)
            self._open = OrderedDict((k, v) for k, v in self._open.items() if k[0] not in ids)
            self.version += 1
        self.save()

    # -- persistence -------------------------------------------------------------------------------

    def _load(self) -> None:
        if self.path is None:
            return
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        oldest = self.clock() - MAX_AGE_S
        for rid, entry in (data.get("resources") or {}).items() if isinstance(data, dict) else ():
            try:
                observations = [Observation(float(o[0]), float(o[1]), int(o[2]), *map(float, o[3:7]), bool(o[7]),
                                            float(o[8]) if len(o) > 8 else 0.0)
                                for o in entry["observations"] if float(o[1]) >= oldest]
                model = ResourceModel(observations[-KEEP:], int(entry["tasks"]), int(entry["last_tick"]),
                                      steady=int(entry.get("steady", 0)))
            except (KeyError, TypeError, ValueError, IndexError):
                continue  # a model this version cannot read is learned again
            self._models[str(rid)] = model
        tick = data.get("tick", 0) if isinstance(data, dict) else 0
        self.tick = int(tick) if isinstance(tick, int) else 0

    def save(self) -> None:
        """Write the models this store changed into the cache file (merged with what other processes
        wrote there; atomic replace). Failing to write is not an error: the models stay in memory.
        The models are copied under the store's lock and written outside it, so estimates and
        observations never wait for the file."""
        with self._save_lock:
            with self._lock:
                self._last_save = self.clock()
                if self.path is None or not (self._dirty or self._cleared):
                    return
                cleared, dirty = set(self._cleared), set(self._dirty)
                changed = {rid: self._saved_form(self._models[rid]) for rid in dirty if rid in self._models}
                tick = self.tick
                self._dirty.clear()
                self._cleared.clear()
            if not self._write(cleared, changed, tick):
                with self._lock:  # written next time
                    self._cleared |= cleared - set(self._models)
                    self._dirty |= {rid for rid in dirty if rid in self._models}

    @staticmethod
    def _saved_form(model: ResourceModel) -> dict[str, Any]:
        return {"tasks": model.tasks, "steady": model.steady, "last_tick": model.last_tick,
                "observations": [[o.started, o.ended, o.members, o.shots, o.width, o.gates, o.prior_s, o.first,
                                  o.clifford] for o in model.observations]}

    def _write(self, cleared: set[str], changed: dict[str, dict[str, Any]], tick: int) -> bool:
        try:
            data = json.loads(self.path.read_text())
            resources = data["resources"] if isinstance(data, dict) and isinstance(data.get("resources"), dict) else {}
        except (OSError, ValueError):
            resources = {}
        for rid in cleared:
            resources.pop(rid, None)
        resources.update(changed)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".runtime_models.")
            with os.fdopen(fd, "w") as out:
                json.dump({"format": 1, "tick": tick, "resources": resources}, out)
            os.replace(tmp, self.path)
        except OSError:
            return False
        return True


def _largest_warm_call(model: ResourceModel | None) -> int:
    """Members of the model's largest batch that was not a cold call (0: none, or no model)."""
    if model is None:
        return 0
    return max((o.members for o in model.observations if not o.first), default=0)


def _learning(model: ResourceModel | None) -> bool:
    """A model still in its first tries: none yet, fewer than EXPLORE_TRIES, or none after the
    executor's first call."""
    return model is None or model.tasks < EXPLORE_TRIES or not model.steady


_stores: dict[Path | None, RuntimeModels] = {}
_stores_lock = threading.Lock()


def shared_models() -> RuntimeModels:
    """The process's store for the current cache directory: every service of the process learns
    into one and reads what the others learned."""
    directory = cache_directory()
    with _stores_lock:
        store = _stores.get(directory)
        if store is None:
            store = _stores[directory] = RuntimeModels(directory)
        return store


def _save_all() -> None:
    with _stores_lock:
        stores = list(_stores.values())
    for store in stores:
        store.save()


atexit.register(_save_all)
