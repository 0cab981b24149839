"""What the driver sends to where tasks run, and what comes back: one module both sides import.

QDREAMER (the driver) decides placements; the worker and the remote-job tracker execute them.
Everything here is a frozen attrs value, pickled across Ray unchanged (users' circuits travel as
given inside the task).
"""

from __future__ import annotations

from typing import Any

import attrs

from qtau.errors import CircuitConversionError, QtauError
from qtau.plugins import HostSpec
from qtau.types import Attempt, QuantumTask, Resource

#: An attempt's `error_type` when the resource's path could not convert the circuit: nothing ran.
CONVERSION_REFUSED = CircuitConversionError.__name__


@attrs.frozen(eq=False)
class Placement:
    """A resource chosen for a task, with the pilot config its executor needs and the task's price."""

    resource: Resource
    config: dict[str, Any] = attrs.field(factory=dict)
    cost: float = 0.0
    currency: str = "USD"
    #: The price when the task's readout calibration runs for nothing here (cached, or run by
    #: another task of its backend call): what its Result reports then. None: the same as `cost`.
    calibrated_cost: float | None = None

    @property
    def remote(self) -> bool:
        return self.resource.remote


@attrs.frozen(eq=False)
class TaskPayload:
    """One task and its failover order (`placements`, best first), with the attempts made so far.

    `tracker` names the Ray actor that waits for remote jobs (None: this process's tracker).
    `first_attempt` numbers this service's first try of the task (the journal's count goes on
    across services, so idempotency tokens never repeat); `journal` names the service's journal;
    `attach` is (attempt number, job reference) of a provider job to re-attach instead of
    submitting the first placement again (recovery).
    `coalesce`: the tracker may send this task in one provider batch with others for the same
    resource submitted while a create call there is in progress (`qtau.coalesce`).
    `max_runs`: the most resources that may run the task (QDREAMER's `max_attempts`; None: every
    placement). A resource whose path could not convert the circuit did not run it and does not
    count: the placements beyond the first `max_runs` are other conversion paths' resources
    (`QDreamer.place`), tried only while such a refusal left a run unused.
    """

    host: HostSpec
    task: QuantumTask
    placements: tuple[Placement, ...]
    submitted_at: float
    attempts: tuple[Attempt, ...] = ()
    tracker: str | None = None
    first_attempt: int = 1
    journal: str | None = None
    attach: tuple[int, Any] | None = None
    coalesce: bool = False
    max_runs: int | None = None

    @property
    def next_attempt(self) -> int:
        """The number of the attempt about to be made."""
        return self.first_attempt + len(self.attempts)

    def may_run(self, attempts: list[Attempt] | tuple[Attempt, ...]) -> bool:
        """Whether, after `attempts`, another resource may run the task (`max_runs`)."""
        if self.max_runs is None:
            return True
        return sum(a.error_type != CONVERSION_REFUSED for a in attempts) < self.max_runs

    def rest(self, attempts: list[Attempt] | tuple[Attempt, ...], start: int) -> TaskPayload:
        """The same task from placement `start` on, with the attempts made so far; no placement
        left once `max_runs` resources have run it."""
        placements = self.placements[start:] if self.may_run(attempts) else ()
        return attrs.evolve(self, placements=placements, attempts=tuple(attempts), attach=None)


@attrs.frozen(eq=False)
class BatchPayload:
    """Tasks whose first placements share one resource: run there as one backend call.

    Each member keeps its own placements (failover order), constraints, price and attempts.
    """

    members: tuple[TaskPayload, ...]

    @property
    def resource_id(self) -> str:
        return self.members[0].placements[0].resource.id


@attrs.frozen(eq=False)
class TaskFailure:
    """A batch slot whose task failed. The service raises `error` when the slot is read."""

    task_id: str
    error: QtauError


@attrs.frozen(eq=False)
class HandOver:
    """What a worker returns instead of a Result when a task's failover order reaches a remote
    resource: the rest of the task (`payload`, from that placement on) for the remote-job tracker
    the payload names. The worker never calls the tracker; whoever ran it hands this over."""

    payload: TaskPayload
