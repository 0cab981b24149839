"""What runs where a local task executes (a Ray worker or a LOCAL pool thread).

The driver decides; the worker obeys. A payload carries the task, its ranked placements (the
failover order) and the plugin host's spec, so a Ray worker rebuilds the same plugins. The worker
resolves the circuit (calling a factory inside the task's timeout), converts it to a format the
resource accepts, runs it through the resource's executor (cached per process) and returns a
`Result` recording every attempt. Bad input fails at once; backend faults fail over. When the
failover order reaches a remote resource, the rest of the task is handed to the remote-job
tracker (`qtau.tracker`), which waits for provider queues without holding a worker.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from qtau.circuits import Circuits
from qtau.errors import (
    CircuitConversionError,
    CircuitFunctionExitError,
    CircuitFunctionTimeoutError,
    CircuitWidthError,
    ExecutionError,
    InvalidTaskError,
    QtauError,
    TaskTimeoutError,
)
from qtau.executor import CircuitJob, Executor, LocalExecutor
from qtau.payloads import BatchPayload, Placement, TaskFailure, TaskPayload
from qtau.plugins import PluginHost, host_for, mapping_items
from qtau.secrets import redact
from qtau.threads import CallTimedOut, call_with_timeout
from qtau.types import Attempt, Outcome, QuantumTask, Resource, Result, Timings

#: Errors that mean the input is wrong: failing over would fail again, so they end the task.
INPUT_ERRORS = (InvalidTaskError, CircuitConversionError)

_executors: dict[tuple, Executor] = {}
_circuits: dict[int, Circuits] = {}
_lock = threading.Lock()


def circuits_for(host: PluginHost) -> Circuits:
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
    created = host.create_executor(placement.resource, placement.config)
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


def within(timeout: float | None, what: str, fn: Callable[[], Any]) -> Any:
    """`fn()`, or TaskTimeoutError once `timeout` seconds pass. A hung backend must not hang the
    task: the call runs on a long-lived thread (`qtau.threads`: threads that ran SDK code never
    exit, which qiskit 2.6 needs) and is left to finish on its own."""
    try:
        return call_with_timeout(fn, timeout)
    except CallTimedOut:
        raise TaskTimeoutError(
            f"{what} did not finish within {timeout} s", field="timeout", value=timeout,
            fix="raise the task's timeout, or let QDREAMER fail over to another resource",
        ) from None


def resolve_circuit(task: QuantumTask, circuits: Circuits) -> tuple[Any, str]:
    """The task's circuit object and its format, calling a circuit factory if one was given."""
    circuit = task.circuit
    if isinstance(circuit, str):
        return circuit, task.circuit_format or circuits.detect(circuit)
    fmt = task.circuit_format or circuits.host.call("qtau_circuit_format", circuit=circuit)
    if fmt:
        return circuit, fmt
    if callable(circuit):
        name = getattr(circuit, "__name__", type(circuit).__name__)

        def call() -> Any:
            try:
                return circuit(*task.args, **task.kwargs)
            except (QtauError, KeyboardInterrupt):
                raise  # Ctrl-C is the user stopping their own program: it must still stop it
            except Exception as err:
                raise InvalidTaskError(
                    f"the circuit function {name}() raised {type(err).__name__}: {redact(str(err))}",
                    field="circuit", value=name, fix="fix the function so it returns a circuit for these args",
                ) from err
            except BaseException as err:  # SystemExit, GeneratorExit: fail the task, not the caller
                raise CircuitFunctionExitError(
                    f"the circuit function {name}() raised {type(err).__name__}: {redact(str(err))}",
                    field="circuit", value=name,
                    fix="return a circuit or raise an exception instead of calling sys.exit()",
                ) from err

        try:
            circuit = call_with_timeout(call, task.timeout)
        except CallTimedOut:
            # The function is the task's own input: another resource would hang again.
            raise CircuitFunctionTimeoutError(
                f"the circuit function {name}() did not return within the task's timeout of {task.timeout} s",
                field="timeout", value=task.timeout,
                fix="make the function return sooner, or raise QuantumTask(timeout=...)",
            ) from None
        if circuit is None:
            raise InvalidTaskError(
                f"the circuit function {name}() returned None",
                field="circuit", value=name, fix="return the circuit object from the function",
            )
    return circuit, circuits.detect(circuit)


def prepare(task: QuantumTask, resource: Resource, circuits: Circuits, attempt: int = 1
            ) -> tuple[CircuitJob, tuple[str, ...]]:
    """The task as a job in a format `resource` accepts, and the conversion path taken."""
    circuit, fmt = resolve_circuit(task, circuits)
    real = _width(circuits, circuit, fmt)
    if task.num_qubits and real is not None and real > task.num_qubits:
        raise CircuitWidthError(
            f"task {task.task_id} declared num_qubits={task.num_qubits} but its circuit has {real} qubits",
            field="num_qubits", value=real,
            fix=f"declare num_qubits={real} (or more) or return a circuit of at most {task.num_qubits} qubits",
        )
    width = task.num_qubits or real
    native, native_fmt, path = circuits.convert(circuit, fmt, resource.circuit_formats)
    if circuit is task.circuit:  # not a factory: the circuit object itself takes the arguments
        return CircuitJob(task.task_id, native, native_fmt, task.shots, task.args, dict(task.kwargs),
                          width, attempt), path
    return CircuitJob(task.task_id, native, native_fmt, task.shots, width=width, attempt=attempt), path


def _width(circuits: Circuits, circuit: Any, fmt: str) -> int | None:
    try:
        summary = circuits.summary(circuit, fmt)
    except QtauError:
        return None
    return summary.num_qubits if summary is not None else None


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


def run_jobs(executor: Executor, jobs: Sequence[CircuitJob], timeout: float | None) -> list[Outcome]:
    """Outcomes of `jobs` on a local (or v1 blocking) executor, within `timeout`."""
    if isinstance(executor, LocalExecutor):
        outcomes = within(timeout, executor.resource.id, lambda: executor.run(jobs))
    else:  # a v1 executor: submit, then block for its result
        outcomes = within(timeout, executor.resource.id, lambda: executor.result(executor.submit(jobs), timeout))
    if len(outcomes) != len(jobs):
        raise ExecutionError(
            f"the executor of {executor.resource.id} returned {len(outcomes)} outcomes for {len(jobs)} jobs",
            fix="a plugin's run() must return one Outcome per job, in order",
        )
    return outcomes


def run_task(payload: TaskPayload) -> Result:
    """Run one task, failing over along its placements. Raises ExecutionError when all fail."""
    host = host_for(payload.host)
    circuits = circuits_for(host)
    task = payload.task
    attempts = list(payload.attempts)
    for i, placement in enumerate(payload.placements):
        if placement.remote:
            from qtau.tracker import hand_over

            return hand_over(payload.rest(attempts, i))
        started = time.time()
        try:
            job, path = prepare(task, placement.resource, circuits, payload.first_attempt + len(attempts))
            outcome = run_jobs(executor_for(host, placement), [job], task.timeout)[0]
        except INPUT_ERRORS:
            raise
        except Exception as err:
            attempts.append(attempt_record(placement.resource.id, started, err))
            continue
        attempts.append(attempt_record(placement.resource.id, started))
        return make_result(task, placement, outcome, path, attempts, payload.submitted_at, started)
    raise failed_everywhere(task, attempts)


def run_batch(payload: BatchPayload, *, alone_on_input_error: bool = False) -> list[Result | TaskFailure]:
    """Run tasks as one backend call on their shared first resource; one entry per task, in order.

    A task whose input is bad fails alone. If the batch call fails, the failed attempt is recorded
    for every member and the batch fails over as a batch: members whose next placements share a
    resource run there together. With `alone_on_input_error` (coalesced tasks, which must end as
    they would have alone), a batch call that rejects the input runs each member alone instead.
    """
    host = host_for(payload.members[0].host)
    circuits = circuits_for(host)
    first = payload.members[0].placements[0]
    if first.remote:
        from qtau.tracker import hand_over_batch

        return hand_over_batch(payload)
    out: list[Result | TaskFailure | None] = [None] * len(payload.members)
    jobs: list[CircuitJob] = []
    paths: list[tuple[str, ...]] = []
    slots: list[int] = []
    for i, member in enumerate(payload.members):
        try:
            job, path = prepare(member.task, first.resource, circuits, member.next_attempt)
        except QtauError as err:
            out[i] = TaskFailure(member.task.task_id, err)
            continue
        jobs.append(job)
        paths.append(path)
        slots.append(i)
    started = time.time()
    timeouts = [payload.members[i].task.timeout for i in slots if payload.members[i].task.timeout is not None]
    try:
        outcomes = run_jobs(executor_for(host, first), jobs, max(timeouts) if timeouts else None) if jobs else []
    except Exception as err:
        if alone_on_input_error and isinstance(err, INPUT_ERRORS):
            for i in slots:  # alone, the culprit fails with this error and the others run
                try:
                    out[i] = run_task(payload.members[i]) if len(slots) > 1 else TaskFailure(
                        payload.members[i].task.task_id, err)
                except QtauError as alone:
                    out[i] = TaskFailure(payload.members[i].task.task_id, alone)
            return out  # type: ignore[return-value]
        failed = attempt_record(first.resource.id, started, err)
        retry = [(i, payload.members[i].rest((*payload.members[i].attempts, failed), 1)) for i in slots]
        for i, value in fail_over_batch(retry, alone_on_input_error=alone_on_input_error):
            out[i] = value
        return out  # type: ignore[return-value]
    for n, i in enumerate(slots):
        member = payload.members[i]
        attempts = (*member.attempts, attempt_record(first.resource.id, started))
        out[i] = make_result(member.task, member.placements[0], outcomes[n], paths[n], attempts,
                             member.submitted_at, started)
    return out  # type: ignore[return-value]


def fail_over_batch(members: list[tuple[int, TaskPayload]], *, alone_on_input_error: bool = False
                    ) -> list[tuple[int, Result | TaskFailure]]:
    """Members of a failed batch, each with its remaining placements: grouped by next resource and
    run there as batches; a member with no placement left fails with every attempt it made."""
    out: list[tuple[int, Result | TaskFailure]] = []
    groups: dict[str, list[tuple[int, TaskPayload]]] = {}
    for i, member in members:
        if not member.placements:
            out.append((i, TaskFailure(member.task.task_id, failed_everywhere(member.task, member.attempts))))
        else:
            groups.setdefault(member.placements[0].resource.id, []).append((i, member))
    for group in groups.values():
        values = run_batch(BatchPayload(tuple(m for _, m in group)), alone_on_input_error=alone_on_input_error)
        out.extend((i, v) for (i, _), v in zip(group, values, strict=True))
    return out
