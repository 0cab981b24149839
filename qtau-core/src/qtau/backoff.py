"""The one polling schedule QTAU uses: start fast, grow geometrically, cap.

The tracker polls provider jobs on it, and `RemoteExecutor.result` (a blocking wait for scripts and
tests) uses it too, so every wait in QTAU backs off the same way.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from qtau.errors import ExecutionError, QtauError, TaskTimeoutError

GROWTH = 1.5


def intervals(first: float, cap: float, growth: float = GROWTH) -> Iterator[float]:
    """first, first*growth, ... capped at `cap`, forever."""
    delay = max(first, 0.001)
    while True:
        yield min(delay, cap)
        delay = min(delay * growth, cap)


def wait_for_job(executor: Any, ref: Any, timeout: float | None = None) -> list:
    """Poll one job of a RemoteExecutor until it is final; its outcomes, or the matching QtauError."""
    from qtau.executor import job_state

    deadline = None if timeout is None else time.monotonic() + timeout
    for delay in intervals(executor.poll_interval, executor.max_poll_interval):
        [raw] = executor.poll([ref])
        state = job_state(raw)
        if state.state == "done":
            return executor.fetch(ref)
        if state.final:
            raise job_error(executor.resource.id, state)
        if deadline is not None and time.monotonic() + delay > deadline:
            executor.cancel(ref)
            raise TaskTimeoutError(
                f"{executor.resource.id} did not finish within {timeout} s; its job was cancelled",
                field="timeout", value=timeout, fix="raise the task's timeout, or let QDREAMER fail over",
            )
        time.sleep(delay)
    raise AssertionError("unreachable")


def job_error(resource_id: str, state: Any) -> QtauError:
    """The error a final, unsuccessful job state means for its task."""
    from qtau.errors import JobLostError, TaskCancelledError

    detail = f": {state.message}" if state.message else ""
    if state.state == "lost":
        return JobLostError(
            f"the provider of {resource_id} no longer knows this job{detail}", field="job", value=resource_id,
            fix="the job cannot be re-attached; QDREAMER fails the task over to the next resource",
        )
    if state.state == "cancelled":
        return TaskCancelledError(f"the job on {resource_id} was cancelled at the provider{detail}")
    return ExecutionError(f"the job on {resource_id} failed at the provider{detail}")
