"""What runs where a local task executes (a Ray worker or a LOCAL pool thread): a task's failover.

The driver decides; the worker obeys. A payload carries the task, its ranked placements (the
failover order) and the plugin host's spec, so a Ray worker rebuilds the same plugins. For each
placement the worker makes one attempt (`qtau.attempt.run_local`: the job prepared, run on the
resource's executor, its Result built) and returns the first Result, which records every attempt.
Bad input fails at once; backend faults (a Rust SDK's panic among them) fail over, and so does a
circuit one resource's path cannot convert (`qtau.attempt.INPUT_ERRORS`). When the failover order
reaches a remote resource the worker stops and returns a `HandOver` with the rest of the task: the
engine that ran it hands that to the remote-job tracker, which waits for provider queues without
holding a worker.
"""

from __future__ import annotations

import time

from qtau.attempt import (
    INPUT_ERRORS,
    MEMBER_ERRORS,
    attempt_record,
    backend_fault,
    cold,
    failed_everywhere,
    make_result,
    ran,
    run_jobs,
    run_local,
    seeded,
    warm_key,
)
from qtau.circuits import Prepared, mitigation_of, prepare
from qtau.errors import CircuitConversionError, QtauError
from qtau.payloads import BatchPayload, HandOver, TaskFailure, TaskPayload
from qtau.types import Result

#: One batch member's entry: its Result, its failure, or its hand-over to the tracker.
Entry = Result | TaskFailure | HandOver


def run_task(payload: TaskPayload) -> Result | HandOver:
    """Run one task, failing over along its placements. Raises ExecutionError when all fail; a
    HandOver when the failover order reaches a remote resource."""
    attempts = list(payload.attempts)
    for i, placement in enumerate(payload.placements):
        if attempts and not payload.may_run(attempts):  # `max_runs` resources have run it
            break
        if placement.resource.remote:
            return HandOver(payload.rest(attempts, i))
        started = time.time()
        try:
            return run_local(payload, placement, attempts, started)
        except BaseException as err:
            if not backend_fault(err) or _ends_with_its_own(payload, err):
                raise
            attempts.append(attempt_record(placement.resource.id, started, err))
    raise failed_everywhere(payload.task, attempts)


def run_batch(payload: BatchPayload) -> list[Entry]:
    """Run tasks as one backend call on their shared first resource; one entry per task, in order.

    A task whose input is bad fails alone; one whose circuit this resource's path cannot convert
    goes on to its next placement (ending with the converter's error where it has none). If the
    batch call fails, the failed attempt is recorded
    for every member and the batch fails over as a batch: members whose next placements share a
    resource run there together. A batch call that rejects the input (`INPUT_ERRORS`) runs each
    member alone instead, so only the task whose circuit is bad ends with that error, with no
    failover, as it would have alone (coalesced tasks and `submit_quantum_tasks` batches alike).
    Members whose failover order reaches a remote resource come back as `HandOver`s.

    The process's first call of an executor and circuit format (`qtau.attempt.cold`) takes one
    task and the rest follow in a call of their own: what creating the executor and the conversion
    path cost is then one task's excess, and the rest's call is what QDREAMER learns the
    simulator's speed from (a warm-up burst that gives each simulator a few tasks leaves a model
    it can trust, instead of one whose every task paid for the SDK's import). A batch with mitigated
    tasks is not split (its expanded circuits go out as one call, as promised), nor one on a seeded
    simulator (Aer seeds a call's circuits by their place in it: a seeded run must repeat).
    """
    host = payload.members[0].host
    first = payload.members[0].placements[0]
    if first.remote:
        return [HandOver(member) for member in payload.members]
    out: list[Entry | None] = [None] * len(payload.members)
    started = time.time()  # before preparing: conversion is part of the run QDREAMER learns
    prepared: list[Prepared] = []
    slots: list[int] = []
    key: tuple | None = None
    first_call = False
    #: Members whose circuit this resource's path could not convert: they go on to their next placements.
    unconverted: list[tuple[int, TaskPayload]] = []
    for i, member in enumerate(payload.members):
        try:
            ready = prepare(member.task, first.resource, host, member.next_attempt)
        except QtauError as err:
            if isinstance(err, CircuitConversionError) and not _ends_with_its_own(member, err):
                failed = attempt_record(first.resource.id, started, err)
                unconverted.append((i, member.rest((*member.attempts, failed), 1)))
            else:
                out[i] = TaskFailure(member.task.task_id, err)
            continue
        if key is None:
            key = warm_key(first, ready)
            first_call = cold(key)
            # A mitigated batch is one call whatever happens (its expanded circuits go out
            # together), and so is a seeded one (`seeded`: a seed may be spread by position).
            if first_call and i + 1 < len(payload.members) and not seeded(first) and not any(
                    mitigation_of(m.task) for m in payload.members):
                _call(payload, [ready], [i], started, out, key, True)
                _fail_over_into(out, unconverted)
                return out[:i + 1] + run_batch(BatchPayload(payload.members[i + 1:]))  # type: ignore[return-value]
        prepared.append(ready)
        slots.append(i)
    if key is not None:
        _call(payload, prepared, slots, started, out, key, first_call)
    _fail_over_into(out, unconverted)
    return out  # type: ignore[return-value]


def _ends_with_its_own(member: TaskPayload, err: BaseException) -> bool:
    """Whether a conversion error ends the task with the converter's own words (field, value, fix):
    on its one and only try (a task pinned to one resource). With other tries it fails over, and a
    task no resource could read ends with `failed_everywhere`'s error naming each one's reason."""
    return isinstance(err, CircuitConversionError) and not member.attempts and len(member.placements) == 1


def _fail_over_into(out: list[Entry | None], members: list[tuple[int, TaskPayload]]) -> None:
    for i, value in fail_over_batch(members) if members else ():
        out[i] = value


def _call(payload: BatchPayload, prepared: list[Prepared], slots: list[int], started: float,
          out: list[Entry | None], key: tuple, first_call: bool) -> None:
    """One backend call of the prepared jobs of members `slots`, their entries written into `out`."""
    host = payload.members[0].host
    first = payload.members[0].placements[0]
    timeouts = [payload.members[i].task.timeout for i in slots if payload.members[i].task.timeout is not None]
    try:
        outcomes = run_jobs(host, first, [ready.job for ready in prepared], max(timeouts) if timeouts else None)
    except BaseException as err:
        ran(key)
        if not isinstance(err, MEMBER_ERRORS) and not backend_fault(err):
            raise
        alone = len(slots) > 1 and isinstance(err, MEMBER_ERRORS)
        if alone or isinstance(err, INPUT_ERRORS) or _ends_with_its_own(payload.members[slots[0]], err):
            for i in slots:  # alone, the culprit fails with this error (or fails over) and the others run
                try:
                    out[i] = run_task(payload.members[i]) if alone else TaskFailure(payload.members[i].task.task_id, err)
                except QtauError as error:
                    out[i] = TaskFailure(payload.members[i].task.task_id, error)
            return
        failed = attempt_record(first.resource.id, started, err, cold=first_call)
        retry = [(i, payload.members[i].rest((*payload.members[i].attempts, failed), 1)) for i in slots]
        for i, value in fail_over_batch(retry):
            out[i] = value
        return
    ran(key)
    for n, i in enumerate(slots):
        member = payload.members[i]
        attempts = (*member.attempts, attempt_record(first.resource.id, started, cold=first_call))
        out[i] = make_result(member.task, member.placements[0], outcomes[n], prepared[n], attempts,
                             member.submitted_at, started)


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
