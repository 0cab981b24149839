"""Coalescing: tasks submitted one by one for the same resource run as one backend batch.

People write loops of `submit_quantum_task`. Each task sent alone pays a worker round trip and a
backend call of its own; a simulator runs a hundred Bell circuits in one call in little more time
than one. The coalescer sends a task at once while the engine has free capacity (so a lone task
is never delayed) and gathers tasks only while the engine is saturated: they wait per
(resource, timeout) and go out as one `BatchPayload` (run by `worker.run_batch`: one Aer `run`
call, one PennyLane `qml.execute`) as soon as a unit of work finishes, at most `max_batch` tasks a
batch. The self-clocking is the same as a database's group commit: the busier the engine, the
bigger the batches; an idle engine sends every task alone.

Each task keeps its own handle, Result, attempts, cost and failover order (`run_batch` returns one
entry per member). Only tasks with the same timeout share a batch, so a batch's time limit is each
member's own.

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

import concurrent.futures as cf
import pickle
import threading
import time
from collections import OrderedDict
from typing import Any

from qtau.payloads import BatchPayload, TaskFailure, TaskPayload

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


def create_coalescer(service: Any, max_batch: int = MAX_BATCH) -> Any:
    """The coalescer for a service's engine."""
    from qtau.engines import ExecutionEngine

    if service.execution_engine is ExecutionEngine.RAY:
        return RayCoalescer(service.engine, max_batch)
    return LocalCoalescer(service.engine, max_batch)


class _Gathered:
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


# -- LOCAL -----------------------------------------------------------------------------------------


class LocalCoalescer:
    """LOCAL: at most `capacity` units (single tasks or batches) on the pool; the rest gathered.

    `capacity` is the engine's thread count. Invariant: tasks wait only while `capacity` units are
    running, and every unit that ends sends the oldest waiting group, so nothing waits forever.
    """

    def __init__(self, engine: Any, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.capacity = max(int(getattr(engine, "max_workers", 1) or 1), 1)
        self._waiting = _Gathered(max_batch)
        self._running = 0
        self._lock = threading.Lock()
        #: Tasks sent and batches formed (for tests and benchmarks).
        self.sent_alone = 0
        self.batches: list[int] = []

    def submit(self, payload: TaskPayload) -> cf.Future:
        from qtau.worker import run_task

        with self._lock:
            alone = self._running < self.capacity
            if alone:
                self._running += 1
                self.sent_alone += 1
            else:
                handle: cf.Future = cf.Future()
                self._waiting.add(group_key(payload), (payload, handle))
        if not alone:
            return handle
        try:
            future = self.engine.submit(run_task, payload)
        except BaseException:
            self._unit_done(None)
            raise
        future.add_done_callback(self._unit_done)
        return future

    def _unit_done(self, unit: cf.Future | None) -> None:
        """A unit ended: send the oldest waiting group in its place."""
        with self._lock:
            batch = self._waiting.take()
            if batch is None:
                self._running -= 1
                return
            self.batches.append(len(batch))
        try:
            future = self.engine.submit(_run_gathered, batch)
        except BaseException as err:  # the pool is gone (interpreter exit): fail the batch's tasks
            for _, handle in batch:
                if handle.set_running_or_notify_cancel():
                    handle.set_exception(err)
            self._unit_done(None)
            return

        def ended(unit: cf.Future) -> None:
            if unit.cancelled():  # shut down before it ran: its tasks are cancelled too
                for _, handle in batch:
                    handle.cancel()
            self._unit_done(unit)

        future.add_done_callback(ended)

    def close(self) -> None:
        """Cancel every task still waiting (the service is shutting down)."""
        with self._lock:
            waiting = self._waiting.drain()
        for _, handle in waiting:
            handle.cancel()


def _run_gathered(batch: list[tuple[TaskPayload, cf.Future]]) -> None:
    """Run gathered tasks as one batch on a pool thread; each Future gets its own outcome.

    A Future cancelled before this point is left out, as a queued pool task would be.
    """
    from qtau.worker import run_batch, run_task

    live = [(payload, handle) for payload, handle in batch if handle.set_running_or_notify_cancel()]
    if not live:
        return
    if len(live) == 1:  # the single-task path, exactly as if it had never waited
        payload, handle = live[0]
        try:
            handle.set_result(run_task(payload))
        except BaseException as err:
            handle.set_exception(err)
        return
    try:
        values = run_batch(BatchPayload(tuple(p for p, _ in live)), alone_on_input_error=True)
    except BaseException as err:
        for _, handle in live:
            handle.set_exception(err)
        return
    for (_, handle), value in zip(live, values, strict=True):
        if isinstance(value, TaskFailure):
            handle.set_exception(value.error)
        else:
            handle.set_result(value)


# -- RAY -------------------------------------------------------------------------------------------


class RayCoalescer:
    """RAY: a task goes straight to a Ray worker while fewer than `capacity` (the cluster's CPUs)
    of this service's direct tasks run; otherwise it is a call on the batching actor."""

    def __init__(self, engine: Any, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.capacity: int | None = None
        self._direct: list[Any] = []
        self._last_check = 0.0
        self._last_gathered = -1e9
        self._actor: Any = None
        self._lock = threading.Lock()
        self.sent_alone = 0
        self.gathered = 0

    def _cluster_cpus(self) -> int:
        import ray

        return max(int(ray.cluster_resources().get("CPU", 1)), 1)

    def _actor_handle(self) -> Any:
        if self._actor is None:
            import ray
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
            self._actor = ray.remote(num_cpus=0, max_concurrency=100_000, max_restarts=0)(
                BatchingActor).options(scheduling_strategy=here).remote(self.capacity, self.max_batch)
        return self._actor

    def _go_direct(self) -> bool:
        now = time.monotonic()
        if self.capacity is None:
            self.capacity = self._cluster_cpus()
        if now - self._last_gathered < LINGER_S:
            self._last_gathered = now
            return False
        if len(self._direct) >= self.capacity and now - self._last_check > 0.002:
            import ray

            self._last_check = now
            _, self._direct = ray.wait(self._direct, num_returns=len(self._direct), timeout=0,
                                       fetch_local=False)
        if len(self._direct) < self.capacity:
            return True
        self._last_gathered = now
        return False

    def submit(self, payload: TaskPayload) -> Any:
        from qtau.engines.ray import pack
        from qtau.worker import run_task

        with self._lock:
            direct = self._go_direct()
            if direct:
                ref = self.engine.submit(run_task, payload)
                self._direct.append(ref)
                self.sent_alone += 1
                return ref
            self.gathered += 1
            actor = self._actor_handle()
        rid, timeout = group_key(payload)
        return actor.submit.remote(rid, timeout, pack(payload), self._selector())

    def _selector(self) -> dict[str, str] | None:
        """The engine's label selector of the nodes that have the plugins (None: every node)."""
        placement = getattr(self.engine, "placement", None)
        if placement is None:
            return None
        placement.settle()
        placement.refresh()
        return placement.selector()

    def stats(self, timeout: float = 30) -> dict[str, Any]:
        """The batching actor's counters (batches and their sizes)."""
        if self._actor is None:
            return {"batches": []}
        import ray

        return ray.get(self._actor.stats.remote(), timeout=timeout)

    def close(self) -> None:
        """Remove the batching actor (tasks still waiting in it end with a Ray actor error)."""
        actor, self._actor = self._actor, None
        if actor is not None:
            import ray

            try:
                ray.kill(actor)
            except Exception:  # Ray already shut down
                pass


class BatchingActor:
    """Gathers single tasks per (resource, timeout) and runs them as `run_batch` Ray tasks, at most
    `capacity` at once; each caller gets its own member's outcome. Created with num_cpus=0."""

    def __init__(self, capacity: int, max_batch: int = MAX_BATCH) -> None:
        import asyncio

        self.capacity = max(int(capacity), 1)
        self._waiting = _Gathered(max_batch)
        self._running = 0
        self._flush_scheduled = False
        self._asyncio = asyncio
        self.batches: list[int] = []
        self._selector: dict[str, str] | None = None

    async def submit(self, resource_id: str, timeout: float | None, blob: bytes,
                     selector: dict[str, str] | None = None) -> Any:
        asyncio = self._asyncio
        # Batches run only on the nodes that passed the plugin check (the driver's may not have).
        self._selector = selector
        item = (blob, asyncio.get_running_loop().create_future())
        key = (resource_id, timeout)
        self._waiting.add(key, item)
        self._schedule()
        try:
            value = await item[1]
        except asyncio.CancelledError:
            self._waiting.discard(key, item)  # not sent yet: it never runs
            raise
        if isinstance(value, TaskFailure):
            raise value.error
        return value

    def _schedule(self) -> None:
        # Calls that arrived in the same turn of the loop join one batch.
        if not self._flush_scheduled and self._running < self.capacity:
            self._flush_scheduled = True
            self._asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        while self._running < self.capacity:
            batch = self._waiting.take()
            if batch is None:
                return
            live = [item for item in batch if not item[1].done()]
            if not live:
                continue
            self._running += 1
            self.batches.append(len(live))
            self._asyncio.get_running_loop().create_task(self._run(live))

    async def _run(self, batch: list[tuple[bytes, Any]]) -> None:
        from qtau.engines.ray import remote_function

        try:
            options = {"label_selector": self._selector} if self._selector else {}
            if len(batch) == 1:  # the blob is the packed payload the worker unpickles
                values = [await remote_function(_run_one).options(**options).remote(batch[0][0])]
            else:
                blobs = pickle.dumps([b for b, _ in batch], protocol=5)
                values = await remote_function(_run_blobs).options(**options).remote(blobs)
        except Exception as err:
            from qtau.engines.ray import as_qtau_error

            values = [as_qtau_error(err)] * len(batch)
        finally:
            self._running -= 1
            self._schedule()
        for (_, future), value in zip(batch, values, strict=True):
            if future.done():
                continue
            if isinstance(value, BaseException):  # this member's own error, or the batch's
                future.set_exception(value)
            else:
                future.set_result(value)

    def stats(self) -> dict[str, Any]:
        return {"batches": list(self.batches), "running": self._running}


def _run_blobs(blobs: list[bytes]) -> list:
    """Worker side of a coalesced Ray batch: the members' payloads, run as one `run_batch`.

    A payload that cannot be unpickled here (a circuit function from a module this worker cannot
    import) fails alone with the error its task would have had alone; the others run.
    """
    from qtau.engines.ray import as_qtau_error
    from qtau.worker import run_batch

    out: list = [None] * len(blobs)
    members = []
    for i, blob in enumerate(blobs):
        try:
            members.append((i, pickle.loads(blob)))
        except Exception as err:
            out[i] = as_qtau_error(err)
    if members:
        values = run_batch(BatchPayload(tuple(m for _, m in members)), alone_on_input_error=True)
        for (i, _), value in zip(members, values, strict=True):
            out[i] = value
    return out


def _run_one(payload: TaskPayload) -> Any:
    """A batch of one: the single-task path (its error is returned, to be raised by the caller)."""
    from qtau.worker import run_task

    try:
        return run_task(payload)
    except Exception as err:
        from qtau.errors import QtauError

        if isinstance(err, QtauError):
            return TaskFailure(payload.task.task_id, err)
        raise


# -- remote resources (inside the remote-job tracker) ---------------------------------------------


class RemoteGathering:
    """Provider batches out of single remote tasks: while a create call for a resource is in
    progress, its tasks gather per (resource, timeout); when it answers they go as one batch.
    Lives in a `Tracker` and runs on its event loop."""

    def __init__(self, tracker: Any, max_batch: int = MAX_BATCH) -> None:
        self.tracker = tracker
        self._waiting = _Gathered(max_batch)
        self._creating: dict[str, int] = {}
        self._scheduled = False
        self.batches: list[int] = []

    async def run(self, payload: TaskPayload) -> Any:
        import asyncio

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
            import asyncio

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
        import asyncio

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
        import asyncio

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
