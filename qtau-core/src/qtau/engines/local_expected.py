"""When a task sent to LOCAL's coalescer will complete: the estimate at placement, made honest
about coalescing, about the pool's workers sharing the machine, and about hand-offs.

QDREAMER's ranking charges a local task the work ahead of it plus its own run time, as if the
pool ran one task after another. What LOCAL does is different, and the estimate must follow it:

- **Units share the machine.** At most `capacity` units (single tasks or coalesced batches) run at
  once on the pool's threads and share the machine: while n run, each progresses at
  min(1, cores / n) of its pace alone (processor sharing; `schedule`). A unit's work is the
  run-time model's call + k x task (alone-seconds). The model learns those from batches charged
  1/(n+1) of every stretch they ran beside n others (`runtime_observations.shared_seconds`: one core),
  so the coalescer predicts with cores = 1 too: with the machine's 2 cores instead, a burst's Aer
  batches were expected at half their time (a batch of 52 GHZ and rotation circuits: 0.4 s
  expected, 0.82 s taken). Whatever the one-core charging misses, the pace below takes up.
- **A gathered task completes with its batch.** While the pool is saturated, tasks gather per
  group and go out as one batch when a unit ends (oldest group first); every member completes
  when the whole batch does. So a gathered task's completion is when its group starts (the
  processor-sharing schedule of the running units and the groups ahead of it) plus its batch's
  run time at the batch's expected size, not the work that happened to be ahead of it when it
  was placed: the first members of a burst wait for the members that arrive after them.
- **The expected size** of a group that has m members so far: the median of the sizes recent
  groups of the same key closed at, among those that reached at least m (a group that already has
  m members ends with at least m), and no more than the submissions expected before it starts at
  the current rate of submission (`Recent.rate`). With no such history, the members it has.
- **The machine's pace, per kind of unit.** The run-time model learns slowly and robustly (a
  pause must not make a simulator look slow for the next sixty tasks), while a machine shared with
  other work runs everything slower for seconds at a time. So each unit that ends says how long
  its predicted work took in shared time while its run lasted (its Result's attempt; without one,
  its time less the hand-off: `Unit`, `Recent.unit_ended`), and a running mean of the logs of
  those ratios (weight SLOWDOWN_WEIGHT, each ratio taken within SLOWDOWN_STEP of the pace so far,
  `Recent.pace`) scales every prediction of that kind of unit: one at a time, the last tasks'
  pace predicts the next one's. Tasks sent alone and gathered
  batches keep a pace each (a batch's starts from the alone pace until one has ended): the model
  learns mostly from tasks run side by side, charged as if on one core, and from a burst's one or
  two batches among them, so its error on a batch is its own (measured on an idle 2-core machine,
  Aer on `qiskit_local`, bursts of rotation circuits after a warm-up: five batches took 1.0-2.6
  times the model's time, three of them 2.0 or more, while the tasks sent alone beside them took
  0.35-2.1 times theirs; one pace for both was set by the alone tasks, and the gathered tasks
  were expected too early).
- **Hand-offs.** A task's completion (`Result.timings`: submitted to finished) also holds the
  hand-offs around its run (the pool's queue, the worker's start, building the Result), which the
  run-time model does not count: ms-scale tasks would be judged on them. The median of what
  recent tasks sent alone spent outside their run, and outside the time from their submission to
  the coalescer (journaling: counted in the expectation as it happened), is added.
- **Overdue units.** A running unit past its predicted end is expected to need OVERDUE_SHARE of its
  work more, not nothing: a group behind it would otherwise be expected to go at once, and at the
  size it had.

All of the above is the *model* (`Expectation.model` keeps its parts). For a gathered task whose
group key has history, the estimate is what the key's recent groups took instead: a group that
has been open `a` seconds and has m members completes when comparable groups did: the median of
(opened -> batch ended) over those of its key's last KEEP_LIFETIMES groups that grew to at least m
members and held circuits alike (the run-time model's mean time of a member run alone, call
included, within a factor COMPARABLE: `alike`), less `a` (`Lifetime`, `Recent.lived`).
Measured on an idle 2-core machine (Aer on `qiskit_local`, bursts of 30-50 GHZ, rotation and
mixed circuits, four traces of 3-7 rounds after a first): bursts complete a median 1.4-2.4 times
later than the model expects while tasks sent one at a time complete about when expected, and
the model's inputs (paces, expected sizes) move from round to round while the groups' lifetimes
move less; replayed on those traces, the share of gathered tasks within 20% went from 0-52%
(model) to 33-96% (history), higher in every trace and workload; in benchmarks/estimates.py,
GHZ and mixed bursts gain, rotation bursts do not (docs/dreamer.md, "Gathered tasks estimated
from their key's groups"). The model stays the estimate of tasks sent alone, of keys without
history, and of a group already open longer than its comparable groups lived.

Every function here is arithmetic on plain numbers; `LocalCoalescer` keeps the state (running
units' remaining work, groups' work, arrival times) on a clock it is given.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import deque
from collections.abc import Sequence

import attrs

#: Recent observations kept: hand-offs, closed group sizes per key, submission times (the
#: last four gaps between submissions say how fast they come now).
KEEP_HANDOFFS = 32
KEEP_SIZES = 16
#: Group keys whose sizes and lifetimes are kept (the oldest key is forgotten first).
KEEP_KEYS = 64
KEEP_ARRIVALS = 5
#: A running unit past its predicted end is expected to need this share of its work more: not
#: nothing (it is plainly not done, and a group behind it would be expected to go at once, too
#: small), not all of it.
OVERDUE_SHARE = 0.25
#: Recent groups' lifetimes kept per group key (the estimate of a gathered task is their median),
#: and how far apart (a factor) the model's mean time of a member run alone may be in groups
#: compared: a resource's groups of ms-long GHZ circuits say nothing of its groups of 50 ms
#: rotation circuits. (Not the task part of a batch, call + k x task: the model learns how a run
#: splits into the two only from batches, and priced the task part of GHZ and rotation members
#: alike, 1-2 ms.) The model's mean alone-seconds of benchmarks/estimates.py's GHZ members were
#: 5-6 ms, of its rotation members 10-12 ms (their groups lived 90-180 and 350-390 ms): a factor
#: of 2 let a resource's GHZ groups stand for its rotation groups (bursts of rotations completed
#: 2.8-3.2 times later than expected, two runs), 1.5 did not (1.0-1.5).
KEEP_LIFETIMES = 8
COMPARABLE = 1.5
#: Weight of the newest unit in the running mean of log(actual / predicted) pace, and the range
#: the pace stays in (one unit's ratio is clipped to it).
SLOWDOWN_WEIGHT = 0.3
SLOWDOWN_RANGE = (1 / 3, 3.0)
#: ... and, around the current pace, at most this factor either way: one unit slowed by something
#: that passed (a process's first batch importing the SDK, 10-20 times its prediction; a garbage
#: collection; another process's burst) moves the pace by at most 1.5**0.3 (1.13 times; 1.39 with
#: the range alone), while a pace that lasts is still followed, unit after unit.
SLOWDOWN_STEP = 1.5


@attrs.define
class Unit:
    """A running unit: its predicted work (alone-seconds), what is left of it, and the shared time
    it has had (wall seconds, each divided among the units running then)."""

    work: float
    #: A gathered batch (or a group of one sent from the queue), not a task sent alone: its pace.
    batch: bool = False
    remaining: float = attrs.field(default=attrs.Factory(lambda self: self.work, takes_self=True))
    seconds: float = 0.0
    #: Wall seconds it has been running.
    wall: float = 0.0
    #: Seconds from its task's submission to the coalescer (a unit of one task sent alone; the
    #: journal, the estimate), counted in its expectation already, so no part of the hand-off.
    before: float = 0.0
    #: A batch whose lifetime is learned: its group key (None: nothing to learn, a task sent
    #: alone or a group split at the batch limit, whose parts did not live as one group), its
    #: members, the model's mean alone-seconds per member, when its group opened and when it
    #: started (coalescer clock).
    group: object = None
    size: int = 0
    alone: float = 0.0
    opened: float = 0.0
    started: float = 0.0

    @property
    def left(self) -> float:
        """The work it is expected to need still (OVERDUE_SHARE of it once past its predicted end)."""
        return max(self.remaining, OVERDUE_SHARE * self.work)

    def shared(self, wall: float, running: int, slowdown: float, cores: float = 1.0) -> None:
        """`wall` seconds passed with `running` units sharing `cores` cores, at pace `slowdown`
        (alone-seconds take slowdown x longer; the pace of the unit's kind)."""
        share = wall / sharing(running, cores)
        self.wall += wall
        self.seconds += share
        self.remaining = max(self.remaining - share / slowdown, 0.0)

    def left_after(self, wall: float, running: int, slowdown: float, cores: float = 1.0) -> float:
        """`left` as it will be once `shared(wall, running, slowdown, cores)` has run, without
        running it (a snapshot that leaves the unit's accounting to the next change of units)."""
        remaining = max(self.remaining - wall / sharing(running, cores) / slowdown, 0.0)
        return max(remaining, OVERDUE_SHARE * self.work)


@attrs.frozen
class Lifetime:
    """A gathered group that ran: its members, the seconds from its first member's arrival to its
    batch's start (`waited`) and from that start to the batch's end (`ran`), and the run-time
    model's mean time of a member run alone (seconds: what kind of circuits it held)."""

    size: int
    waited: float
    ran: float
    alone: float = 0.0


@attrs.frozen
class Expectation:
    """A task's expected completion, made when it was placed, and its parts (seconds).

    `seconds` counts from the task's submission (`Result.timings.submitted_at`) to its result:
    `wait_s` until its unit starts, `run_s` its unit's time (shared with the units beside it),
    `handoff_s` the learned hand-offs. `batch` is the expected size of its unit (1: sent alone),
    `members` the members its group had when it was placed (itself included), `slowdown` the pace
    its own unit's time was scaled by (its kind's: alone or batch; the units ahead of it had
    theirs), and `as_is_s` what `seconds` would be if its group closed with the members it had
    (what the work ahead of it alone says).

    `groups`: how many earlier groups of its key the estimate rests on (their lifetimes; its
    `handoff_s` is then 0, as a lifetime runs to its batch's end); 0 when it is the model's, and
    `model` then None. Otherwise `model` is what the model said (its parts as above)."""

    seconds: float
    wait_s: float
    run_s: float
    handoff_s: float
    batch: float
    members: int
    gathered: bool
    slowdown: float = 1.0
    as_is_s: float = 0.0
    groups: int = 0
    model: Expectation | None = None

    @property
    def source(self) -> str:
        """Where `seconds` comes from, in words."""
        if self.groups:
            return f"the last {self.groups} comparable groups of its resource (lifetimes)"
        return "the run-time model, processor sharing and the recent pace"


@attrs.frozen
class Placed:
    """What a task's expectation is made of, as the coalescer stood when the task was placed: the
    running units' work left, in seconds at their kind's pace (alone-seconds x pace); the rest in
    alone-seconds: whether the task was sent alone, and its own call and task parts; else the
    waiting groups in the order they go (each one's call part, task parts, members, the sizes its
    key's earlier groups closed at), with the task counted in its own (`position`) already or not;
    the rate of submissions, the pace of a task sent alone and of a batch, the hand-off, the
    seconds since its submission, and the pool's capacity and cores."""

    running: tuple[float, ...]
    alone: bool
    call: float
    task: float
    calls: tuple[float, ...]
    tasks: tuple[float, ...]
    counts: tuple[int, ...]
    position: int
    sizes: tuple[tuple[int, ...], ...]
    rate: float
    slowdown: float
    handoff: float
    before: float
    capacity: int
    cores: float
    #: The pace of gathered batches (`slowdown` is that of tasks sent alone).
    batch_slowdown: float = 1.0
    #: A gathered task: the seconds its group had been open, its key's recent lifetimes, and the
    #: mean alone-seconds of its group's members, itself included.
    open_for: float = 0.0
    lifetimes: tuple[Lifetime, ...] = ()
    alone_mean: float = 0.0


def expectation(p: Placed) -> Expectation:
    """The expectation of a task placed as `p` says (see the module docstring): its own unit's end
    if sent alone, else its group's, every waiting group grown to its expected size."""
    # Times from here on are wall seconds: every unit's work scaled by its kind's pace.
    running, slow = list(p.running), p.batch_slowdown

    def span(works: list[float], position: int) -> tuple[float, float]:
        return schedule(running, works, p.capacity, p.cores)[len(running) + position]

    if p.alone:
        slow = p.slowdown
        start, end = span([slow * (p.call + p.task)], 0)  # a free worker: it starts at once
        size, members, as_is = 1.0, 1, end
    else:
        mine = [i == p.position for i in range(len(p.counts))]
        tasks = [t + (p.task if m else 0.0) for t, m in zip(p.tasks, mine, strict=True)]
        counts = [n + m for n, m in zip(p.counts, mine, strict=True)]
        works = [slow * (c + t) for c, t in zip(p.calls, tasks, strict=True)]
        members = counts[p.position]
        starts = schedule(running, works, p.capacity, p.cores)[len(running):]
        as_is = starts[p.position][1]
        # Every waiting group grows until it goes: to as many as its key's earlier groups grew
        # to, no more than the submissions expected before it starts.
        sizes = []
        for n, closed, (ahead, _) in zip(counts, p.sizes, starts, strict=True):
            sizes.append(expected_size(n, closed, p.rate * ahead if ahead > 0 < p.rate else 0.0))
        works = [w + slow * (k - n) * t / n for w, k, n, t in zip(works, sizes, counts, tasks, strict=True)]
        size = sizes[p.position]
        start, end = span(works, p.position)
    before, handoff = p.before, p.handoff
    model = Expectation(before + end + handoff, before + start, end - start, handoff, size, members,
                        not p.alone, slow, before + as_is + handoff)
    return model if p.alone else from_lifetimes(model, p)


def from_lifetimes(model: Expectation, p: Placed) -> Expectation:
    """A gathered task's estimate from its key's recent groups that grew to at least its members
    (the module docstring): the median lifetime less the time its group has been open; `model`
    where there are none, or where its group is already older than that median."""
    comparable = [life for life in p.lifetimes if life.size >= model.members and alike(life.alone, p.alone_mean)]
    if not comparable:
        return model
    left = statistics.median(life.waited + life.ran for life in comparable) - p.open_for
    if left <= 0:
        return model
    wait = min(max(statistics.median(life.waited for life in comparable) - p.open_for, 0.0), left)
    return attrs.evolve(model, seconds=p.before + left, wait_s=p.before + wait, run_s=left - wait,
                        handoff_s=0.0, batch=float(statistics.median(life.size for life in comparable)),
                        groups=len(comparable), model=model)


def alike(a: float, b: float) -> bool:
    """Mean alone-seconds per member within a factor COMPARABLE of each other (both none: alike)."""
    if a <= 0 or b <= 0:
        return a <= 0 and b <= 0
    return max(a, b) / min(a, b) <= COMPARABLE


def schedule(running: Sequence[float], queued: Sequence[float], capacity: int, cores: float = 1.0
             ) -> list[tuple[float, float]]:
    """(start, end) seconds from now of each unit under processor sharing of `cores` cores (n units
    each progress at min(1, cores / n)): `running` (remaining work in alone-seconds) now, then
    `queued` in order, each started when a unit ends while fewer than `capacity` run. Units of
    equal remaining work end together. One pair per unit, running first."""
    n_run = len(running)
    spans: list[list[float]] = [[0.0, math.nan] for _ in running] + [[math.nan, math.nan] for _ in queued]
    active = [(i, max(float(w), 0.0)) for i, w in enumerate(running)]
    nxt, now, cap = 0, 0.0, max(int(capacity), 1)
    while nxt < len(queued) and len(active) < cap:
        spans[n_run + nxt][0] = now
        active.append((n_run + nxt, max(float(queued[nxt]), 0.0)))
        nxt += 1
    while active:
        least = min(w for _, w in active)
        now += least * sharing(len(active), cores)
        left = []
        for i, w in active:
            if w - least <= 1e-12:
                spans[i][1] = now
            else:
                left.append((i, w - least))
        active = left
        while nxt < len(queued) and len(active) < cap:
            spans[n_run + nxt][0] = now
            active.append((n_run + nxt, max(float(queued[nxt]), 0.0)))
            nxt += 1
    return [(s, e) for s, e in spans]


def sharing(units: int, cores: float) -> float:
    """How many times slower each of `units` running units progresses than alone on `cores` cores."""
    return max(units / max(cores, 1e-9), 1.0)


def expected_size(members: int, closed: Sequence[int], arrivals_before_start: float) -> float:
    """The size a group with `members` members (the new one included) is expected to close at:
    the median of the recent `closed` sizes that reached at least `members`, but no more than
    `members` + the submissions expected before it starts; `members` without such history."""
    reached = [k for k in closed if k >= members]
    if not reached:
        return float(members)
    return members + min(max(statistics.median(reached) - members, 0.0), max(arrivals_before_start, 0.0))


class Recent:
    """What recent runs say: hand-offs (seconds outside a task's run), the sizes groups closed at
    and how long groups lived (per group key), and the times of recent submissions (their rate)."""

    def __init__(self) -> None:
        self.handoffs: deque[float] = deque(maxlen=KEEP_HANDOFFS)
        self.sizes: dict[object, deque[int]] = {}
        self.arrivals: deque[float] = deque(maxlen=KEEP_ARRIVALS)
        #: How many times longer than predicted recent units of each kind took (running mean of
        #: logs; keyed by `Unit.batch`): a kind not seen yet has the other's.
        self.paces: dict[bool, float] = {}
        #: Recent groups' lifetimes per group key (`lived`).
        self.lifetimes: dict[object, deque[Lifetime]] = {}
        self._handoff: float | None = None

    def unit_ended(self, unit: Unit, ran: float | None = None) -> None:
        """A unit ended; `ran`: the wall seconds of its run (its Result's attempt), of the unit's
        wall time that also holds the hand-offs (without it, the learned hand-off is taken off)."""
        work, seconds = unit.work, unit.seconds
        if work <= 0 or seconds <= 0:
            return
        if ran is not None and 0 < ran <= unit.wall:
            ran = seconds * ran / unit.wall  # its shared time while it ran
        else:
            ran = max(seconds - self.handoff(), 0.5 * seconds)
        low, high = SLOWDOWN_RANGE
        pace = self.pace(unit.batch)
        ratio = min(max(ran / work, low, pace / SLOWDOWN_STEP), high, pace * SLOWDOWN_STEP)
        self.paces[unit.batch] = math.exp((1 - SLOWDOWN_WEIGHT) * math.log(pace) + SLOWDOWN_WEIGHT * math.log(ratio))

    def pace(self, batch: bool) -> float:
        """How many times longer than predicted a unit of this kind is expected to take now: the
        running mean of its kind, or the other kind's before one of its own has ended (1 before any)."""
        return self.paces.get(batch, self.paces.get(not batch, 1.0))

    def handed_off(self, seconds: float) -> None:
        """A task sent alone spent `seconds` outside its run: keep it (the last KEEP_HANDOFFS)."""
        self.handoffs.append(seconds)
        self._handoff = None

    def handoff(self) -> float:
        """The median hand-off of recent tasks sent alone (0 before any). Kept until the next
        hand-off: every submission asks (under the coalescer's lock), few tasks go alone."""
        if self._handoff is None:
            self._handoff = statistics.median(self.handoffs) if self.handoffs else 0.0
        return self._handoff

    def lived(self, key: object, lifetime: Lifetime) -> None:
        """A gathered group of `key` ran as one batch: keep its lifetime (the last KEEP_LIFETIMES)."""
        keep(self.lifetimes, key, lifetime, KEEP_LIFETIMES)

    def closed(self, key: object, size: int) -> None:
        keep(self.sizes, key, int(size), KEEP_SIZES)

    def rate(self) -> float:
        """Submissions per second now: one over the median of the last gaps between submissions
        (a burst's own first gaps, not the pause before it); 0 with fewer than two submissions."""
        if len(self.arrivals) < 2:
            return 0.0
        gaps = sorted([b - a for a, b in itertools.pairwise(self.arrivals)])
        middle = len(gaps) // 2  # the median, as statistics.median takes it (a list of at most 4)
        gap = gaps[middle] if len(gaps) % 2 else (gaps[middle - 1] + gaps[middle]) / 2
        return 1.0 / gap if gap > 0 else math.inf


def keep(per_key: dict, key: object, value: object, last: int) -> None:
    """Append `value` to `key`'s last `last` values, keeping at most KEEP_KEYS keys."""
    per_key.setdefault(key, deque(maxlen=last)).append(value)
    while len(per_key) > KEEP_KEYS:
        per_key.pop(next(iter(per_key)))
