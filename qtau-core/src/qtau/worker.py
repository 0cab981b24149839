"""What runs where a local task executes (a Ray worker or a LOCAL pool thread).

The driver decides; the worker obeys. A payload carries the task, its ranked placements (the
failover order) and the plugin host's spec, so a Ray worker rebuilds the same plugins. For each
placement the worker prepares the task's job (`Circuits.prepare`), runs it through the resource's
executor (`qtau.attempt`, cached per process) and returns a `Result` recording every attempt. Bad
input fails at once; backend faults fail over. When the failover order reaches a remote resource
the worker stops and returns a `HandOver` with the rest of the task: the engine that ran it hands
that to the remote-job tracker, which waits for provider queues without holding a worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from qtau.attempt import INPUT_ERRORS, attempt_record, executor_for, failed_everywhere, make_result
from qtau.circuits import circuits_for
from qtau.errors import ExecutionError, QtauError, TaskTimeoutError
from qtau.executor import CircuitJob, Executor, LocalExecutor
from qtau.payloads import BatchPayload, HandOver, TaskFailure, TaskPayload
from qtau.plugins import host_for
from qtau.threads import CallTimedOut, call_with_timeout
from qtau.types import Outcome, Result

#: One batch member's entry: its Result, its failure, or its hand-over to the tracker.
Entry = Result | TaskFailure | HandOver


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


def run_task(payload: TaskPayload) -> Result | HandOver:
    """Run one task, failing over along its placements. Raises ExecutionError when all fail; a
    HandOver when the failover order reaches a remote resource."""
    host = host_for(payload.host)
    circuits = circuits_for(host)
    task = payload.task
    attempts = list(payload.attempts)
    for i, placement in enumerate(payload.placements):
        if placement.resource.remote:
            return HandOver(payload.rest(attempts, i))
        started = time.time()
        try:
            ready = circuits.prepare(task, placement.resource, payload.first_attempt + len(attempts))
            outcome = run_jobs(executor_for(host, placement), [ready.job], task.timeout)[0]
        except INPUT_ERRORS:
            raise
        except Exception as err:
            attempts.append(attempt_record(placement.resource.id, started, err))
            continue
        attempts.append(attempt_record(placement.resource.id, started))
        return make_result(task, placement, outcome, ready.path, attempts, payload.submitted_at, started)
    raise failed_everywhere(task, attempts)


def run_batch(payload: BatchPayload) -> list[Entry]:
    """Run tasks as one backend call on their shared first resource; one entry per task, in order.

    A task whose input is bad fails alone. If the batch call fails, the failed attempt is recorded
    for every member and the batch fails over as a batch: members whose next placements share a
    resource run there together. A batch call that rejects the input (`INPUT_ERRORS`) runs each
    member alone instead, so only the task whose circuit is bad ends with that error, with no
    failover, as it would have alone (coalesced tasks and `submit_quantum_tasks` batches alike).
    Members whose failover order reaches a remote resource come back as `HandOver`s.
    """
    host = host_for(payload.members[0].host)
    circuits = circuits_for(host)
    first = payload.members[0].placements[0]
    if first.remote:
        return [HandOver(member) for member in payload.members]
    out: list[Entry | None] = [None] * len(payload.members)
    started = time.time()  # before preparing: conversion is part of the run QDREAMER learns
    jobs: list[CircuitJob] = []
    paths: list[tuple[str, ...]] = []
    slots: list[int] = []
    for i, member in enumerate(payload.members):
        try:
            ready = circuits.prepare(member.task, first.resource, member.next_attempt)
        except QtauError as err:
            out[i] = TaskFailure(member.task.task_id, err)
            continue
        jobs.append(ready.job)
        paths.append(ready.path)
        slots.append(i)
    timeouts = [payload.members[i].task.timeout for i in slots if payload.members[i].task.timeout is not None]
    try:
        outcomes = run_jobs(executor_for(host, first), jobs, max(timeouts) if timeouts else None) if jobs else []
    except Exception as err:
        if isinstance(err, INPUT_ERRORS):
            for i in slots:  # alone, the culprit fails with this error and the others run
                try:
                    out[i] = run_task(payload.members[i]) if len(slots) > 1 else TaskFailure(
                        payload.members[i].task.task_id, err)
                except QtauError as alone:
                    out[i] = TaskFailure(payload.members[i].task.task_id, alone)
            return out  # type: ignore[return-value]
        failed = attempt_record(first.resource.id, started, err)
        retry = [(i, payload.members[i].rest((*payload.members[i].attempts, failed), 1)) for i in slots]
        for i, value in fail_over_batch(retry):
            out[i] = value
        return out  # type: ignore[return-value]
    for n, i in enumerate(slots):
        member = payload.members[i]
        attempts = (*member.attempts, attempt_record(first.resource.id, started))
        out[i] = make_result(member.task, member.placements[0], outcomes[n], paths[n], attempts,
                             member.submitted_at, started)
    return out  # type: ignore[return-value]


def fail_over_batch(members: list[tuple[int, TaskPayload]]) -> list[tuple[int, Entry]]:
    """Members of a failed batch, each with its remaining placements: grouped by next resource and
    run there as batches; a member with no placement left fails with every attempt it made."""
    out: list[tuple[int, Entry]] = []
    groups: dict[str, list[tuple[int, TaskPayload]]] = {}
    for i, member in members:
        if not member.placements:
            out.append((i, TaskFailure(member.task.task_id, failed_everywhere(member.task, member.attempts))))
        else:
            groups.setdefault(member.placements[0].resource.id, []).append((i, member))
    for group in groups.values():
        values = run_batch(BatchPayload(tuple(m for _, m in group)))
        out.extend((i, v) for (i, _), v in zip(group, values, strict=True))
    return out
