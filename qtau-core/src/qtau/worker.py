"""What runs where a task executes (a Ray worker or a local pool thread).

The driver decides; the worker obeys. A payload carries the task, the ranked placements QDREAMER
chose (failover order) and the plugin host's spec, so a Ray worker rebuilds the same plugins. The
worker resolves the circuit (calling a factory), converts it to a format the resource accepts,
runs it through the resource's executor (cached per process), and returns a `Result` recording
every attempt. Bad input fails at once; backend faults fail over to the next placement.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import attrs

from qtau.circuits import Circuits
from qtau.errors import (
    CircuitConversionError,
    CircuitFunctionTimeoutError,
    ExecutionError,
    InvalidTaskError,
    PluginError,
    QtauError,
    TaskTimeoutError,
)
from qtau.executor import CircuitJob, Executor
from qtau.plugins import HostSpec, PluginHost, host_for, mapping_items
from qtau.secrets import redact
from qtau.threads import CallTimedOut, call_with_timeout
from qtau.types import Attempt, Outcome, QuantumTask, Resource, Result, Timings


@attrs.frozen(eq=False)
class Placement:
    """A resource chosen for a task, with the pilot config its executor needs and the quoted cost."""

    resource: Resource
    config: dict[str, Any] = attrs.field(factory=dict)
    cost: float = 0.0
    currency: str = "USD"


@attrs.frozen(eq=False)
class TaskPayload:
    host: HostSpec
    task: QuantumTask
    placements: tuple[Placement, ...]
    submitted_at: float
    max_attempts: int = 3


@attrs.frozen(eq=False)
class BatchPayload:
    """Tasks that QDREAMER sent to the same first placement: run as one backend call."""

    host: HostSpec
    tasks: tuple[QuantumTask, ...]
    placements: tuple[Placement, ...]
    submitted_at: float
    max_attempts: int = 3


@attrs.frozen(eq=False)
class TaskFailure:
    """A batch slot whose task failed. The service raises `error` when the slot is read."""

    task_id: str
    error: QtauError


#: Errors that mean the input is wrong: failing over would fail again, so they end the task.
INPUT_ERRORS = (InvalidTaskError, CircuitConversionError)

_executors: dict[tuple, Executor] = {}
_circuits: dict[int, Circuits] = {}
_lock = threading.Lock()


def _circuits_for(host: PluginHost) -> Circuits:
    with _lock:
        found = _circuits.get(id(host))
        if found is None:
            found = _circuits[id(host)] = Circuits(host)
        return found


def executor_for(host: PluginHost, placement: Placement) -> Executor:
    """The process's executor for a placement, created on first use."""
    key = (placement.resource.id, mapping_items(placement.config))
    with _lock:
        found = _executors.get(key)
    if found is not None:
        return found
    created = host.first(
        "qtau_create_executor", owner=placement.resource.provider,
        resource=placement.resource, config=placement.config,
    )
    if created is None:
        raise PluginError(
            f"no installed plugin creates an executor for {placement.resource.id}",
            plugin=placement.resource.provider,
            fix=f"install the plugin {placement.resource.provider!r} on every node that runs tasks",
        )
    with _lock:
        return _executors.setdefault(key, created)


def resolve_circuit(task: QuantumTask, circuits: Circuits) -> tuple[Any, str]:
    """The task's circuit object and its format, calling a circuit factory if one was given."""
    circuit = task.circuit
    if isinstance(circuit, str):
        return circuit, task.circuit_format or circuits.detect(circuit)
    fmt = task.circuit_format or circuits.host.first("qtau_circuit_format", circuit=circuit)
    if fmt:
        return circuit, fmt
    if callable(circuit):
        name = getattr(circuit, "__name__", type(circuit).__name__)
        factory = circuit
        try:
            circuit = call_with_timeout(lambda: factory(*task.args, **task.kwargs), task.timeout)
        except CallTimedOut:
            raise CircuitFunctionTimeoutError(
                f"the circuit function {name}() did not return within the task's timeout of {task.timeout} s",
                field="timeout", value=task.timeout,
                fix="make the function return sooner, or raise QuantumTask(timeout=...)",
            ) from None
        except QtauError:
            raise
        except Exception as err:
            raise InvalidTaskError(
                f"the circuit function {name}() raised {type(err).__name__}: {err}",
                field="circuit", value=name, fix="fix the function so it returns a circuit for these args",
            ) from err
        if circuit is None:
            raise InvalidTaskError(
                f"the circuit function {name}() returned None",
                field="circuit", value=name, fix="return the circuit object from the function",
            )
    return circuit, circuits.detect(circuit)


def _run_jobs(executor: Executor, jobs: Sequence[CircuitJob], timeout: float | None) -> list[Outcome]:
    # A hung backend must not hang the task: the call runs on a long-lived thread (qtau.threads)
    # and the task gives up at timeout.
    try:
        return call_with_timeout(lambda: executor.result(executor.submit(jobs), timeout), timeout)
    except CallTimedOut:
        raise TaskTimeoutError(
            f"{executor.resource.id} did not finish within {timeout} s", field="timeout", value=timeout,
            fix="raise the task's timeout, or let QDREAMER fail over to another resource",
        ) from None


def _attempt(resource_id: str, started: float, err: BaseException | None = None) -> Attempt:
    if err is None:
        return Attempt(resource_id, True, started, time.time())
    return Attempt(resource_id, False, started, time.time(), type(err).__name__, redact(str(err))[:500])


def _result(task: QuantumTask, placement: Placement, outcome: Outcome, path: tuple[str, ...],
            attempts: list[Attempt], submitted_at: float, started: float) -> Result:
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


def _prepare(task: QuantumTask, resource: Resource, circuits: Circuits) -> tuple[CircuitJob, tuple[str, ...]]:
    circuit, fmt = resolve_circuit(task, circuits)
    native, native_fmt, path = circuits.convert(circuit, fmt, resource.circuit_formats)
    if circuit is task.circuit:  # not a factory: the circuit object itself takes the arguments
        return CircuitJob(task.task_id, native, native_fmt, task.shots, task.args, dict(task.kwargs)), path
    return CircuitJob(task.task_id, native, native_fmt, task.shots), path


def run_task(payload: TaskPayload) -> Result:
    """Run one task, failing over along its placements. Raises ExecutionError when all fail."""
    host = host_for(payload.host)
    circuits = _circuits_for(host)
    task = payload.task
    attempts: list[Attempt] = []
    for placement in payload.placements[: max(payload.max_attempts, 1)]:
        started = time.time()
        try:
            job, path = _prepare(task, placement.resource, circuits)
            outcome = _run_jobs(executor_for(host, placement), [job], task.timeout)[0]
        except INPUT_ERRORS:
            raise
        except Exception as err:
            attempts.append(_attempt(placement.resource.id, started, err))
            continue
        attempts.append(_attempt(placement.resource.id, started))
        return _result(task, placement, outcome, path, attempts, payload.submitted_at, started)
    raise ExecutionError(
        f"task {task.task_id} failed on every resource tried", attempts=tuple(attempts), task_id=task.task_id,
        fix="see each attempt's error; `qtau doctor` shows plugin problems",
    )


def run_batch(payload: BatchPayload) -> list[Result | TaskFailure]:
    """Run tasks as one backend call on their first placement.

    A task whose input is bad fails alone; if the batch call itself fails, each task falls back
    to `run_task` with the full failover order. Returns one entry per task, in order.
    """
    host = host_for(payload.host)
    circuits = _circuits_for(host)
    first = payload.placements[0]
    out: list[Result | TaskFailure | None] = [None] * len(payload.tasks)
    jobs: list[CircuitJob] = []
    paths: list[tuple[str, ...]] = []
    slots: list[int] = []
    for i, task in enumerate(payload.tasks):
        try:
            job, path = _prepare(task, first.resource, circuits)
        except QtauError as err:
            out[i] = TaskFailure(task.task_id, err)
            continue
        jobs.append(job)
        paths.append(path)
        slots.append(i)
    started = time.time()
    timeouts = [t.timeout for t in payload.tasks if t.timeout is not None]
    try:
        outcomes = _run_jobs(executor_for(host, first), jobs, max(timeouts) if timeouts else None) if jobs else []
    except Exception:
        outcomes = None
    for n, i in enumerate(slots):
        task = payload.tasks[i]
        if outcomes is not None:
            attempts = [_attempt(first.resource.id, started)]
            out[i] = _result(task, first, outcomes[n], paths[n], attempts, payload.submitted_at, started)
            continue
        single = TaskPayload(payload.host, task, payload.placements, payload.submitted_at, payload.max_attempts)
        try:
            out[i] = run_task(single)
        except QtauError as err:
            out[i] = TaskFailure(task.task_id, err)
    return out  # type: ignore[return-value]

