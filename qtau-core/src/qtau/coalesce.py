"""Coalescing: tasks submitted one by one for the same resource run as one backend batch.

People write loops of `submit_quantum_task`. Each task sent alone pays a worker round trip and a
backend call of its own; a simulator runs a hundred Bell circuits in one call in little more time
than one. The coalescer sends a task at once while the engine has free capacity (so a lone task
is never delayed) and gathers tasks only while the engine is saturated: they wait per
(resource, timeout) and go out as one `BatchPayload` (run by `engines.tasks.run_batch`: one Aer `run`
call, one PennyLane `qml.execute`) as soon as a unit of work finishes, at most `max_batch` tasks a
batch. The self-clocking is the same as a database's group commit: the busier the engine, the
bigger the batches; an idle engine sends every task alone.

Each task keeps its own handle, Result, attempts, cost and failover order (`run_batch` returns one
entry per member). Only tasks with the same timeout share a batch, so a batch's time limit is each
member's own.

Where the engine-side parts live: the LOCAL and RAY coalescers are their engines'
(`qtau.engines.local_coalesce`, `qtau.engines.ray_coalesce`; `Engine.coalescer()` makes one);
what every engine shares (grouping, the gathered queue, remote gathering in the tracker) is here.

- LOCAL: a handle is a `concurrent.futures.Future` returned at once. A gathered task's Future stays
  cancellable until its batch starts running, exactly as a queued pool task's.
- RAY: a handle must be an `ObjectRef` when submit returns, so a gathered task is a call on a
  `BatchingActor` (async, `num_cpus=0`, on the driver's node, like the remote-job tracker): each
  call waits for the shared batch and returns its own member's Result (or raises its own error).
  `ray.cancel` on such a handle drops the task from its batch if it has not been sent yet.

Remote resources: the remote-job tracker sends a task at once unless a provider create call for
its resource is in progress; tasks arriving meanwhile gather and go out as one provider batch as
soon as that call answers (`RemoteGathering`). Cancelling a gathered task before it is sent drops
it; once sent, its handle ends cancelled at once and the provider batch is cancelled when every
member of it has been cancelled (a provider batch is cancelled whole or not at all).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, Protocol

from qtau.payloads import BatchPayload, TaskFailure, TaskPayload
from qtau.types import Result

#: Most tasks in one coalesced batch: large enough that a simulator call amortises its set-up,
#: small enough that one batch never holds a worker for long.
MAX_BATCH = 256
#: RAY: once tasks are being gathered, further tasks are gathered too while submissions keep
#: coming less than this many seconds apart (a loop of submits is one burst, not a race between
#: the direct path and the batches for the same CPUs).
LINGER_S = 0.05


def group_key(payload: TaskPayload) -> tuple[str, float | None]:
    """Tasks that may share a batch: same first resource, same time limit."""
    return payload.placements[0].resource.id, payload.task.timeout


class Gathered:
    """Tasks waiting for capacity, per group key, oldest group first."""

    def __init__(self, max_batch: int) -> None:
        self.max_batch = max_batch
        self.groups: OrderedDict[tuple, list] = OrderedDict()

    def add(self, key: tuple, item: Any) -> None:
        self.groups.setdefault(key, []).append(item)

    def take(self) -> list | None:
        """The oldest group's first `max_batch` tasks (None when nothing waits)."""
        if not self.groups:
            return None
        key, members = next(iter(self.groups.items()))
        batch, rest = members[:self.max_batch], members[self.max_batch:]
        if rest:
            self.groups[key] = rest
            self.groups.move_to_end(key)  # the next free slot serves another resource first
        else:
            del self.groups[key]
        return batch

    def drain(self) -> list:
        out = [item for members in self.groups.values() for item in members]
        self.groups.clear()
        return out

    def discard(self, key: tuple, item: Any) -> bool:
        members = self.groups.get(key)
        if members is None or item not in members:
            return False
        members.remove(item)
        if not members:
            del self.groups[key]
        return True


# -- remote resources (inside the remote-job tracker) ---------------------------------------------


class BatchRunner(Protocol):
    """What remote gathering needs of its tracker: run a batch, say when the create call answered."""

    async def run_batch(self, payload: BatchPayload, created: Any = None) -> list[Result | TaskFailure]: ...


class RemoteGathering:
    """Provider batches out of single remote tasks: while a create call for a resource is in
    progress, its tasks gather per (resource, timeout); when it answers they go as one batch.
    Lives in a `Tracker` and runs on its event loop."""

    def __init__(self, tracker: BatchRunner, max_batch: int = MAX_BATCH) -> None:
        self.tracker = tracker
        self._waiting = Gathered(max_batch)
        self._creating: dict[str, int] = {}
        self._scheduled = False
        self.batches: list[int] = []

    async def run(self, payload: TaskPayload) -> Any:
        key = group_key(payload)
        item = [payload, asyncio.get_running_loop().create_future(), None]  # [payload, future, batch]
        self._waiting.add(key, item)
        self._schedule()
        try:
            value = await item[1]  # cancelling this call cancels the member's future too
        except asyncio.CancelledError:
            if not self._waiting.discard(key, item) and item[2] is not None:
                cancelling = item[2].member_cancelled()
                if cancelling is not None:  # the provider batch is being cancelled: see it done
                    await asyncio.wait([cancelling])
            raise
        if isinstance(value, TaskFailure):
            raise value.error
        return value

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Send every waiting group whose resource has no create call in progress."""
        self._scheduled = False
        for key in list(self._waiting.groups):
            rid = key[0]
            while key in self._waiting.groups and not self._creating.get(rid):
                members = self._waiting.groups.pop(key)
                batch, rest = members[:self._waiting.max_batch], members[self._waiting.max_batch:]
                if rest:
                    self._waiting.groups[key] = rest
                live = [m for m in batch if not m[1].done()]
                if live:
                    self._send(rid, live)

    def _send(self, rid: str, members: list) -> None:
        self._creating[rid] = self._creating.get(rid, 0) + 1
        self.batches.append(len(members))
        sent = _SentBatch(self, rid, members)
        for m in members:
            m[2] = sent
        sent.task = asyncio.get_running_loop().create_task(sent.run())

    def created(self, rid: str) -> None:
        self._creating[rid] -= 1
        if not self._creating[rid]:
            del self._creating[rid]
        self._schedule()


class _SentBatch:
    """One provider batch of gathered tasks; cancelled at the provider only when all its members are."""

    def __init__(self, gathering: RemoteGathering, rid: str, members: list) -> None:
        self.gathering = gathering
        self.rid = rid
        self.members = members
        self.task: Any = None
        self._created = False

    def _on_created(self) -> None:
        if not self._created:
            self._created = True
            self.gathering.created(self.rid)

    async def run(self) -> None:
        try:
            values = await self.gathering.tracker.run_batch(
                BatchPayload(tuple(m[0] for m in self.members)), self._on_created)
        except asyncio.CancelledError:
            values = None
        except Exception as err:
            values = [err] * len(self.members)
        finally:
            self._on_created()
        for m, value in zip(self.members, values or [None] * len(self.members), strict=True):
            future = m[1]
            if future.done():
                continue
            if value is None:
                future.cancel()
            elif isinstance(value, BaseException):
                future.set_exception(value)
            else:
                future.set_result(value)

    def member_cancelled(self) -> Any:
        """The batch's task, cancelled, once every member is cancelled (else None)."""
        if all(m[1].done() for m in self.members) and self.task is not None and not self.task.done():
            self.task.cancel()  # every member cancelled: cancel the provider batch
            return self.task
        return None
