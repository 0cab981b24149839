"""One attempt of a task on one placement: what the worker and the remote-job tracker share.

Both run a task's failover order, one placement at a time. Here is what an attempt needs on either
side: the process's executor for a placement (created once, closed at exit), the record of an
attempt, the Result of a successful one, the error of a task that failed everywhere, and which
errors end a task instead of failing it over.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Sequence

from qtau.circuits import circuits_for
from qtau.errors import CircuitConversionError, ExecutionError, InvalidTaskError
from qtau.executor import Executor
from qtau.mitigation.executors import rebound, with_mitigation
from qtau.payloads import Placement
from qtau.plugins import PluginHost, mapping_items
from qtau.secrets import redact
from qtau.types import Attempt, Outcome, QuantumTask, Result, Timings

#: Errors that mean the input is wrong: failing over would fail again, so they end the task.
INPUT_ERRORS = (InvalidTaskError, CircuitConversionError)

_executors: dict[tuple, Executor] = {}
_lock = threading.Lock()


def executor_for(host: PluginHost, placement: Placement) -> Executor:
    """The process's executor for a placement, created on first use."""
    key = (placement.resource.id, mapping_items(placement.config))
    with _lock:
        found = _executors.get(key)
    if found is not None:
        return rebound(found, circuits_for(host))  # the formats of this host's plugins, not the first's
    # Wrapped so a task's mitigation runs as one batch of expanded circuits (qtau.mitigation).
    created = with_mitigation(host.create_executor(placement.resource, placement.config), circuits_for(host))
    with _lock:
        kept = _executors.setdefault(key, created)
    if kept is not created:
        created.close()
    return kept


def close_executors() -> None:
    """Close every executor this process created (at exit, and in tests)."""
    with _lock:
        found = list(_executors.values())
        _executors.clear()
    for executor in found:
        try:
            executor.close()
        except Exception:  # closing is best effort: a dropped connection must not raise at exit
            pass


atexit.register(close_executors)


def attempt_record(resource_id: str, started: float, err: BaseException | None = None, job: str = "") -> Attempt:
    if err is None:
        return Attempt(resource_id, True, started, time.time(), job=job)
    return Attempt(resource_id, False, started, time.time(), type(err).__name__, redact(str(err))[:500], job)


def make_result(task: QuantumTask, placement: Placement, outcome: Outcome, path: tuple[str, ...],
                attempts: Sequence[Attempt], submitted_at: float, started: float) -> Result:
    return Result(
        task_id=task.task_id,
        resource_id=placement.resource.id,
        executor=placement.resource.executor,
        shots=task.shots,
        counts=outcome.counts,
        values=outcome.values,
        timings=Timings(submitted_at, started, time.time()),
        cost=placement.cost,
        currency=placement.currency,
        attempts=tuple(attempts),
        conversion_path=path,
        metadata=outcome.metadata,
        raw=outcome.raw,
    )


def failed_everywhere(task: QuantumTask, attempts: Sequence[Attempt]) -> ExecutionError:
    return ExecutionError(
        f"task {task.task_id} failed on every resource tried", attempts=tuple(attempts), task_id=task.task_id,
        fix="see each attempt's error; `qtau doctor` shows plugin problems",
    )
