"""LOCAL's coalescer: single tasks gathered into backend batches while the pool is saturated.

A handle is a `concurrent.futures.Future` returned at once. A gathered task's Future stays
cancellable until its batch starts running, exactly as a queued pool task's (`qtau.coalesce` says
why tasks are gathered and what every engine's coalescer shares).

Given a task's expected run cost (the run-time model's call and task parts), the coalescer also
records when the task is expected to complete, from the units it will share the pool with and the
batch it will join, or, for a gathered task, from how long its key's recent groups lived
(`qtau.engines.local_expected`; `expected(task_id)`).
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import attrs

from qtau.coalesce import MAX_BATCH, Gathered, group_key
from qtau.engines.base import Engine
from qtau.engines.local_expected import Expectation, Lifetime, Placed, Recent, Unit, expectation
from qtau.engines.tasks import run_batch, run_task
from qtau.payloads import BatchPayload, TaskFailure, TaskPayload

#: Expectations kept (by task id) for `expected`.
KEEP_EXPECTED = 4096


@attrs.define
class Group:
    """A waiting group's work as the run-time model prices it (its largest call part, the sum of
    its members' task parts and of their alone-seconds, call included), its members, and when its
    first member arrived (None: the remainder of a group split at the batch limit, which did not
    live as one group)."""

    call: float = 0.0
    task: float = 0.0
    members: int = 0
    alone: float = 0.0
    opened: float | None = None


class LocalCoalescer:
    """LOCAL: at most `capacity` units (single tasks or batches) on the pool; the rest gathered.

    `capacity` is the engine's thread count. Invariant: tasks wait only while `capacity` units are
    running, and every unit that ends sends the oldest waiting group, so nothing waits forever.
    """

    #: `submit` takes a task's expected run cost and records its expectation (`expected`).
    records_expectations = True

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH, clock: Callable[[], float] = time.time,
                 cores: float | None = None) -> None:
        self.engine = engine
        self.capacity = max(int(getattr(engine, "max_workers", 1) or 1), 1)
        self.clock = clock
        #: The cores the pool's units share in the expectations: 1 by default, as the run-time
        #: model charges side-by-side batches (`runtime_observations.shared_seconds`), whose learned
        #: times the expectations are made of (with the machine's 2 cores here, bursts of Aer
        #: batches were expected at half their time: `local_expected` says why).
        self.cores = float(cores or 1)
        self._waiting = Gathered(max_batch)
        self._running = 0
        self._lock = threading.Lock()
        #: Tasks sent and batches formed (for tests and benchmarks).
        self.sent_alone = 0
        self.batches: list[int] = []
        # What expectations are made of (see qtau.engines.local_expected): each running unit's
        # remaining work (alone-seconds, processor sharing since `_at`), each waiting group's work
        # and when it opened (`Group`), recent hand-offs, group sizes and lifetimes, submissions.
        self._units: dict[int, Unit] = {}
        self._at = 0.0
        self._tokens = itertools.count()
        self._groups: dict[tuple, Group] = {}
        self._recent = Recent()
        #: By task id: its Placed's fields (a tuple, made into a Placed when asked: the submission
        #: builds it under the lock), or its Expectation once asked for.
        self._expected: OrderedDict[str, tuple | Expectation] = OrderedDict()

    def expected(self, task_id: str) -> Expectation | None:
        """When the task was expected to complete, as placed (None: submitted without a cost)."""
        with self._lock:
            placed = self._expected.get(task_id)
            if isinstance(placed, tuple):  # Placed's fields, as `_expect` kept them
                placed = self._expected[task_id] = expectation(Placed(*placed))
            return placed

    def submit(self, payload: TaskPayload, cost: tuple[float, float] | None = None) -> cf.Future:
        """Send or gather one task; `cost`: its expected (call, task) alone-seconds on its
        resource (`RuntimeEstimate.call_seconds`, `task_seconds`), for its expectation."""
        key = group_key(payload)
        handle: cf.Future = cf.Future()  # made before the lock: the critical section stays short
        with self._lock:
            now = self.clock()
            self._recent.arrivals.append(now)
            alone = self._running < self.capacity
            if alone:  # the running units change: account for their shared time up to now first
                self._advance(now)
            if cost is not None:
                self._expect(payload, key, cost, alone, now)
            if alone:
                self._running += 1
                self.sent_alone += 1
                token = next(self._tokens)
                self._units[token] = Unit(sum(cost) if cost is not None else 0.0,
                                          before=max(now - payload.submitted_at, 0.0))
            else:
                self._waiting.add(key, (payload, handle))
                group = self._groups.setdefault(key, Group(opened=now))
                if cost is not None:
                    group.call = max(group.call, cost[0])
                    group.task += cost[1]
                    group.alone += sum(cost)
                group.members += 1
        if not alone:
            return handle
        try:
            future = self.engine.submit(run_task, payload)
        except BaseException:
            self._unit_done(token, None)
            raise
        future.add_done_callback(lambda unit: self._alone_done(token, unit))
        return future

    def _advance(self, now: float) -> None:
        """Processor sharing up to `now`: each running unit had 1/n of the time since `_at`. Run
        whenever the running units change (a unit starts or ends); between two changes the shares
        and paces stay as they are, so a gathered submission leaves it to the next change and reads
        the units as they will be (`Unit.left_after`)."""
        if self._units and now > self._at:
            for unit in self._units.values():
                unit.shared(now - self._at, len(self._units), self._recent.pace(unit.batch), self.cores)
        self._at = max(now, self._at)

    def _expect(self, payload: TaskPayload, key: tuple, cost: tuple[float, float], alone: bool, now: float) -> None:
        """Keep what the task's expectation is made of, as it is now (`Placed`'s fields); the arithmetic
        runs when `expected` is asked, not on the submission's path."""
        call, task = cost
        open_for, lifetimes, alone_mean = 0.0, (), 0.0
        if alone:
            keys, position = [], 0
        else:  # the waiting groups in the order they will go, this task's group included (last if new)
            keys = list(self._waiting.groups)
            if key not in keys:
                keys.append(key)
                self._groups[key] = Group(call=call, opened=now)
            position = keys.index(key)
            mine = self._groups[key]
            if mine.opened is not None:
                open_for, lifetimes = now - mine.opened, tuple(self._recent.lifetimes.get(key, ()))
                alone_mean = (mine.alone + call + task) / (mine.members + 1)
        groups, pace = [self._groups[g] for g in keys], self._recent.pace
        wall, running = max(now - self._at, 0.0), len(self._units)
        self._expected[payload.task.task_id] = (
            tuple(pace(unit.batch) * unit.left_after(wall, running, pace(unit.batch), self.cores)
                  for unit in self._units.values()), alone, call, task,
            tuple(g.call for g in groups), tuple(g.task for g in groups), tuple(g.members for g in groups),
            position, tuple(tuple(self._recent.sizes.get(g, ())) for g in keys), self._recent.rate(),
            pace(False), self._recent.handoff(), max(now - payload.submitted_at, 0.0),
            self.capacity, self.cores, pace(True), open_for, lifetimes, alone_mean)
        if len(self._expected) > KEEP_EXPECTED:
            self._expected.popitem(last=False)

    def _alone_done(self, token: int, unit: cf.Future) -> None:
        """A task sent alone ended: learn its hand-off (its time outside its run), then as any unit."""
        try:
            result = None if unit.cancelled() or unit.exception() is not None else unit.result()
        except BaseException:  # noqa: BLE001 - an outcome that cannot be read teaches nothing
            result = None
        timings = getattr(result, "timings", None)
        ran = ran_of(result)
        if timings is not None and ran is not None:
            with self._lock:
                before = self._units[token].before if token in self._units else 0.0
                self._recent.handed_off(max(timings.finished_at - timings.submitted_at - ran - before, 0.0))
        self._unit_done(token, unit, ran)

    def _unit_done(self, token: int, unit: cf.Future | None, ran: float | None = None) -> None:
        """A unit ended (`ran`: its run's wall seconds, when known): send the oldest waiting group
        in its place."""
        with self._lock:
            now = self.clock()
            self._advance(now)
            ended = self._units.pop(token, None)
            if ended is not None:
                self._recent.unit_ended(ended, ran)
                if ended.group is not None and ran is not None:  # a group that ran: how long it lived
                    self._recent.lived(ended.group, Lifetime(ended.size, ended.started - ended.opened,
                                                             now - ended.started, ended.alone))
            key = next(iter(self._waiting.groups), None)
            batch = self._waiting.take()
            if batch is None:
                self._running -= 1
                return
            self.batches.append(len(batch))
            group = self._groups.pop(key, None) or Group()
            call, task, alone, opened = group.call, group.task, group.alone, group.opened
            self._recent.closed(key, len(batch))
            if key in self._waiting.groups:  # more than max_batch: the rest stays, with its share
                share = len(batch) / max(group.members, 1)
                # neither part lived as one group: no lifetime for either (opened None)
                self._groups[key] = Group(call, task * (1 - share), group.members - len(batch), alone * (1 - share))
                task, alone, opened = task * share, alone * share, None
            token = next(self._tokens)
            self._units[token] = Unit(call + task, batch=True, group=None if opened is None else key,
                                      size=len(batch), opened=opened or 0.0, started=now,
                                      alone=alone / max(len(batch), 1))
        try:
            future = self.engine.submit(_run_gathered, batch)
        except BaseException as err:  # the pool is gone (interpreter exit): fail the batch's tasks
            for _, handle in batch:
                if handle.set_running_or_notify_cancel():
                    handle.set_exception(err)
            self._unit_done(token, None)
            return

        def ended(unit: cf.Future) -> None:
            if unit.cancelled():  # shut down before it ran: its tasks are cancelled too
                for _, handle in batch:
                    handle.cancel()
            # The first member whose run is known says how long the batch ran (they share the call).
            runs = (ran_of(h.result()) for _, h in batch if h.done() and not h.cancelled() and h.exception() is None)
            self._unit_done(token, unit, next((r for r in runs if r is not None), None))

        future.add_done_callback(ended)

    def close(self) -> None:
        """Cancel every task still waiting (the service is shutting down)."""
        with self._lock:
            waiting = self._waiting.drain()
            self._groups.clear()
        for _, handle in waiting:
            handle.cancel()


def ran_of(result: object) -> float | None:
    """The wall seconds of a Result's run: its one attempt, when that succeeded (else None)."""
    attempts = getattr(result, "attempts", ())
    if len(attempts) != 1 or not attempts[0].ok:
        return None
    return attempts[0].ended_at - attempts[0].started_at


def _run_gathered(batch: list[tuple[TaskPayload, cf.Future]]) -> None:
    """Run gathered tasks as one batch on a pool thread; each Future gets its own outcome.

    A Future cancelled before this point is left out, as a queued pool task would be.
    """
    live = [(payload, handle) for payload, handle in batch if handle.set_running_or_notify_cancel()]
    if not live:
        return
    if len(live) == 1:  # the single-task path, exactly as if it had never waited
        payload, handle = live[0]
        try:
            handle.set_result(run_task(payload))
        except BaseException as err:
            handle.set_exception(err)
        return
    try:
        values = run_batch(BatchPayload(tuple(p for p, _ in live)))
    except BaseException as err:
        for _, handle in live:
            handle.set_exception(err)
        return
    for (_, handle), value in zip(live, values, strict=True):
        if isinstance(value, TaskFailure):
            handle.set_exception(value.error)
        else:
            handle.set_result(value)
