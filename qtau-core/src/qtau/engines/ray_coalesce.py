"""RAY's coalescer: single tasks gathered into backend batches while the cluster is saturated.

A handle must be an `ObjectRef` when submit returns, so a gathered task is a call on a
`BatchingActor` (async, `num_cpus=0`, on the driver's node, like the remote-job tracker): each call
waits for the shared batch and returns its own member's Result (or raises its own error).
`ray.cancel` on such a handle drops the task from its batch if it has not been sent yet
(`qtau.coalesce` says why tasks are gathered and what every engine's coalescer shares).
"""

from __future__ import annotations

import asyncio
import pickle
import threading
import time
from collections import Counter, deque
from typing import Any, Protocol

from qtau.coalesce import LINGER_S, MAX_BATCH, Gathered, group_key
from qtau.engines.ray_nodes import cpus_per_node, selected_nodes
from qtau.engines.ray_remote import as_qtau_error, cluster_cpus, pinned_actor, remote_function
from qtau.engines.ray_shares import ENDED_LAG_S, ForeignWork, shares, split, usable_cpus
from qtau.engines.tasks import run_batch, run_task
from qtau.errors import QtauError
from qtau.payloads import BatchPayload, TaskFailure, TaskPayload

#: Seconds between looks at the cluster's CPUs (nodes join and leave; Ray's view lags anyway).
NODE_VIEW_S = 0.5
#: While tasks are being gathered, seconds between looks at which direct tasks have finished.
DIRECT_LOOK_S = 0.1


class DirectEngine(Protocol):
    """What the coalescer asks of the RAY engine: run a task now, where tasks may run, and a
    payload as it travels to them."""

    def submit(self, fn: Any, payload: Any) -> Any: ...

    def node_selector(self) -> dict[str, str] | None: ...

    def pack(self, payload: Any) -> bytes: ...


class RayCoalescer:
    """RAY: a task goes straight to a Ray worker while fewer than `capacity` (the cluster's CPUs)
    of this service's direct tasks run; otherwise it is a call on the batching actor."""

    def __init__(self, engine: DirectEngine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.capacity: int | None = None
        self._direct: list[Any] = []
        self._last_check = 0.0
        self._capacity_at = -1e9
        self._last_gathered = -1e9
        self._actor: Any = None
        self._lock = threading.Lock()
        self.sent_alone = 0
        self.gathered = 0

    def _actor_handle(self) -> Any:
        if self._actor is None:
            self._actor = pinned_actor(BatchingActor, self.capacity, self.max_batch)
        return self._actor

    def _go_direct(self) -> bool:
        now = time.monotonic()
        if self.capacity is None or now - self._capacity_at > NODE_VIEW_S:
            self.capacity, self._capacity_at = cluster_cpus(), now  # nodes join and leave
        if now - self._last_gathered < LINGER_S:
            self._last_gathered = now
            self._forget_done(now, DIRECT_LOOK_S)  # the count the batching actor gets stays true
            return False
        if len(self._direct) >= self.capacity:
            self._forget_done(now, 0.002)
        if len(self._direct) < self.capacity:
            return True
        self._last_gathered = now
        return False

    def _forget_done(self, now: float, every_s: float) -> None:
        """Drop the direct tasks Ray has finished (at most once every `every_s` seconds)."""
        if self._direct and now - self._last_check > every_s:
            import ray

            self._last_check = now
            _, self._direct = ray.wait(self._direct, num_returns=len(self._direct), timeout=0,
                                       fetch_local=False)

    def submit(self, payload: TaskPayload) -> Any:
        with self._lock:
            direct = self._go_direct()
            if direct:
                ref = self.engine.submit(run_task, payload)
                self._direct.append(ref)
                self.sent_alone += 1
                return ref
            self.gathered += 1
            actor = self._actor_handle()
            in_flight = len(self._direct)  # not yet seen done: the batching actor counts them as ours
        rid, timeout = group_key(payload)
        return actor.submit.remote(rid, timeout, self.engine.pack(payload), self.engine.node_selector(),
                                   in_flight)

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
    `capacity` at once; each caller gets its own member's outcome. Created with num_cpus=0.

    A batch is split over the plugin-checked nodes by the CPUs this service may use there (a node's
    CPUs less foreign work: what Ray's view shows busy beyond this service's own tasks, lasting
    over several views) and what it already queued there (`qtau.engines.ray_shares`), each part
    pinned to its node, so two nodes run a burst of tasks side by side rather than one node all of
    it. `capacity` follows the CPUs of those nodes as they join and leave."""

    def __init__(self, capacity: int, max_batch: int = MAX_BATCH) -> None:
        self.capacity = max(int(capacity), 1)
        self._waiting = Gathered(max_batch)
        self._running = 0
        self._flush_scheduled = False
        self.batches: deque[int] = deque(maxlen=10_000)  # the latest batches' sizes (memory stays flat)
        self.per_node: Counter[str] = Counter()  # node id -> members sent there
        self._selector: dict[str, str] | None = None
        self._held: Counter[str] = Counter()  # node id -> this actor's batch parts sent there, not done
        self._queued: Counter[str] = Counter()  # node id -> members of those parts
        self._ended: deque[tuple[float, str]] = deque()  # (when, node) of parts that ended lately
        self._direct = 0  # the driver's single tasks sent straight to Ray, not yet seen done
        self._total: dict[str, float] = {}
        self._foreign = ForeignWork()
        self._viewed = -1e9

    async def submit(self, resource_id: str, timeout: float | None, blob: bytes,
                     selector: dict[str, str] | None = None, direct: int = 0) -> Any:
        # Batches run only on the nodes that passed the plugin check (the driver's may not have).
        self._selector = selector
        self._direct = direct
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
            asyncio.get_running_loop().call_soon(self._flush)

    def _look(self) -> None:
        """Ray's view of the nodes' CPUs, at most every NODE_VIEW_S: the nodes and their CPUs now,
        and one more view of foreign work (Ray's busy CPUs beyond this service's own tasks)."""
        now = time.monotonic()
        if now - self._viewed <= NODE_VIEW_S:
            return
        self._viewed = now
        try:
            total, free = cpus_per_node(selected_nodes(self._selector))
        except Exception:  # GCS busy or gone: keep the last view
            return
        if not total:
            return
        while self._ended and now - self._ended[0][0] > ENDED_LAG_S:
            self._ended.popleft()
        ended = Counter(node for _, node in self._ended)
        ours = {n: float(self._held[n] + ended[n]) for n in total}
        self._foreign.add(now, total, free, ours, float(self._direct))
        self._total = total
        self.capacity = max(int(sum(total.values())), 1)

    def _parts(self, live: list) -> list[tuple[str | None, list]]:
        """`live` cut into one part per node by `ray_shares` (one part for any node before Ray's
        view of the nodes is known)."""
        self._look()
        if not self._total:
            return [(None, live)]
        usable = usable_cpus(self._total, self._foreign.cpus(time.monotonic()))
        return split(live, shares(len(live), usable, self._queued)) or [(None, live)]

    def _flush(self) -> None:
        self._flush_scheduled = False
        while self._running < self.capacity:
            batch = self._waiting.take()
            if batch is None:
                return
            live = [item for item in batch if not item[1].done()]
            if not live:
                continue
            for node, part in self._parts(live):
                self._running += 1
                if node is not None:
                    self._held[node] += 1
                    self._queued[node] += len(part)
                    self.per_node[node] += len(part)
                self.batches.append(len(part))
                asyncio.get_running_loop().create_task(self._run(part, node))

    async def _call(self, batch: list[tuple[bytes, Any]], node: str | None) -> list:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        if node is not None:  # this part's node; a node that left fails it, then it goes anywhere
            options: dict[str, Any] = {"scheduling_strategy": NodeAffinitySchedulingStrategy(node, soft=False)}
        else:
            options = {"label_selector": self._selector} if self._selector else {}
        if len(batch) == 1:  # the blob is the packed payload the worker unpickles
            return [await remote_function(_run_one).options(**options).remote(batch[0][0])]
        blobs = pickle.dumps([b for b, _ in batch], protocol=5)
        return await remote_function(_run_blobs).options(**options).remote(blobs)

    async def _run(self, batch: list[tuple[bytes, Any]], node: str | None) -> None:
        try:
            try:
                values = await self._call(batch, node)
            except Exception:
                if node is None:
                    raise
                self._viewed = -1e9  # the node may have left: look again before the next split
                values = await self._call(batch, None)
        except Exception as err:
            values = [as_qtau_error(err)] * len(batch)
        finally:
            self._running -= 1
            if node is not None:
                self._held[node] -= 1
                self._queued[node] -= len(batch)
                self._ended.append((time.monotonic(), node))
            self._schedule()
        for (_, future), value in zip(batch, values, strict=True):
            if future.done():
                continue
            if isinstance(value, BaseException):  # this member's own error, or the batch's
                future.set_exception(value)
            else:
                future.set_result(value)

    def stats(self) -> dict[str, Any]:
        return {"batches": list(self.batches), "running": self._running, "per_node": dict(self.per_node),
                "capacity": self.capacity, "foreign": self._foreign.cpus(time.monotonic())}


def _run_blobs(blobs: list[bytes]) -> list:
    """Worker side of a coalesced Ray batch: the members' payloads, run as one `run_batch`.

    A payload that cannot be unpickled here (a circuit function from a module this worker cannot
    import) fails alone with the error its task would have had alone; the others run.
    """
    out: list = [None] * len(blobs)
    members = []
    for i, blob in enumerate(blobs):
        try:
            members.append((i, pickle.loads(blob)))
        except Exception as err:
            out[i] = as_qtau_error(err)
    if members:
        values = run_batch(BatchPayload(tuple(m for _, m in members)))
        for (i, _), value in zip(members, values, strict=True):
            out[i] = value
    return out


def _run_one(payload: TaskPayload) -> Any:
    """A batch of one: the single-task path (its error is returned, to be raised by the caller)."""
    try:
        return run_task(payload)
    except Exception as err:
        if isinstance(err, QtauError):
            return TaskFailure(payload.task.task_id, err)
        raise
