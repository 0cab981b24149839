"""Recovery: what `PilotComputeService.recover()` does with the journal an earlier service left.

Finished tasks come back from their journaled results (or errors); a job waiting at a provider is
re-attached by its job reference, never resubmitted; a create whose answer was lost is sent again
as the same try (Braket's clientToken makes it the same task); an unfinished local task runs again.
A task run as several (a `Composite`: a task with observables, whose journaled payload names its
parts) comes back as one handle over its parts' recovered handles, not as its parts.

The service's collaborators come in typed (the Protocols below), so this module imports no engine,
tracker or service.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from qtau.dreamer.admission import settler
from qtau.errors import (
    ConfigurationError,
    ExecutionError,
    JournalError,
    NoSuitableResourceError,
    QtauError,
    TaskCancelledError,
)
from qtau.journal.records import TaskRecord
from qtau.journal.service_journal import ServiceJournal
from qtau.journal.store import Journal
from qtau.mitigation.overhead import declared
from qtau.packing import unpack
from qtau.payloads import Placement, TaskPayload
from qtau.types import Attempt, QuantumTask, Result


class RecoveryEngine(Protocol):
    """What recovery asks of the service's engine (`qtau.engines.base.Engine`)."""

    def completed(self, value: Any) -> Any: ...

    def remote_tracker(self) -> str | None: ...

    def submit_remote(self, payload: Any) -> Any: ...


class RecoveryRegistry(Protocol):
    """What recovery asks of the service's handle registry (`qtau.registry.TaskRegistry`)."""

    def remember(self, handle: Any, task_id: str) -> None: ...

    def track(self, handle: Any, task_id: str, resource_id: str, settle: Callable[..., Any],
              attempt: int) -> None: ...


class CarriedBudgets(Protocol):
    def take_carried(self, task_id: str) -> Any: ...


class RecoveryDreamer(Protocol):
    """What recovery asks of QDREAMER (`qtau.dreamer.QDreamer`)."""

    budgets: Any

    def task_started(self, resource_id: str) -> None: ...


class CostHost(Protocol):
    """What recovery asks of the plugin host (`qtau.plugins.PluginHost`)."""

    def spec(self) -> Any: ...

    def cost(self, resource: Any, config: Any, shots: int) -> Any: ...


@runtime_checkable
class Composite(Protocol):
    """A task run as several, as journaled (`qtau.cutting.cut_task.CutTask`): its parts' task ids,
    and its handle rebuilt from the parts' handles recovery found (`resubmit` runs the others)."""

    part_ids: tuple[str, ...]

    def recover(self, parts: Mapping[str, Any], resubmit: Callable[[QuantumTask], Any],
                journal: ServiceJournal | None) -> Any: ...


class Recovery:
    """One `recover()` call's collaborators: the service's journal, engine, registry, QDREAMER,
    plugin host and pilots, and `resubmit` (the service's `submit_quantum_task`) for a local task
    that runs again."""

    def __init__(self, journal: ServiceJournal | None, engine: RecoveryEngine, registry: RecoveryRegistry,
                 qdreamer: RecoveryDreamer, host: CostHost, pilots: Mapping[str, Any],
                 resubmit: Callable[[QuantumTask], Any]) -> None:
        self.service_journal = journal
        self.engine = engine
        self.registry = registry
        self.qdreamer = qdreamer
        self.host = host
        self.pilots = pilots
        self.resubmit = resubmit

    def recover(self) -> list[Any]:
        """Handles for every task an earlier service on this journal submitted and never handed
        out, in submission order."""
        if self.service_journal is None:
            raise ConfigurationError(
                "recover() reads the journal of the service's working_directory, and this service has none",
                field="working_directory", value=None,
                fix="create the service with PilotComputeService(working_directory=<the earlier service's>)",
            )
        journal = self.service_journal.journal
        found: dict[str, Any] = {}
        for record in journal.not_handed_out():
            if record.task_id in self.service_journal.in_flight:
                continue  # another live service of this process still runs it: its handle has it
            if not self.service_journal.recoverable(record.task_id):
                continue  # this service's own task (or one already recovered): its handle is live
            found[record.task_id] = self._recovered(journal, record)
        composites = {tid: c for tid, c in found.items() if isinstance(c, Composite)}
        for task_id, composite in composites.items():
            found[task_id] = self._composite(journal, composite, found)
        parts = {pid for composite in composites.values() for pid in composite.part_ids}
        for task_id, handle in found.items():
            self.registry.remember(handle, task_id)
        return [handle for task_id, handle in found.items() if task_id not in parts]

    def _recovered(self, journal: Journal, record: TaskRecord) -> Any:
        try:
            return self._recover_one(journal, record)
        except QtauError as err:
            return self.engine.completed(err)

    def _composite(self, journal: Journal, composite: Composite, found: dict[str, Any]) -> Any:
        """A composite's handle: its parts recovered above, or (handed out with an earlier
        collection, so done) from their journaled results; parts never journaled it submits."""
        for pid in composite.part_ids:
            record = journal.task(pid) if pid not in found else None
            if record is not None:
                found[pid] = self._recovered(journal, record)
        try:
            return composite.recover({pid: found[pid] for pid in composite.part_ids if pid in found},
                                     self.resubmit, self.service_journal)
        except QtauError as err:
            return self.engine.completed(err)

    def _recover_one(self, journal: Journal, record: TaskRecord) -> Any:
        if record.state == "done":
            return self.engine.completed(result_of(journal, record))
        if record.finished:
            return self.engine.completed(error_of(record))
        task = task_of(record, journal)
        if isinstance(task, Composite):
            return task  # its parts are recovered first (`recover`)
        last = record.last_attempt
        if record.remote or record.create_unsettled:
            placement = placement_for(self.pilots, self.host, last.resource_id, task)
            now = time.time()
            payload = TaskPayload(self.host.spec(), task, (placement,), now, tracker=self.engine.remote_tracker(),
                                  first_attempt=last.attempt, journal=self.service_journal.key,
                                  attach=(last.attempt, last.job_ref) if record.remote else None)
            handle = self.engine.submit_remote(payload)
            # The job's carried reservation becomes its hold only once it is tracked again: a job
            # that could not be re-attached may still bill, so its money stays reserved.
            hold = self.qdreamer.budgets.take_carried(task.task_id)
            self.qdreamer.task_started(placement.resource.id)
            self.registry.track(handle, task.task_id, placement.resource.id, settler(self.qdreamer.budgets, hold),
                                last.attempt)
            return handle
        return self.resubmit(task)


def result_of(journal: Journal, record: TaskRecord) -> Result:
    stored = journal.result(record.task_id)
    attempts = tuple(Attempt(a.resource_id, a.state == "done", a.started_at, a.ended_at or a.started_at,
                             a.error_type or "", a.error_message or "",
                             json.dumps(a.job_ref, sort_keys=True) if a.job_ref is not None else "")
                     for a in record.attempts)
    return Result(
        task_id=record.task_id, resource_id=stored.resource_id, executor=stored.resource_id.split(":", 1)[0],
        shots=stored.shots, counts=stored.counts, values=stored.values, cost=stored.cost or 0.0,
        currency=stored.currency or "USD", attempts=attempts,
        metadata={**(stored.metadata or {}), "recovered": True},
    )


def error_of(record: TaskRecord) -> QtauError:
    last = record.last_attempt
    detail = f": {last.error_type}: {last.error_message}" if last is not None and last.error_type else ""
    if record.state == "cancelled":
        return TaskCancelledError(f"task {record.task_id} was cancelled before the earlier service stopped")
    return ExecutionError(f"task {record.task_id} failed in the earlier service{detail}", task_id=record.task_id,
                          fix="see `qtau jobs --dir` for its attempts; submit it again if you still need it")


def task_of(record: TaskRecord, journal: Journal) -> QuantumTask:
    if record.payload is None:
        raise JournalError(
            f"task {record.task_id} cannot run again: its circuit was not journaled (a lambda, a QNode, or "
            "a task carrying a credential is not written)", path=str(journal.path), field="task",
            value=record.task_id, fix="submit the task again yourself",
        )
    try:
        return unpack(record.payload)
    except Exception as err:
        raise JournalError(
            f"task {record.task_id} cannot run again: its journaled circuit does not load here "
            f"({type(err).__name__}: {err})", path=str(journal.path), field="task", value=record.task_id,
            fix="install the same SDKs as the service that submitted it, or submit the task again",
        ) from None


def placement_for(pilots: Mapping[str, Any], host: CostHost, resource_id: str, task: QuantumTask) -> Placement:
    """The placement of a journaled attempt's resource among this service's pilots, priced as
    QDREAMER prices it: with the mitigation's circuits and shots (its declared worst case), and
    without its readout calibration's for a job whose report says it ran none."""
    over, calibrated = declared(task.mitigation), declared(task.mitigation, calibrated=True)
    for pilot in pilots.values():
        for res in pilot.resources:
            if res.id == resource_id:
                price = host.cost(res, pilot.config, task.shots)
                if price is None:
                    return Placement(res, pilot.config)
                less = None if calibrated == over else calibrated.price(price, task.shots)
                return Placement(res, pilot.config, over.price(price, task.shots), price.currency, less)
    raise NoSuitableResourceError(
        f"task {task.task_id} waits on {resource_id}, which no pilot of this service offers",
        rejections={}, fix=f"create the pilot that offers {resource_id} (with its credentials) before recover()",
    )
