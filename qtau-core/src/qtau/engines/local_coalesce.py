"""LOCAL's coalescer: single tasks gathered into backend batches while the pool is saturated.

A handle is a `concurrent.futures.Future` returned at once. A gathered task's Future stays
cancellable until its batch starts running, exactly as a queued pool task's (`qtau.coalesce` says
why tasks are gathered and what every engine's coalescer shares).
"""

from __future__ import annotations

import concurrent.futures as cf
import threading

from qtau.coalesce import MAX_BATCH, Gathered, group_key
from qtau.engines.base import Engine
from qtau.engines.tasks import run_batch, run_task
from qtau.payloads import BatchPayload, TaskFailure, TaskPayload


class LocalCoalescer:
    """LOCAL: at most `capacity` units (single tasks or batches) on the pool; the rest gathered.

    `capacity` is the engine's thread count. Invariant: tasks wait only while `capacity` units are
    running, and every unit that ends sends the oldest waiting group, so nothing waits forever.
    """

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.capacity = max(int(getattr(engine, "max_workers", 1) or 1), 1)
        self._waiting = Gathered(max_batch)
        self._running = 0
        self._lock = threading.Lock()
        #: Tasks sent and batches formed (for tests and benchmarks).
        self.sent_alone = 0
        self.batches: list[int] = []

    def submit(self, payload: TaskPayload) -> cf.Future:
        with self._lock:
            alone = self._running < self.capacity
            if alone:
                self._running += 1
                self.sent_alone += 1
            else:
                handle: cf.Future = cf.Future()
                self._waiting.add(group_key(payload), (payload, handle))
        if not alone:
            return handle
        try:
            future = self.engine.submit(run_task, payload)
        except BaseException:
            self._unit_done(None)
            raise
        future.add_done_callback(self._unit_done)
        return future

    def _unit_done(self, unit: cf.Future | None) -> None:
        """A unit ended: send the oldest waiting group in its place."""
        with self._lock:
            batch = self._waiting.take()
            if batch is None:
                self._running -= 1
                return
            self.batches.append(len(batch))
        try:
            future = self.engine.submit(_run_gathered, batch)
        except BaseException as err:  # the pool is gone (interpreter exit): fail the batch's tasks
            for _, handle in batch:
                if handle.set_running_or_notify_cancel():
                    handle.set_exception(err)
            self._unit_done(None)
            return

        def ended(unit: cf.Future) -> None:
            if unit.cancelled():  # shut down before it ran: its tasks are cancelled too
                for _, handle in batch:
                    handle.cancel()
            self._unit_done(unit)

        future.add_done_callback(ended)

    def close(self) -> None:
        """Cancel every task still waiting (the service is shutting down)."""
        with self._lock:
            waiting = self._waiting.drain()
        for _, handle in waiting:
            handle.cancel()


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
