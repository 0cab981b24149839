"""ExecutionEngine.LOCAL: an in-process thread pool with Future handles.

Threads suit simulators, which release the GIL in their native code. The pool is process-wide
and its threads live as long as the process (`qtau.threads` says why: qiskit 2.6 crashes when the
thread that first imported it has exited); a service's shutdown cancels only its own futures.
Tasks on remote resources go to the process's remote-job tracker (`qtau.tracker`), which holds no
pool thread while a job is queued at its provider; tasks submitted one by one gather into batches
while the pool is saturated (`coalescer()`, `qtau.engines.local_coalesce`).
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from qtau.coalesce import MAX_BATCH
from qtau.engines.base import Engine
from qtau.engines.isolation import bounded
from qtau.engines.local_coalesce import LocalCoalescer
from qtau.errors import TaskCancelledError, TaskTimeoutError
from qtau.plugins import missing_plugins
from qtau.threads import shared_pool
from qtau.tracker import local_tracker
from qtau.types import Resource


class LocalEngine(Engine):
    name = "local"

    def __init__(self, max_workers: int | None = None, **_: Any) -> None:
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 2)
        self._pool: cf.ThreadPoolExecutor | None = None
        self._pending: set[cf.Future] = set()
        #: handle -> the tracker's future behind it (a batch's members share one)
        self._remote: dict[cf.Future, cf.Future] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._pool is None:
            self._pool = shared_pool(self.max_workers)

    def submit(self, fn: Callable[[Any], Any], payload: Any) -> cf.Future:
        self.start()
        future = self._pool.submit(bounded(fn, payload), payload)  # a timeout ends a child process
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: cf.Future) -> None:
        with self._lock:
            self._pending.discard(future)

    def submit_batch(self, fn: Callable[[Any], list], payload: Any, n: int) -> list[cf.Future]:
        return fan_out(self.submit(fn, payload), n)

    def coalescer(self, max_batch: int = MAX_BATCH) -> LocalCoalescer:
        return LocalCoalescer(self, max_batch)

    def parallelism(self, resource: Resource | None = None) -> int:
        """One chunk per CPU, or one where the resource's executor runs one call at a time per
        process (`serial_in_process` in its metadata), where chunks would only wait for each other."""
        if resource is not None and resource.metadata.get("serial_in_process"):
            return 1
        return super().parallelism(resource)

    def submit_remote(self, payload: Any) -> cf.Future:
        whole = local_tracker().submit(payload)
        self._remember(whole, [whole])
        return whole

    def submit_remote_batch(self, payload: Any, n: int) -> list[cf.Future]:
        whole = local_tracker().submit_batch(payload)
        slots = fan_out(whole, n)
        self._remember(whole, slots)
        return slots

    def _remember(self, whole: cf.Future, handles: list[cf.Future]) -> None:
        """Remote work in flight: what `cancel` and `shutdown` cancel at the provider."""
        with self._lock:
            for handle in handles:
                self._remote[handle] = whole

        def forget(_: cf.Future) -> None:
            with self._lock:
                for handle in handles:
                    self._remote.pop(handle, None)

        whole.add_done_callback(forget)

    def completed(self, value: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        if isinstance(value, BaseException):
            future.set_exception(value)
        else:
            future.set_result(value)
        return future

    def wait(self, handles: Sequence[cf.Future], timeout: float | None) -> tuple[list, list]:
        done, pending = cf.wait(list(handles), timeout=timeout)
        return [h for h in handles if h in done], [h for h in handles if h in pending]

    def get(self, handle: cf.Future, timeout: float | None = None) -> Any:
        try:
            return handle.result(timeout)
        except cf.CancelledError:
            raise TaskCancelledError(
                "the task was cancelled before it produced a result", field="task", value="cancelled",
                fix="submit the task again if you still need its result",
            ) from None
        except cf.TimeoutError:
            raise TaskTimeoutError(
                f"task not done within {timeout} s", field="timeout", value=timeout,
                fix="wait longer, or cancel the task",
            ) from None

    def on_done(self, handle: cf.Future, callback: Callable[[Any], None]) -> None:
        handle.add_done_callback(callback)

    def cancel(self, handle: cf.Future) -> bool:
        """Cancel a task. A remote task's provider job is cancelled too (a batch bound for a
        remote resource is one provider batch: cancelling one member cancels the batch)."""
        with self._lock:
            whole = self._remote.get(handle)
        if whole is not None:
            return whole.cancel()
        return handle.cancel()

    def owns(self, handle: Any) -> bool:
        return isinstance(handle, cf.Future)

    def check_plugins(self, spec: Any) -> Callable[[float | None], list[str]]:
        missing = missing_plugins(spec)
        return lambda timeout: missing

    def poll(self, force: bool = False) -> None:
        """Futures call back by themselves."""

    def shutdown(self) -> None:
        # The pool is shared and outlives this engine: cancel what this engine queued, nothing else;
        # then cancel this engine's provider jobs and wait (bounded) until the provider has them.
        with self._lock:
            pending, self._pending = list(self._pending), set()
            remote = list(set(self._remote.values()))
        for future in pending:
            future.cancel()
        if remote:
            local_tracker().cancel_and_wait(remote)
        self._pool = None


def fan_out(whole: cf.Future, n: int) -> list[cf.Future]:
    """One Future per value of `whole`'s list result (an error reaches every slot)."""
    slots: list[cf.Future] = [cf.Future() for _ in range(n)]
    for slot in slots:
        slot.set_running_or_notify_cancel()

    def spread(done: cf.Future) -> None:
        try:
            values = done.result()
        except BaseException as err:
            for slot in slots:
                slot.set_exception(err)
            return
        for i, slot in enumerate(slots):
            slot.set_result(values[i])

    whole.add_done_callback(spread)
    return slots
