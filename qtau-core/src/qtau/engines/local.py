"""ExecutionEngine.LOCAL: an in-process thread pool with Future handles.

Threads suit simulators, which release the GIL in their native code. The pool is process-wide
and its threads live as long as the process (`qtau.threads` says why: qiskit 2.6 crashes when the
thread that first imported it has exited); a service's shutdown cancels only its own futures.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from qtau.engines.base import Engine
from qtau.errors import TaskCancelledError, TaskTimeoutError
from qtau.plugins import missing_plugins
from qtau.threads import shared_pool


class LocalEngine(Engine):
    name = "local"

    def __init__(self, max_workers: int | None = None, **_: Any) -> None:
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 2)
        self._pool: cf.ThreadPoolExecutor | None = None
        self._pending: set[cf.Future] = set()
        self._pending_lock = threading.Lock()

    def start(self) -> None:
        if self._pool is None:
            self._pool = shared_pool(self.max_workers)

    def submit(self, fn: Callable[[Any], Any], payload: Any) -> cf.Future:
        self.start()
        future = self._pool.submit(fn, payload)
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: cf.Future) -> None:
        with self._pending_lock:
            self._pending.discard(future)

    def submit_batch(self, fn: Callable[[Any], list], payload: Any, n: int) -> list[cf.Future]:
        whole = self.submit(fn, payload)
        slots: list[cf.Future] = [cf.Future() for _ in range(n)]
        for slot in slots:
            slot.set_running_or_notify_cancel()

        def fan_out(done: cf.Future) -> None:
            err = done.exception()
            values = None if err else done.result()
            for i, slot in enumerate(slots):
                if err is not None:
                    slot.set_exception(err)
                else:
                    slot.set_result(values[i])

        whole.add_done_callback(fan_out)
        return slots

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
        except cf.TimeoutError as err:
            raise TaskTimeoutError(
                f"task not done within {timeout} s", field="timeout", value=timeout,
                fix="wait longer, or cancel the task",
            ) from err

    def on_done(self, handle: cf.Future, callback: Callable[[Any], None]) -> None:
        handle.add_done_callback(callback)

    def cancel(self, handle: cf.Future) -> bool:
        return handle.cancel()

    def owns(self, handle: Any) -> bool:
        return isinstance(handle, cf.Future)

    def check_plugins(self, spec: Any) -> Callable[[float | None], list[str]]:
        missing = missing_plugins(spec)
        return lambda timeout: missing

    def poll(self, force: bool = False) -> None:
        """Futures call back by themselves."""

    def shutdown(self) -> None:
        # The pool is shared and outlives this engine: cancel what this engine queued, nothing else.
        with self._pending_lock:
            pending, self._pending = list(self._pending), set()
        for future in pending:
            future.cancel()
        self._pool = None
