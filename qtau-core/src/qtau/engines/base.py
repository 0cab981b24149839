"""The small interface both engines implement.

Everything the rest of QTAU asks about where tasks run is asked of the engine: how to run a task
or batch (with its resource request), its remote-job tracker, its coalescer, how many units of
work it runs in parallel for a resource, and how payloads travel to it.
"""

from __future__ import annotations

import abc
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from qtau.errors import QtauError, TaskTimeoutError
from qtau.packing import CompactForms
from qtau.resource_request import check_local
from qtau.types import Resource


class Engine(abc.ABC):
    name: str
    #: The plugins' compact forms of their SDKs' objects (`qtau_compact_forms`), for engines whose
    #: payloads travel as bytes (RAY): set when the service starts the engine.
    forms: CompactForms = CompactForms()

    @abc.abstractmethod
    def start(self) -> None:
        """Get ready to run tasks (join or start a cluster, start a pool)."""

    @abc.abstractmethod
    def submit(self, fn: Callable[[Any], Any], payload: Any) -> Any:
        """Run `fn(payload)`; return a handle (a Future or an ObjectRef)."""

    @abc.abstractmethod
    def submit_batch(self, fn: Callable[[Any], list], payload: Any, n: int) -> list[Any]:
        """Run `fn(payload)`, which returns `n` values; return one handle per value."""

    #: Name of the Ray actor that tracks remote jobs (None: this process's tracker).
    tracker_name: str | None = None

    def remote_tracker(self) -> str | None:
        """The remote-job tracker that payloads with a remote placement name (None: this
        process's tracker, `qtau.tracker.local_tracker`)."""
        return None

    @abc.abstractmethod
    def coalescer(self, max_batch: int) -> Any:
        """A new coalescer (`qtau.coalesce`): `submit(payload)` -> handle, `close()`."""

    def parallelism(self, resource: Resource | None = None) -> int:
        """How many units of work this engine runs at once for `resource` (the chunks a local
        burst is split into): one per CPU of this machine by default."""
        return max(os.cpu_count() or 1, 1)

    def pack(self, payload: Any) -> Any:
        """A payload as it travels to where tasks run (in this process: the object itself)."""
        return payload

    def for_pilot(self, description: Mapping[str, Any]) -> Engine:
        """The engine a service's first pilot asks for (before start): this one unless the
        description names where tasks run (RAY's `ray_address`)."""
        return self

    @abc.abstractmethod
    def submit_remote(self, payload: Any) -> Any:
        """Hand a task whose first placement is remote to the remote-job tracker; return its handle."""

    @abc.abstractmethod
    def submit_remote_batch(self, payload: Any, n: int) -> list[Any]:
        """Hand a batch bound for a remote resource to the tracker; one handle per member."""

    @abc.abstractmethod
    def completed(self, value: Any) -> Any:
        """A handle that is already done with `value` (a Result, or a QtauError the task ended with):
        what `recover()` returns for tasks an earlier service finished."""

    @abc.abstractmethod
    def wait(self, handles: Sequence[Any], timeout: float | None) -> tuple[list[Any], list[Any]]:
        """Block until all `handles` are done or `timeout` passes: (done, not done)."""

    @abc.abstractmethod
    def get(self, handle: Any, timeout: float | None = None) -> Any:
        """The handle's value; raises the task's error (unwrapped from engine types)."""

    def get_many(self, handles: Sequence[Any], timeout: float | None = None) -> list[Any]:
        """Each handle's value or the QtauError it raised, in order (one round trip where possible)."""
        return self.get_each(handles, timeout, None if timeout is None else time.monotonic() + timeout)

    def get_each(self, handles: Sequence[Any], timeout: float | None, deadline: float | None) -> list[Any]:
        """`get_many` handle by handle until `deadline` (monotonic); a task not done by then is a
        TaskTimeoutError naming the caller's `timeout`."""
        out: list[Any] = []
        for handle in handles:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                out.append(self.get(handle, left))
            except TaskTimeoutError as err:
                if left is None or err.value != left:  # the task's own timeout, not this wait's
                    out.append(err)
                    continue
                # The caller's timeout, not what was left of it ("within 0.000394 s" said nothing).
                out.append(TaskTimeoutError(f"task not done within {timeout} s", field="timeout", value=timeout,
                                            fix="wait longer, or cancel the task"))
            except QtauError as err:
                out.append(err)
        return out

    @abc.abstractmethod
    def on_done(self, handle: Any, callback: Callable[[Any], None]) -> None:
        """Call `callback(future)` once the handle completes, however it completes. Engines that
        cannot call back cheaply pass None instead of a future and deliver it from `poll()`."""

    @abc.abstractmethod
    def cancel(self, handle: Any) -> bool:
        """Cancel a handle that has not finished."""

    @abc.abstractmethod
    def owns(self, handle: Any) -> bool:
        """Whether `handle` is one of this engine's kind (a foreign object is the caller's mistake)."""

    @abc.abstractmethod
    def check_plugins(self, spec: Any) -> Callable[[float | None], list[str]]:
        """Start checking that plugin modules import where tasks run (each Ray node). Returns a
        function that waits up to a timeout and lists what is missing; empty when all are there."""

    def check_request(self, request: dict[str, float]) -> None:
        """Refuse a task's resource request (`qtau.resource_request`) this engine cannot meet.
        The default: tasks run in this process, so this machine must have it."""
        check_local(request)

    def submit_requested(self, fn: Callable[[Any], Any], payload: Any, request: dict[str, float]) -> Any:
        """`submit` for a task with a resource request; in this process the request was checked
        and is recorded, so it runs like any other task."""
        return self.submit(fn, payload)

    def submit_requested_batch(self, fn: Callable[[Any], list], payload: Any, n: int,
                               request: dict[str, float]) -> list[Any]:
        """`submit_batch` for members that share a resource request (checked when each was
        given); in this process it runs like any other batch."""
        return self.submit_batch(fn, payload, n)

    @abc.abstractmethod
    def poll(self, force: bool = False) -> None:
        """Deliver pending `on_done` callbacks (engines whose handles do not call back themselves)."""

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Release what this engine started, and nothing it did not start."""
