"""The handles of submitted tasks, and the one path by which their completion reaches QDREAMER.

A task id resolves to its handle for the most recent `memory` tasks (holding every handle would
pin every result, in Ray's object store too). Completion is settled once per task: the engine's
done-callback frees the task's in-flight slot, and the first time its outcome is seen (in the
callback on LOCAL; when results are fetched on RAY, whose callbacks carry no value) QDREAMER
learns from its attempts (failures) and its run time.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from qtau import validation
from qtau.composite import CompositeHandle
from qtau.errors import InvalidTaskError
from qtau.payloads import TaskFailure
from qtau.types import QuantumTask


def attempts_of(outcome: Any) -> tuple:
    """The attempts a task's outcome records: a Result's, or its error's (a batch slot's
    TaskFailure carries the error)."""
    if isinstance(outcome, TaskFailure):
        outcome = outcome.error
    return tuple(getattr(outcome, "attempts", None) or ())


def _finished(outcome: Any) -> cf.Future:
    """A done future holding `outcome` (its error raised, for a failure), for a budget settlement
    that reads the engine's future."""
    future: cf.Future = cf.Future()
    error = outcome.error if isinstance(outcome, TaskFailure) else outcome
    if isinstance(error, BaseException):
        future.set_exception(error)
    else:
        future.set_result(outcome)
    return future


def task_id_of(outcome: Any) -> str | None:
    if isinstance(outcome, TaskFailure):
        return outcome.task_id
    return getattr(outcome, "task_id", None)


class TaskRegistry:
    """Handles by task id, and each task's settlement with QDREAMER (exactly once)."""

    def __init__(self, engine: Any, dreamer: Callable[[], Any], memory: int = 10_000,
                 on_settled: Callable[[str, Any, int], None] | None = None) -> None:
        self.engine = engine
        self.dreamer = dreamer
        self.memory = memory
        #: Called once per submission with the task id, its outcome and the number of its first
        #: attempt (the service's journal records it).
        self.on_settled = on_settled
        self._handles: OrderedDict[str, Any] = OrderedDict()
        self._ids: OrderedDict[Any, str] = OrderedDict()
        #: ids of tasks whose result was collected (their handles let go), to say so when asked again
        self._collected: OrderedDict[str, None] = OrderedDict()
        #: handle -> resource id, for submissions whose in-flight slot is still held. Keyed by
        #: handle, not task id: the same task submitted twice holds two slots and settles twice.
        self._in_flight: dict[Any, str] = {}
        #: handle -> (task id, first attempt number) of submissions whose outcome QDREAMER and the
        #: journal have not seen yet (Ray callbacks carry none)
        self._unlearned: OrderedDict[Any, tuple[str, int]] = OrderedDict()
        #: handle -> its budget settlement, until it ran (`_settle_money`)
        self._also: dict[Any, Callable[[Any], None]] = {}
        self._lock = threading.Lock()
        #: Settlements whose journal record is being written now (`drain` waits for them).
        self._settling = 0
        self._settled = threading.Condition(self._lock)

    def track(self, handle: Any, task_id: str, resource_id: str,
              also: Callable[[Any], None] | None = None, first_attempt: int = 1) -> None:
        """Remember `handle`; when it completes, settle the task and call `also(future)` (budget
        settlement): one callback per handle, as Ray's engine watches each handle once.
        `first_attempt` is the number of the submission's first attempt (for the journal)."""
        with self._lock:
            self._handles[task_id] = handle
            if len(self._handles) > self.memory:
                self._handles.popitem(last=False)
            self._ids[handle] = task_id
            if len(self._ids) > self.memory:
                self._ids.popitem(last=False)
            self._in_flight[handle] = resource_id
            self._unlearned[handle] = (task_id, first_attempt)
            if also is not None:
                self._also[handle] = also
            if len(self._unlearned) > self.memory:
                self._unlearned.popitem(last=False)

        # The handle, until its callback runs. A callback holding it for good would make every
        # LOCAL future a reference cycle (a Future keeps its callbacks after calling them), which
        # only the collector's full passes free: in a burst of 1000 pubs they came to a fifth of
        # the burst's time, scanning every object the SDKs had loaded (docs/cluster.md).
        pending = [handle]

        def done(future: Any) -> None:
            if not pending:
                return
            finished = pending.pop()
            value = None
            if future is not None:
                try:
                    value = future.result()
                except BaseException as err:
                    value = err
            self._settle_money(finished, future)
            self.settle(finished, value)

        self.engine.on_done(handle, done)

    def _settle_money(self, handle: Any, future: Any) -> None:
        """Run the submission's budget settlement (`track`'s `also`) once, whoever comes first: the
        engine's done-callback, or the collection of its result (a waiter can wake before the
        callbacks run, and a budget must show the spend when the result is handed out)."""
        with self._lock:
            also = self._also.pop(handle, None)
        if also is not None:
            also(future)

    def settle(self, handle: Any, outcome: Any = None) -> None:
        """Free the submission's in-flight slot (once) and, once its outcome is known, settle its
        budget hold, let QDREAMER learn from its attempts and the journal record it (once each)."""
        if outcome is not None:
            self._settle_money(handle, handle if isinstance(handle, cf.Future) else _finished(outcome))
        with self._lock:
            rid = self._in_flight.pop(handle, None)
            pending = self._unlearned.pop(handle, None) if outcome is not None else None
            if pending is not None:
                self._settling += 1
        try:
            dreamer = self.dreamer()
            if rid is not None:  # with the attempts, so QDREAMER learns the wait of a task that succeeded
                dreamer.task_finished(rid, attempts_of(outcome) if outcome is not None else ())
            if pending is not None:
                # The journal first: a hand-out of this result must never be durable before it.
                if self.on_settled is not None:
                    self.on_settled(pending[0], outcome, pending[1])
                dreamer.record_failures(attempts_of(outcome))
                dreamer.learn(outcome)
        finally:
            if pending is not None:
                with self._lock:
                    self._settling -= 1
                    self._settled.notify_all()

    def drain(self, timeout: float = 5.0) -> None:
        """Before the journal closes: settle each finished submission whose done-callback has not
        run yet (a waiter can wake before the callbacks of the future it waited for), and wait up
        to `timeout` for settlements under way, so no finished task's outcome misses the journal."""
        with self._lock:
            finished = [h for h in self._unlearned if callable(getattr(h, "done", None)) and h.done()]
        for handle in finished:
            try:
                value = handle.result(timeout=0)
            except BaseException as err:  # the task's error is its outcome
                value = err
            self.settle(handle, value)
        self.wait_settled(timeout)

    def wait_settled(self, timeout: float = 5.0) -> None:
        """Wait up to `timeout` for settlements under way on other threads (a done-callback that
        has taken its submission but not yet recorded it)."""
        deadline = time.monotonic() + timeout
        with self._settled:
            while self._settling and time.monotonic() < deadline:
                self._settled.wait(deadline - time.monotonic())

    def remember(self, handle: Any, task_id: str) -> None:
        """Track a handle that holds no in-flight slot (a recovered task) for id lookups."""
        with self._lock:
            self._handles[task_id] = handle
            self._ids[handle] = task_id

    def task_id(self, handle: Any) -> str | None:
        """The task id of a handle this registry tracks (recent tasks only)."""
        with self._lock:
            return self._ids.get(handle)

    def release(self, task_id: str | None, handle: Any) -> None:
        """Let go of a task's handle once its result has been collected: a held handle pins its
        result (in Ray's object store too), so memory would grow with every task ever run. Only
        that handle: a task submitted again under the same id keeps its newer handle."""
        if task_id is None:
            return
        with self._lock:
            if self._handles.get(task_id) is handle:
                del self._handles[task_id]
                self._ids.pop(handle, None)
                self._collected[task_id] = None
                if len(self._collected) > self.memory:
                    self._collected.popitem(last=False)

    def resolve(self, task: Any) -> Any:
        """The handle of a task given by handle, task id or QuantumTask."""
        if isinstance(task, str):
            with self._lock:
                found = self._handles.get(task)
                collected = found is None and task in self._collected
            if collected:
                raise InvalidTaskError(
                    f"the result of task {task!r} was already collected, and the service let go of its handle",
                    field="task", value=task, fix="keep the Result (or the handle) from the first collection",
                )
            if found is None:
                raise InvalidTaskError(
                    f"unknown task id {task!r}", field="task", value=task,
                    fix=f"pass the handle returned by submit_quantum_task; ids resolve for the last "
                    f"{self.memory} tasks",
                )
            return found
        if isinstance(task, QuantumTask):
            return self.resolve(task.task_id)
        if isinstance(task, CompositeHandle):
            return task
        if not self.engine.owns(task):
            raise validation.foreign_handle(task, "this call")
        return task

    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)
