"""One attempt of a task on one placement: what the worker and the remote-job tracker share.

Both run a task's failover order, one placement at a time. Here is what an attempt needs on either
side: the process's executor for a placement (created once, closed at exit), a local attempt from
job to Result (`run_local`), the record of an attempt, the Result of a successful one (built here
only), the error of a task that failed everywhere, and which errors end a task instead of failing
it over.

A task without mitigation runs on the plugin's executor itself; only a batch with a mitigated job
goes through the mitigation wrapper (`qtau.mitigation.executors`), which expands it.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from qtau.circuits import Prepared, circuits_for, prepare, spread_counts
from qtau.errors import (
    CircuitConversionError,
    ExecutionError,
    InvalidTaskError,
    QtauError,
    TaskTimeoutError,
    sdk_panic,
)
from qtau.executor import CircuitJob, Executor, LocalExecutor
from qtau.mitigation.executors import rebound, with_mitigation
from qtau.payloads import CONVERSION_REFUSED, Placement, TaskPayload
from qtau.plugins import HostSpec, host_for
from qtau.secrets import redact
from qtau.threads import CallTimedOut, call_with_timeout
from qtau.types import Attempt, Outcome, QuantumTask, Result, Timings

#: Errors that mean the input is wrong: failing over would fail again, so they end the task.
#: A CircuitConversionError is not one of them: it says that one resource's path (its SDK's
#: reader, a converter) cannot take the circuit, and another resource's often can (Qiskit's
#: OpenQASM 3 reader refuses `const`, which Braket's runs; pennylane-qiskit once refused `reset`).
INPUT_ERRORS = (InvalidTaskError,)
#: Errors a batch call may raise for one member's circuit: the members then run alone.
MEMBER_ERRORS = (InvalidTaskError, CircuitConversionError)


def backend_fault(err: BaseException) -> bool:
    """Whether `err`, raised by an attempt on a resource, is that attempt's failure to fail over
    from: any Exception but bad input, and a Rust SDK's panic (pyo3's PanicException derives from
    BaseException: Qiskit's transpiler panicked on a circuit three other simulators ran).
    SystemExit, KeyboardInterrupt and GeneratorExit are not: they go on to their handlers."""
    if isinstance(err, INPUT_ERRORS):
        return False
    return isinstance(err, Exception) or sdk_panic(err)

#: Per (resource, config): the plugin's executor, and the same wrapped for mitigated jobs.
_executors: dict[tuple, tuple[Executor, Executor]] = {}
_lock = threading.Lock()
#: (resource, config, circuit format) of every call this process has ended (`cold`, `ran`).
_warm: set[tuple] = set()


def config_key(config: Mapping[str, Any]) -> tuple:
    """A hashable, order-independent key of a config mapping (for per-resource caches)."""

    def freeze(value: Any) -> Any:
        if isinstance(value, Mapping):
            return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
        if isinstance(value, (list, tuple, set, frozenset)):
            return tuple(freeze(v) for v in value)
        try:
            hash(value)
        except TypeError:
            return repr(value)
        return value

    return freeze(config)


def _kept(host: HostSpec, placement: Placement) -> tuple[Executor, Executor]:
    """The process's (executor, mitigation-wrapped executor) of a placement, created on first use
    by the plugins of `host`."""
    key = (placement.resource.id, config_key(placement.config))
    with _lock:
        found = _executors.get(key)
    if found is not None:
        return found
    plugins = host_for(host)
    plain = plugins.create_executor(placement.resource, placement.config)
    created = (plain, with_mitigation(plain, circuits_for(plugins)))
    with _lock:
        kept = _executors.setdefault(key, created)
    if kept is not created:
        plain.close()
    return kept


def executor_for(host: HostSpec, placement: Placement) -> Executor:
    """The process's executor for a placement, wrapped so a mitigated job runs as one batch of its
    expanded circuits (`qtau.mitigation.executors`), converting with `host`'s plugins."""
    return rebound(_kept(host, placement)[1], circuits_for(host_for(host)))


def close_executors() -> None:
    """Close every executor this process created (at exit, and in tests)."""
    with _lock:
        found = [plain for plain, _ in _executors.values()]
        _executors.clear()
        _warm.clear()
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


def run_jobs(host: HostSpec, placement: Placement, jobs: Sequence[CircuitJob],
             timeout: float | None) -> list[Outcome]:
    """Outcomes of `jobs` on the placement's local (or v1 blocking) executor, within `timeout`."""
    if any(job.mitigation is not None for job in jobs):
        executor = executor_for(host, placement)
    else:
        executor = _kept(host, placement)[0]
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


def warm_key(placement: Placement, ready: Prepared) -> tuple:
    """What a call's coldness is kept by: the executor (resource, config) and the format the task's
    circuit came in (its conversion path's first trip)."""
    return placement.resource.id, config_key(placement.config), ready.path[0] if ready.path else None


def cold(key: tuple) -> bool:
    """Whether no call of `key` has ended in this process yet (`ran`): a call now pays for creating
    the executor (importing its SDK, building the simulator) or for its conversion path's first
    trip (a Qiskit circuit's first trip to a PennyLane device imports PennyLane's Qiskit
    converter), as does any call that overlaps the first. QDREAMER's run-time model learns such
    calls apart (`Attempt.cold`): they say little of what the next call costs."""
    with _lock:
        return key not in _warm


def ran(key: tuple) -> None:
    """Record a call of `key` that ended, however: the next one is warm (`cold`) if the call made
    the executor, as one that failed after making it paid for it all the same; a call that could
    not make the executor leaves it cold."""
    with _lock:
        if key[:2] in _executors:
            _warm.add(key)


def seeded(placement: Placement) -> bool:
    """Whether the placement's simulator is seeded (Aer's `seed_simulator`, PennyLane's `seed`, any
    setting named for a seed): a simulator may seed a call's circuits by their place in it (Aer:
    seed + i), so a seeded batch runs as one call even when cold, and a seeded run repeats however
    warm the process was."""
    return any("seed" in str(k).lower() and v is not None for k, v in placement.config.items())


def run_local(payload: TaskPayload, placement: Placement, attempts: Sequence[Attempt], started: float) -> Result:
    """One attempt of the payload's task on a local placement, `attempts` made before it: the job
    prepared (`qtau.circuits.prepare`), run on the placement's executor within the task's timeout,
    and its Result. Raises what failed; the caller decides whether to fail over."""
    task = payload.task
    ready = prepare(task, placement.resource, payload.host, payload.first_attempt + len(attempts))
    key = warm_key(placement, ready)
    first = cold(key)
    try:
        outcome = run_jobs(payload.host, placement, [ready.job], task.timeout)[0]
    finally:
        ran(key)
    done = (*attempts, attempt_record(placement.resource.id, started, cold=first))
    return make_result(task, placement, outcome, ready, done, payload.submitted_at, started)


def attempt_record(resource_id: str, started: float, err: BaseException | None = None, job: str = "",
                   cold: bool = False) -> Attempt:
    if err is None:
        return Attempt(resource_id, True, started, time.time(), job=job, cold=cold)
    return Attempt(resource_id, False, started, time.time(), type(err).__name__, redact(str(err))[:500], job, cold)


def make_result(task: QuantumTask, placement: Placement, outcome: Outcome, ready: Prepared | None,
                attempts: Sequence[Attempt], submitted_at: float, started: float) -> Result:
    """The Result of a successful attempt of the job `ready` (None: a provider job re-attached,
    nothing prepared): its conversion path, and keys read per measured bit put back at the
    classical bits the task's circuit has (`Prepared.bits`)."""
    bits = ready.bits if ready is not None else None
    return Result(
        task_id=task.task_id,
        resource_id=placement.resource.id,
        executor=placement.resource.executor,
        shots=task.shots,
        counts=spread_counts(outcome.counts, bits) if bits else outcome.counts,
        values=outcome.values,
        timings=Timings(submitted_at, started, time.time()),
        cost=charged(placement, outcome),
        currency=placement.currency,
        attempts=tuple(attempts),
        conversion_path=ready.path if ready is not None else (),
        metadata=outcome.metadata,
        raw=outcome.raw,
    )


def charged(placement: Placement, outcome: Outcome) -> float:
    """What the task cost: its placement's price, less its readout calibration's share when the
    mitigation report says it ran none (cached, or shared with another task of its call)."""
    report = outcome.metadata.get("mitigation") if isinstance(outcome.metadata, dict) else None
    if placement.calibrated_cost is not None and isinstance(report, dict) \
            and report.get("calibration") in ("cached", "shared"):
        return placement.calibrated_cost
    return placement.cost


def failed_everywhere(task: QuantumTask, attempts: Sequence[Attempt]) -> QtauError:
    """The error of a task that no resource ran: a CircuitConversionError naming each resource's
    reason when every try failed to convert the circuit (the circuit is the problem, in no form
    any of them reads), else an ExecutionError with every attempt."""
    failed = [a for a in attempts if not a.ok]
    if failed and all(a.error_type == CONVERSION_REFUSED for a in failed):
        reasons = "\n".join(f"  - {a.resource_id}: {a.message}" for a in failed)
        return CircuitConversionError(
            f"task {task.task_id}: no resource tried can take this circuit in a form its SDK reads:\n{reasons}",
            field="circuit", value=type(task.circuit).__name__,
            fix="write the circuit in constructs these SDKs read (each reason above says what one refused), "
                "or add a pilot whose SDK reads it",
        )
    return ExecutionError(
        f"task {task.task_id} failed on every resource tried", attempts=tuple(attempts), task_id=task.task_id,
        fix="see each attempt's error; `qtau doctor` shows plugin problems",
    )
