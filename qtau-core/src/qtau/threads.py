"""Threads that live as long as the process: the LOCAL engine's pools and timed calls.

Why: qiskit 2.6 (a Rust extension built with PyO3) crashes the interpreter with a segmentation
fault in `QuantumCircuit.__init__` when qiskit was first imported on a thread that has since exited
and is then used on another thread. Per-thread state set up during that first import is torn down
with the thread while process-wide objects still refer to it (the same class of fault as PyO3 issue
#5626). A `ThreadPoolExecutor` shut down and replaced per service is enough to trigger it: the
seed's pattern of a circuit function that imports qiskit, run on LOCAL through one service and
then another, crashed 5 runs of 5.

QTAU never knows which thread first imports an SDK (circuit functions import it themselves, and
heavy imports stay out of `import qtau`), so no thread that runs user or plugin code may exit
before the process does:

- `shared_pool(n)`: one process-wide pool per size for the LOCAL engine. Services share it and
  cancel only their own futures; its threads are never shut down. `shared_pool(n, "name")` is a
  separate pool for one purpose (a plugin's parallel provider calls), so that work never waits
  behind the LOCAL engine's tasks.
- `call_with_timeout(fn, timeout)`: runs `fn` on a reusable long-lived thread and stops waiting at
  `timeout`. A call that hangs keeps its thread busy (Python cannot kill a thread); the next call
  takes another idle thread or starts one, so threads grow only with calls still hanging.
"""

from __future__ import annotations

import concurrent.futures as cf
import queue
import threading
from collections.abc import Callable
from typing import Any

_pools: dict[tuple[str, int], cf.ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def shared_pool(max_workers: int, name: str = "local") -> cf.ThreadPoolExecutor:
    """The process's pool `name` with `max_workers` threads, created on first use, never shut down."""
    with _pools_lock:
        pool = _pools.get((name, max_workers))
        if pool is None:
            pool = _pools[(name, max_workers)] = cf.ThreadPoolExecutor(
                max_workers, thread_name_prefix=f"qtau-{name}-{max_workers}"
            )
        return pool


class _ReusableThreads:
    """Daemon threads that take one call at a time and go back to waiting; they never exit."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._idle: queue.SimpleQueue[queue.SimpleQueue] = queue.SimpleQueue()
        self._count = 0
        self._lock = threading.Lock()

    def _loop(self, inbox: queue.SimpleQueue) -> None:
        while True:
            fn, future = inbox.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as err:  # handed to the caller through the future
                    future.set_exception(err)
            del fn, future
            self._idle.put(inbox)

    def submit(self, fn: Callable[[], Any]) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            inbox = self._idle.get_nowait()
        except queue.Empty:
            inbox = queue.SimpleQueue()
            with self._lock:
                self._count += 1
                name = f"{self._name}-{self._count}"
            threading.Thread(target=self._loop, args=(inbox,), name=name, daemon=True).start()
        inbox.put((fn, future))
        return future

    @property
    def started(self) -> int:
        """How many threads were ever started (they all still exist)."""
        return self._count


#: Reusable threads that never exit: timed calls, QDREAMER's monitor, anything that may run SDK code.
long_lived = _ReusableThreads("qtau-long-lived")


class CallTimedOut(TimeoutError):
    """`call_with_timeout` stopped waiting (a TimeoutError that `fn` raised itself passes unchanged)."""


def call_with_timeout(fn: Callable[[], Any], timeout: float | None) -> Any:
    """`fn()`, or `CallTimedOut` once `timeout` seconds pass (fn goes on, on its own thread)."""
    if timeout is None:
        return fn()
    future = long_lived.submit(fn)
    try:
        return future.result(timeout)
    except cf.TimeoutError:
        if future.done():
            raise
        raise CallTimedOut(f"not done within {timeout} s") from None
