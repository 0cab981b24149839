"""Waiting for tasks and handing out their results: the service's read side.

Handles (or task ids) resolve through the service's `TaskRegistry`; results are fetched in one
round trip from the engine; each task's outcome is settled with QDREAMER and the journal once, and
its handle is let go once its result was handed out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from qtau import validation
from qtau.composite import composites, flatten, regroup
from qtau.errors import QtauError, TaskTimeoutError
from qtau.payloads import TaskFailure
from qtau.progress import wait as wait_showing_progress
from qtau.progress import wait_before_fetch
from qtau.registry import TaskRegistry, task_id_of


class HandOutJournal(Protocol):
    """What handing out results asks of the service's journal (`qtau.journal.service_journal.ServiceJournal`)."""

    def handed_out(self, task_ids: list[str]) -> None: ...


class Collector:
    """`wait` and `results` over a service's registry (whose `engine` is the service's engine).
    `check_plugins()` raises when plugins are missing where tasks ran (checked after each wait)."""

    def __init__(self, registry: TaskRegistry, journal: HandOutJournal | None,
                 check_plugins: Callable[[], None]) -> None:
        self.registry = registry
        self.journal = journal
        self.check_plugins = check_plugins

    def handles(self, tasks: Sequence[Any], what: str) -> list[Any]:
        return [self.registry.resolve(t) for t in validation.handle_list(tasks, what)]

    def parts(self, tasks: Sequence[Any], what: str) -> list[Any]:
        """The handles of `tasks` with a task run as several (qtau.composite) as its parts."""
        return flatten(self.handles(tasks, what))

    def wait(self, tasks: Sequence[Any], timeout: float | None, progress: bool | None) -> None:
        timeout = validation.optional_timeout(timeout)
        handles = self.parts(tasks, "wait_tasks")
        engine = self.registry.engine
        _, pending = wait_showing_progress(engine, handles, timeout, progress)
        engine.poll(force=True)
        if pending:
            raise TaskTimeoutError(
                f"{len(pending)} of {len(handles)} tasks were not done within {timeout} s; they keep running",
                field="timeout", value=timeout, fix="wait again with a longer timeout, or cancel them",
            )
        self.check_plugins()

    def results(self, tasks: Sequence[Any], timeout: float | None, return_exceptions: bool,
                progress: bool | None) -> list[Any]:
        timeout = validation.optional_timeout(timeout)
        given = self.handles(tasks, "get_results")
        handles = flatten(given)  # a task run as several (qtau.composite) is fetched as its parts
        engine = self.registry.engine
        values = engine.get_many(handles, wait_before_fetch(engine, handles, timeout, progress))
        self.check_plugins()
        # Each outcome is recorded (here, or by its done-callback already under way: a waiter can
        # wake before the callbacks of the future it waited for) before the hand-out is made
        # durable: a crash between them must not leave a handed-out task with no result or cost.
        for handle, value in zip(handles, values, strict=True):
            self.registry.settle(handle, value)
        self.registry.wait_settled()
        if self.journal is not None:
            self.journal.handed_out([tid for tid in map(self.registry.task_id, handles) if tid]
                                    + [c.task_id for c in composites(given)])
        settled: list[Any] = []
        for handle, value in zip(handles, values, strict=True):
            self.registry.release(task_id_of(value) or self.registry.task_id(handle), handle)
            settled.append(value.error if isinstance(value, TaskFailure) else value)
        out = regroup(given, settled, lambda v: isinstance(v, QtauError))
        for composite in composites(given):
            self.registry.release(composite.task_id, composite)
        failed = next((v for v in out if isinstance(v, QtauError)), None)
        if failed is not None and not return_exceptions:
            raise failed
        return out
