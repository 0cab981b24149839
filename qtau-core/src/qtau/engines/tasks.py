"""The functions engines run where tasks execute: the worker's, finished to the end.

`qtau.worker` returns a `HandOver` when a task's failover order reaches a remote resource; here
that rest of the task goes to the remote-job tracker its payload names (this process's tracker on
LOCAL, the service's tracker actor on RAY) and its outcome takes the hand-over's place. Engines,
coalescers and shot splitting submit these, never the worker's functions directly.
"""

from __future__ import annotations

from qtau import worker
from qtau.engines.ray_tracker import hand_over as ray_hand_over
from qtau.engines.ray_tracker import hand_over_batch as ray_hand_over_batch
from qtau.payloads import BatchPayload, HandOver, TaskFailure, TaskPayload
from qtau.tracker import local_tracker
from qtau.types import Result


def run_task(payload: TaskPayload) -> Result:
    """Run one task to its end (`worker.run_task`, then the tracker for a remote rest)."""
    value = worker.run_task(payload)
    return hand_over(value.payload) if isinstance(value, HandOver) else value


def run_batch(payload: BatchPayload) -> list[Result | TaskFailure]:
    """`worker.run_batch` with every handed-over member finished by the tracker: members that share
    their next resource go there as one provider batch. One entry per member, in order."""
    entries = worker.run_batch(payload)
    groups: dict[str, list[tuple[int, TaskPayload]]] = {}
    for i, entry in enumerate(entries):
        if isinstance(entry, HandOver):
            groups.setdefault(entry.payload.placements[0].resource.id, []).append((i, entry.payload))
    for group in groups.values():
        values = hand_over_batch(BatchPayload(tuple(m for _, m in group)))
        for (i, _), value in zip(group, values, strict=True):
            entries[i] = value
    return entries  # type: ignore[return-value]


def hand_over(payload: TaskPayload) -> Result:
    """The task's rest, run by the tracker its payload names; blocks this worker meanwhile."""
    if payload.tracker is None:
        return local_tracker().submit(payload).result()
    return ray_hand_over(payload)


def hand_over_batch(payload: BatchPayload) -> list:
    if payload.members[0].tracker is None:
        return local_tracker().submit_batch(payload).result()
    return ray_hand_over_batch(payload)
