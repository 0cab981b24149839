"""The one polling schedule QTAU uses: start fast, grow geometrically, cap.

The tracker polls provider jobs on it, and `RemoteExecutor.result` (a blocking wait for scripts and
tests, in `qtau.executor`) uses it too, so every wait in QTAU backs off the same way. This module
knows nothing of executors: it sits below them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from qtau.errors import ExecutionError, JobLostError, QtauError, TaskCancelledError

GROWTH = 1.5


def intervals(first: float, cap: float, growth: float = GROWTH) -> Iterator[float]:
    """first, first*growth, ... capped at `cap`, forever."""
    delay = max(first, 0.001)
    while True:
        yield min(delay, cap)
        delay = min(delay * growth, cap)


def job_error(resource_id: str, state: Any) -> QtauError:
    """The error a final, unsuccessful job state means for its task."""
    detail = f": {state.message}" if state.message else ""
    if state.state == "lost":
        return JobLostError(
            f"the provider of {resource_id} no longer knows this job{detail}", field="job", value=resource_id,
            fix="the job cannot be re-attached; QDREAMER fails the task over to the next resource",
        )
    if state.state == "cancelled":
        return TaskCancelledError(f"the job on {resource_id} was cancelled at the provider{detail}")
    return ExecutionError(f"the job on {resource_id} failed at the provider{detail}")
