"""The execution contract a backend plugin implements: one `Executor` per resource.

Backends implement the smallest surface. A cloud backend implements `submit` (returning a
picklable handle) and `result`; `status` and `cancel` have defaults. A local simulator subclasses
`LocalExecutor` and implements only `run`, which executes at submit.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from qtau.types import Outcome, Resource


@attrs.frozen(eq=False)
class CircuitJob:
    """One circuit to run: already converted into `circuit_format`, one the resource accepts.

    `args`/`kwargs` are the task's, for circuit objects that take arguments themselves (a
    PennyLane QNode); they are empty when the task's circuit was a factory already called with them.
    `attempt` numbers the tries of one task (1-based): a remote backend derives its idempotency
    token from `task_id` and `attempt`, so the same try sent twice is billed once.
    """

    task_id: str
    circuit: Any
    circuit_format: str
    shots: int
    args: tuple = ()
    kwargs: dict[str, Any] = attrs.field(factory=dict)
    attempt: int = 1


class Executor(abc.ABC):
    """Runs batches of circuits on one resource. Created on workers by `qtau_create_executor`."""

    def __init__(self, resource: Resource, config: Mapping[str, Any]) -> None:
        self.resource = resource
        self.config = config

    @abc.abstractmethod
    def submit(self, jobs: Sequence[CircuitJob]) -> Any:
        """Start `jobs` as one backend call where the backend allows it; return a handle."""

    @abc.abstractmethod
    def result(self, handle: Any, timeout: float | None = None) -> list[Outcome]:
        """Outcomes of a submitted batch, one per job, in order. Raise TaskTimeoutError past timeout."""

    def status(self, handle: Any) -> str:
        """One of `queued`, `running`, `done`, `failed`, `cancelled`."""
        return "done"

    def cancel(self, handle: Any) -> bool:
        """Try to cancel; True when the backend accepted."""
        return False

    def close(self) -> None:  # noqa: B027 (optional hook: most executors hold nothing to release)
        """Release sessions or connections. Called when a worker drops the executor."""


class LocalExecutor(Executor):
    """An executor whose backend runs in-process at submit (simulators)."""

    @abc.abstractmethod
    def run(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        """Run every job, one backend call for the batch where possible."""

    def submit(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        return self.run(jobs)

    def result(self, handle: Any, timeout: float | None = None) -> list[Outcome]:
        return handle
