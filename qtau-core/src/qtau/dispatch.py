"""Submission: from a checked task to a handle on the engine. Nothing here faces the user.

The service's facade hands each task here. QDREAMER places it (reserving its in-flight slot and
its budget in the same step), its payload is built once (`Dispatcher.payload`), its attempts are
numbered after every earlier try (`AttemptNumbers`, the journal's count included), and it is
routed: a remote first placement to the engine's remote-job tracker, a resource request to a
submit that asks for it, a split to `qtau.split`, else the engine's coalescer or the engine itself.
A burst (`submit_many`) groups per first resource and resource request into backend batches.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import attrs

from qtau.cutting.tasks import quoted_pieces
from qtau.dreamer import QDreamer
from qtau.dreamer.admission import admit, settler
from qtau.dreamer.quote import Quote, quote_tasks
from qtau.engines.base import Engine
from qtau.engines.tasks import run_batch, run_task
from qtau.errors import InvalidTaskError, NoSuitableResourceError, QtauError
from qtau.mitigation.choice import resolve_auto
from qtau.payloads import BatchPayload, Placement, TaskPayload
from qtau.plugins import PluginHost
from qtau.registry import TaskRegistry
from qtau.resource_request import request_of
from qtau.split import SplitPlan, deadline_split, plan_split, submit_split
from qtau.types import QuantumTask

#: Seconds a burst's next try, or its bulk, waits at most for the tries before it on simulators
#: still being learned (`Dispatcher._trials`).
TRIALS_FIRST_S = 0.5


class Flushable(Protocol):
    def flush(self) -> None: ...

    def persist(self) -> None: ...


class SubmissionJournal(Protocol):
    """What submission asks of the service's journal (`qtau.journal.service_journal.ServiceJournal`)."""

    key: str
    journal: Flushable

    def submitted(self, task: QuantumTask, submitted_at: float, durable: bool = True) -> None: ...

    def first_attempt(self, task: QuantumTask, tries: int = 1, at_least: int = 1) -> int: ...


class AttemptNumbers:
    """The number of the next first attempt of each recently submitted task id.

    Attempt numbers feed idempotency tokens (Braket's clientToken): the same task object submitted
    again must not be numbered as the earlier submission's tries were. Remembers `memory` ids."""

    def __init__(self, memory: int) -> None:
        self.memory = memory
        self._next: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, task_id: str) -> int:
        """The first attempt number of this submission of `task_id` (1 for a new task)."""
        with self._lock:
            return self._next.pop(task_id, 1)

    def keep(self, task_id: str, following: int) -> None:
        """Remember that a later submission of `task_id` starts at attempt `following`."""
        with self._lock:
            self._next[task_id] = following
            if len(self._next) > self.memory:
                self._next.popitem(last=False)


class Dispatcher:
    """Places, numbers, journals and starts tasks on the engine; tracks their handles."""

    def __init__(self, host: PluginHost, engine: Engine, registry: TaskRegistry,
                 dreamer: Callable[[], QDreamer], journal: SubmissionJournal | None, *,
                 coalesce: bool, durable: bool, batch_chunks: int | None, memory: int) -> None:
        self.host = host
        self.engine = engine
        self.registry = registry
        self._dreamer = dreamer
        self.journal = journal
        self.coalesce = coalesce
        self.durable = durable
        self.batch_chunks = batch_chunks
        self.numbers = AttemptNumbers(memory)
        #: The engine's coalescer, made on the first task it takes (None until then).
        self.coalescer: Any = None

    @property
    def dreamer(self) -> QDreamer:
        return self._dreamer()

    # -- payloads --------------------------------------------------------------------------------

    def payload(self, task: QuantumTask, placements: Sequence[Placement], now: float, *,
                first_attempt: int = 1, journaled: bool = False, coalesce: bool = False,
                attach: tuple[int, Any] | None = None, max_runs: int | None = None) -> TaskPayload:
        """The one place a TaskPayload is built: a whole task, a split's part, a recovered job."""
        tracker = self.engine.remote_tracker() if any(p.remote for p in placements) else None
        journal = self.journal.key if journaled and self.journal is not None else None
        return TaskPayload(self.host.spec(), task, tuple(placements), now, tracker=tracker,
                           first_attempt=first_attempt, journal=journal, attach=attach, coalesce=coalesce,
                           max_runs=max_runs)

    def numbered(self, task: QuantumTask, placements: Sequence[Placement], now: float,
                 durable: bool = True) -> TaskPayload:
        """A whole task's payload: journaled as submitted (on disk before this returns when
        `durable` and the service is), its attempts numbered after every earlier try."""
        first = self.numbers.take(task.task_id)
        if self.journal is not None:
            self.journal.submitted(task, now, durable and self.durable)
            first = self.journal.first_attempt(task, len(placements), at_least=first)
        self.numbers.keep(task.task_id, first + len(placements))
        return self.payload(task, placements, now, first_attempt=first, journaled=True, coalesce=self.coalesce,
                            max_runs=self.dreamer.config.max_attempts)

    # -- submitting ------------------------------------------------------------------------------

    def check(self, task: Any, planned: set[tuple] | None = None) -> QuantumTask:
        """`task` if it is a QuantumTask whose resource request the engine can meet, its
        `mitigation="auto"` resolved to the technique it will run with (`planned`: the readout
        calibrations the tasks submitted with it will run, shared rather than priced again)."""
        if not isinstance(task, QuantumTask):
            raise InvalidTaskError(
                f"submit_quantum_task takes a QuantumTask, not {type(task).__name__}", field="task",
                value=type(task).__name__, fix="wrap the circuit: QuantumTask(circuit=qc, num_qubits=2)",
            )
        request = request_of(task.resource_config)
        if request:  # refused here, where the task is given, not left pending or run short
            self.engine.check_request(request)
        return resolve_auto(self.dreamer, task, planned)  # mitigation="auto": the pair QDREAMER chooses

    def quote(self, service: Any, tasks: Any) -> Quote:
        """`tasks` quoted now: a task with observables as the pieces it would run as (its plan in
        the quote's notes), mitigation="auto" as it would run (the pair chosen as for a submission
        of these tasks together, priced with every calibration fresh: the most it can cost)."""
        flat, notes = quoted_pieces(service, tasks)
        planned: set[tuple] = set()
        flat = [resolve_auto(self.dreamer, t, planned) if isinstance(t, QuantumTask) else t for t in flat]
        quote = quote_tasks(self.dreamer, flat, plan_split, deadline_split)
        return attrs.evolve(quote, warnings=(*quote.warnings, *notes))

    def submit(self, task: QuantumTask) -> Any:
        """Place one checked task and start it; its handle."""
        dreamer = self.dreamer
        if task.split:
            return self.split(task, plan_split(dreamer, task))
        # reserve=True counts the task in flight in the same locked step as the decision, so
        # threads submitting at once see each other's choices.
        try:
            placements = dreamer.place(task, reserve=True)
        except NoSuitableResourceError as missed:
            return self.split(task, deadline_split(dreamer, task, missed))
        placements, hold = admit(dreamer, task, placements)
        try:
            payload = self.numbered(task, placements, time.time())
            handle = self._start(payload, request_of(task.resource_config))
        except BaseException:  # the journal or the engine refused it: nothing stays held or in flight
            dreamer.budgets.settle(hold, None)
            dreamer.task_finished(placements[0].resource.id)
            raise
        self.registry.track(handle, task.task_id, placements[0].resource.id, settler(dreamer.budgets, hold),
                            payload.first_attempt)
        return handle

    def _start(self, payload: TaskPayload, request: dict[str, float]) -> Any:
        """Route one payload: remote tracker, requested submit, coalescer, or the engine."""
        if payload.placements[0].remote:
            return self.engine.submit_remote(payload)
        if set(request) - {"num_qpus"}:
            return self.engine.submit_requested(run_task, payload, request)
        if self.coalesce:
            if self.coalescer is None:
                self.coalescer = self.engine.coalescer()
            if getattr(self.coalescer, "records_expectations", False):
                return self.coalescer.submit(payload, self.run_cost(payload))
            return self.coalescer.submit(payload)
        return self.engine.submit(run_task, payload)

    def run_cost(self, payload: TaskPayload) -> tuple[float, float] | None:
        """The task's expected (call, task) seconds alone on its first resource, as the run-time
        model says for the shape it was placed by (`QDreamer.placed_estimate`), for the
        coalescer's expectation; None where none is known."""
        estimate = self.dreamer.placed_estimate(payload.task.task_id, payload.placements[0].resource.id)
        return None if estimate is None else (estimate.call_seconds, estimate.task_seconds)

    def expected(self, task_id: str) -> Any:
        """When a task sent through the coalescer was expected to complete, as placed
        (`qtau.engines.local_expected.Expectation`); None for other tasks or engines."""
        reader = getattr(self.coalescer, "expected", None)
        return reader(task_id) if reader is not None else None

    def split(self, task: QuantumTask, plan: SplitPlan) -> Any:
        return submit_split(self, task, plan)

    def submit_many(self, tasks: list[QuantumTask]) -> list[Any]:
        """Place checked tasks and start them as backend batches per resource; one handle each."""
        dreamer = self.dreamer
        groups: dict[tuple, list[tuple[int, TaskPayload]]] = {}
        holds: dict[str, Any] = {}
        splits: list[tuple[int, QuantumTask, SplitPlan]] = []
        now = time.time()

        def undo() -> None:
            # Nothing was submitted: undo the in-flight counts and budget holds of the tasks placed
            # before the bad one.
            for key, members in groups.items():
                for _ in members:
                    dreamer.task_finished(key[0])
            for hold in holds.values():
                dreamer.budgets.settle(hold, None)

        try:
            for i, task in enumerate(tasks):
                if task.split:
                    splits.append((i, task, plan_split(dreamer, task)))
                    continue
                # Reserved as we go, so the burst itself spreads over equally good resources.
                try:
                    placements = dreamer.place(task, reserve=True)
                except NoSuitableResourceError as missed:
                    splits.append((i, task, deadline_split(dreamer, task, missed)))
                    continue
                placements, holds[task.task_id] = admit(dreamer, task, placements)
                try:
                    payload = self.numbered(task, placements, now, durable=False)
                except QtauError:
                    dreamer.task_finished(placements[0].resource.id)
                    raise
                # Members of one batch share their resource and what they ask of the engine.
                request = tuple(sorted(request_of(task.resource_config).items()))
                groups.setdefault((placements[0].resource.id, request), []).append((i, payload))
            if self.journal is not None and self.durable:
                # The burst on disk (one log write) before any of it starts. A service created
                # with durable=False only queues it, as it does one task: the writer makes the
                # payloads, or skips those of tasks that end within its window (docs/journal.md).
                self.journal.journal.persist()
        except QtauError:
            undo()
            raise
        handles: list[Any] = [None] * len(tasks)
        try:
            for i, task, plan in splits:
                handles[i] = self.split(task, plan)
        except QtauError:
            undo()
            raise
        trying = self._trials(groups)
        tried: list[Any] = []
        for n, (rid, request) in enumerate([*trying, *(key for key in groups if key not in trying)]):
            if tried and n <= len(trying):
                # The burst's tries on simulators still being learned run one simulator at a time
                # and before its bulk, so their run times are measured alone rather than beside
                # another's (a one-millisecond try beside another simulator's was charged half
                # its time and looked twice as fast as it runs a burst). Each wait is bounded.
                self.engine.wait(tried, TRIALS_FIRST_S)
            members = groups[(rid, request)]
            # A try is one backend call (its first task alone when it pays for the executor).
            batches = self._start_batches(members, dict(request), chunks=1 if n < len(trying) else None)
            for chunk, slot_handles in batches:
                if n < len(trying):
                    tried.extend(slot_handles)
                for (i, member), handle in zip(chunk, slot_handles, strict=True):
                    handles[i] = handle
                    self.registry.track(handle, member.task.task_id, rid,
                                        settler(dreamer.budgets, holds.get(member.task.task_id)),
                                        member.first_attempt)
        return handles

    def _trials(self, groups: dict[tuple, list[tuple[int, TaskPayload]]]) -> list[tuple]:
        """The groups of a burst that are QDREAMER's first tries of a local simulator it is still
        learning, or its first try of one in a burst (`dreamer.runtime_model`: exploration), when
        the burst has other groups too."""
        if len(groups) < 2:
            return []
        dreamer = self.dreamer
        out = []
        for key, members in groups.items():
            placement = members[0][1].placements[0]
            if placement.remote:
                continue
            _, fmt = dreamer.summarize(members[0][1].task)
            rid = placement.resource.id
            runtime = dreamer.runtime
            # Not a trusted model's periodic recheck (that one task may run beside the bulk), but
            # its try in a burst (`RuntimeModels.burst_quota`) is one.
            quota = runtime.explore_quota(rid, fmt) if runtime.still_learning(rid, fmt) else runtime.burst_quota(rid, fmt)
            if 0 < len(members) <= quota:
                out.append(key)
        return out if len(out) < len(groups) else []

    def _start_batches(self, members: list[tuple[int, TaskPayload]], request: dict[str, float],
                       chunks: int | None = None) -> list[tuple[list[tuple[int, TaskPayload]], list[Any]]]:
        """One resource's members as batches: one provider batch for a remote resource, else
        `chunks` chunks, by default as many as the engine runs at once for it (each chunk one
        backend call)."""
        placement = members[0][1].placements[0]
        remote = placement.remote
        if remote:
            chunks = 1
        elif chunks is None:
            chunks = self.batch_chunks or self.engine.parallelism(placement.resource)
        if chunks > 1:  # tasks that can share a readout calibration in one chunk: it runs once there
            members = sorted(members, key=lambda member: self._calibration_group(member[1].task))
        size = max(1, math.ceil(len(members) / chunks))
        out = []
        for start in range(0, len(members), size):
            chunk = members[start:start + size]
            payload = BatchPayload(tuple(m for _, m in chunk))
            if remote:
                handles = self.engine.submit_remote_batch(payload, len(chunk))
            elif set(request) - {"num_qpus"}:
                handles = self.engine.submit_requested_batch(run_batch, payload, len(chunk), request)
            else:
                handles = self.engine.submit_batch(run_batch, payload, len(chunk))
            out.append((chunk, handles))
        return out

    def _calibration_group(self, task: QuantumTask) -> tuple:
        """What decides whether two tasks of one resource can share a readout calibration: its
        kind, the shots, and the circuit's width and gates (one calibration serves a width on a
        simulator, one circuit on a device that lays circuits out itself). Tasks without one
        sort first, in their order."""
        readout = task.mitigation.readout
        if readout is None:
            return ()
        try:
            summary, _ = self.dreamer.summarize(task)
        except QtauError:
            return (readout, task.shots)
        return (readout, task.shots, summary.num_qubits, tuple(sorted(summary.gate_counts.items())))

    def close(self) -> None:
        """Cancel what the coalescer still holds (the service is shutting down)."""
        if self.coalescer is not None:
            self.coalescer.close()
