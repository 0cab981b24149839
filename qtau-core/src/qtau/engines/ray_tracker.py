"""RAY's remote-job tracker: `qtau.tracker.Tracker` inside an async actor, one per service.

The actor holds no CPU (`num_cpus=0`) and lives on the driver's node, so losing a worker node
never loses the provider jobs being waited for. Local work on a task's failover order runs as Ray
tasks; a Ray worker whose task reaches a remote placement hands the rest over here (`hand_over`).
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Callable
from typing import Any

from qtau.engines.ray_remote import as_qtau_error, pack, pinned_actor, remote_function
from qtau.payloads import BatchPayload, TaskPayload
from qtau.resource_request import ray_options, request_of
from qtau.tracker import Tracker
from qtau.types import Result


class TrackerActor:
    """The Ray face of `Tracker` (created with num_cpus=0, so it holds no CPU slot)."""

    def __init__(self) -> None:
        self.tracker = Tracker(_ray_runner)

    async def run(self, blob: bytes) -> Result:
        return await self.tracker.run(pickle.loads(blob))

    async def run_batch(self, blob: bytes) -> list:
        values = await self.tracker.run_batch(pickle.loads(blob))
        return values if len(values) > 1 else values[0]

    def counters(self) -> dict[str, int]:
        return {"submitted": self.tracker.submitted, "cancelled": self.tracker.cancelled}

    def ready(self) -> bool:
        return True


def create_tracker_actor() -> tuple[str, Any]:
    """A new tracker actor on the driver's node: (its name, which payloads carry; its handle)."""
    name = f"qtau-tracker-{uuid.uuid4().hex[:12]}"
    return name, pinned_actor(TrackerActor, name=name)


async def _ray_runner(fn: Callable[[Any], Any], payload: BatchPayload) -> Any:
    """Local work on a remote task's failover order, as a Ray task asking for the members'
    resource request (they share it: bursts are grouped by it)."""
    options = ray_options(request_of(payload.members[0].task.resource_config))
    remote = remote_function(fn)
    return await (remote.options(**options) if options else remote).remote(pack(payload))


def hand_over(payload: TaskPayload) -> Result:
    """Finish a task on its tracker actor from a Ray worker: blocks this worker (Ray releases its
    CPU while it waits in ray.get); only failover from a local to a remote resource comes here."""
    import ray

    actor = ray.get_actor(payload.tracker)
    try:
        return ray.get(actor.run.remote(pack(payload)))
    except Exception as err:
        raise as_qtau_error(err) from None


def hand_over_batch(payload: BatchPayload) -> list:
    """`hand_over` for batch members that share their next (remote) resource; one entry each."""
    import ray

    actor = ray.get_actor(payload.members[0].tracker)
    try:
        value = ray.get(actor.run_batch.remote(pack(payload)))
    except Exception as err:
        raise as_qtau_error(err) from None
    return value if len(payload.members) > 1 else [value]
