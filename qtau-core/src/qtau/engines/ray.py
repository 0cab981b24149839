"""ExecutionEngine.RAY: tasks are plain Ray remote functions; handles are Ray ObjectRefs.

Joins the cluster at `ray_address` (pilot description) or `RAY_ADDRESS`, else starts a local Ray
(`address="local"`, so it never attaches to some other program's cluster by accident). A Ray that
was already initialised in this process is reused. `shutdown` disconnects only a Ray QTAU started,
once no other engine of this process still uses it (`ray_owner`); it never stops or kills Ray
processes it did not start. Joining is checked first
(`ray_join`), and tasks run only on nodes where the service's plugins import (`ray_nodes`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from qtau.coalesce import MAX_BATCH
from qtau.engines import ray_owner
from qtau.engines.base import Engine
from qtau.engines.isolation import bounded
from qtau.engines.ray_coalesce import RayCoalescer
from qtau.engines.ray_join import (
    LOCAL_START_RETRIES,
    check_same_cluster,
    init_error,
    preflight,
    start_timed_out,
)
from qtau.engines.ray_nodes import NodePlacement
from qtau.engines.ray_remote import (  # noqa: F401  (pack, unwrap_error: importable from here)
    SYSTEM_RETRIES,
    _only_value,
    _ray_cloudpickle,
    as_qtau_error,
    cluster_cpus,
    pack,
    remote_function,
    unwrap_error,
)
from qtau.engines.ray_tracker import create_tracker_actor
from qtau.errors import ConfigurationError, TaskCancelledError, TaskTimeoutError
from qtau.payloads import BatchPayload
from qtau.plugins import missing_plugins
from qtau.resource_request import check_nodes, ray_options
from qtau.types import Resource

#: Members of one Ray task at most: a larger backend batch goes as several Ray tasks of this many.
#: One Ray task with tens of thousands of returns costs more per member than many of a thousand,
#: and a first part starts while the driver still packs the rest (benchmarks/growth.py, 100k Bell
#: tasks batched on 2 CPUs: 602 tasks/s as 2 Ray tasks of 50k, 927 as 100 of 1k; 10k: 1026).
RAY_BATCH_MAX = 1000

log = logging.getLogger(__name__)


def in_parts(payload: BatchPayload, submit: Callable[[BatchPayload, int], list[Any]]) -> list[Any]:
    """`submit(part, len(part.members))` for each part of at most RAY_BATCH_MAX members of
    `payload`, in order; the handles of every part, one per member."""
    members = payload.members
    if len(members) <= RAY_BATCH_MAX:
        return submit(payload, len(members))
    handles: list[Any] = []
    for start in range(0, len(members), RAY_BATCH_MAX):
        part = members[start:start + RAY_BATCH_MAX]
        handles.extend(submit(BatchPayload(part), len(part)))
    return handles


def connected_job() -> str | None:
    """This driver's Ray job id, new with every `ray.init`: it names the Ray the process is connected
    to (`ray_owner`). None when Ray is not initialised (asking Ray then would start one)."""
    import ray

    return ray.get_runtime_context().get_job_id() if ray.is_initialized() else None


class RayEngine(Engine):
    name = "ray"

    def __init__(self, ray_address: str | None = None, num_cpus: int | None = None,
                 ray_init_options: dict | None = None, **_: Any) -> None:
        self._options = {"num_cpus": num_cpus, "ray_init_options": ray_init_options}
        self.address = ray_address or os.environ.get("RAY_ADDRESS") or None
        self.num_cpus = num_cpus
        self.init_options = dict(ray_init_options or {})
        self.started_ray = False
        #: The Ray QTAU started that this engine uses (`ray_owner`); None on a Ray the user started.
        self._ray_token: str | None = None
        self._holds_ray = False
        # Completion watch list: polled with ray.wait(fetch_local=False), so tracking in-flight work
        # never pulls results into the driver (ObjectRef.future() would, once per task).
        self._watch: list[tuple[Any, Callable[[Any], None]]] = []
        self._watch_lock = threading.Lock()
        self._last_poll = 0.0
        self.poll_interval = 0.05
        self.poll_window = 1024
        self.placement: NodePlacement | None = None
        self._placed: dict[tuple, Any] = {}  # (fn, packed) -> remote function with the current node selector
        self._placed_for: dict[str, str] | None = None
        self._tracker_actor: Any = None
        self.tracker_name: str | None = None
        #: Remote-task handles not yet seen done: cancelled at the provider by shutdown.
        self._remote: set[Any] = set()
        self._remote_prune_at = 1000

    def start(self) -> None:
        try:
            import ray
        except ImportError as err:
            raise ConfigurationError(
                "ExecutionEngine.RAY needs Ray, which is not installed", field="execution_engine",
                value="ray", fix="pip install 'qtau-core[ray]', or use ExecutionEngine.LOCAL",
            ) from err
        if ray.is_initialized():
            if self.address:
                check_same_cluster(self.address, ray.get_runtime_context().gcs_address)
            self._ray_token = ray_owner.join(connected_job())
            self._holds_ray = self._ray_token is not None
            return
        options: dict[str, Any] = {
            "include_dashboard": False,
            "ignore_reinit_error": True,
            "logging_level": "ERROR",
            "log_to_driver": True,
        }
        if self.address:
            options["address"] = self.address
            preflight(self.address)
        else:
            options["address"] = "local"
            # A Ray that QTAU starts for the user does not report usage over the network.
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            if self.num_cpus is not None:
                options["num_cpus"] = self.num_cpus
        options.update(self.init_options)
        for attempt in range(1 + LOCAL_START_RETRIES):
            try:
                ray.init(**options)
                break
            except Exception as err:
                if self.address or attempt == LOCAL_START_RETRIES or not start_timed_out(err):
                    raise init_error(self.address, err) from None
                # A local Ray whose node did not register within Ray's fixed 30 s (a loaded
                # machine): what it started is this engine's own, so stop it and start again.
                log.warning("the local Ray did not start within Ray's 30 s (a loaded machine?); starting it again")
                ray.shutdown()
        self.started_ray = True
        self._ray_token = ray_owner.started(connected_job())
        self._holds_ray = self._ray_token is not None

    @property
    def released_ray(self) -> bool:
        """The Ray QTAU started, which this engine used, was disconnected: its handles' objects
        are gone with it."""
        return ray_owner.ended(self._ray_token)

    def for_pilot(self, description: Any) -> RayEngine:
        """A pilot's `ray_address` names the cluster to join: an engine for it (before start)."""
        address = description.get("ray_address")
        if not address:
            return self
        return RayEngine(ray_address=address, **self._options)

    def pack(self, payload: Any) -> bytes:
        """Payload bytes for Ray (`ray_remote.pack`: the C pickler, cloudpickle where it must),
        with circuits in their plugin's compact form where it has one (`Engine.forms`): Qiskit's
        own pickle of a Bell circuit took a tenth of the driver's time one by one on RAY, and the
        worker rebuilds the compact form faster than it unpickles Qiskit's."""
        return self.forms.pack(payload, _ray_cloudpickle)

    def parallelism(self, resource: Resource | None = None) -> int:
        """One chunk per CPU of the cluster (workers run in processes of their own)."""
        return cluster_cpus()

    def coalescer(self, max_batch: int = MAX_BATCH) -> RayCoalescer:
        return RayCoalescer(self, max_batch)

    def node_selector(self) -> dict[str, str] | None:
        """The label selector of the nodes that passed the plugin check (None: every node)."""
        if self.placement is None:
            return None
        self.placement.settle()
        self.placement.refresh()
        return self.placement.selector()

    def _placed_remote(self, fn: Callable, num_returns: int = 1) -> Any:
        """`fn` as a remote function limited to the nodes that passed the plugin check."""
        remote = remote_function(fn)
        if self.placement is None:
            return remote if num_returns == 1 else remote.options(num_returns=num_returns)
        self.placement.settle()
        self.placement.refresh()
        selector = self.placement.selector()
        if selector is not self._placed_for:
            self._placed, self._placed_for = {}, selector
        key = (fn, num_returns)
        found = self._placed.get(key)
        if found is None:
            found = self._placed[key] = remote.options(label_selector=selector, num_returns=num_returns)
        return found

    def submit(self, fn: Callable[[Any], Any], payload: Any) -> Any:
        return self._placed_remote(bounded(fn, payload)).remote(self.pack(payload))

    def check_request(self, request: dict[str, float]) -> None:
        """Refuse what no single node of the cluster has (a task runs on one node), rather than
        leave the task pending for ever."""
        import ray

        if ray.is_initialized():  # else the first pilot has not started Ray yet: nothing to ask
            check_nodes(request, [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")])

    def _requested(self, request: dict[str, float] | None, num_returns: int = 1) -> dict[str, Any]:
        """Ray options for a task (or batch) asking for `request`, on the plugin-checked nodes."""
        options = ray_options(request or {})
        if num_returns != 1:
            options["num_returns"] = num_returns
        selector = self.node_selector()
        if selector is not None:
            options["label_selector"] = selector
        return options

    def submit_requested(self, fn: Callable[[Any], Any], payload: Any, request: dict[str, float]) -> Any:
        """The task as a Ray task asking for the request's num_cpus, num_gpus and memory (bytes)."""
        return remote_function(bounded(fn, payload)).options(**self._requested(request)).remote(
            self.pack(payload))

    def _tracker(self) -> Any:
        """This service's remote-job tracker: an async actor holding no CPU, created on first use."""
        with self._watch_lock:
            if self._tracker_actor is None:
                self.tracker_name, self._tracker_actor = create_tracker_actor()
            return self._tracker_actor

    def ensure_tracker(self) -> str:
        """Create the tracker actor now (its name goes into payloads) and return its name."""
        self._tracker()
        return self.tracker_name  # type: ignore[return-value]

    def remote_tracker(self) -> str | None:
        return self.ensure_tracker()

    def submit_remote(self, payload: Any) -> Any:
        ref = self._tracker().run.remote(self.pack(payload))
        self._remember([ref])
        return ref

    def submit_remote_batch(self, payload: Any, n: int) -> list[Any]:
        refs = self._tracker().run_batch.options(num_returns=n).remote(self.pack(payload))
        refs = [refs] if n == 1 else list(refs)
        self._remember(refs)
        return refs

    def _remember(self, refs: list[Any]) -> None:
        """Remote-task handles in flight (what shutdown cancels); finished ones are dropped as the
        set grows, so holding them never pins results for the life of the service. The set is
        looked over when it doubled since the last look, so with 100k in flight a submission
        costs the same as with 1k (a look at every call past a fixed size would cost O(n) each)."""
        if len(self._remote) > self._remote_prune_at:
            import ray

            pending = list(self._remote)
            ready, _ = ray.wait(pending, num_returns=len(pending), timeout=0, fetch_local=False)
            self._remote.difference_update(ready)
            self._remote_prune_at = max(1000, 2 * len(self._remote))
        self._remote.update(refs)

    def submit_requested_batch(self, fn: Callable[[Any], list], payload: Any, n: int,
                               request: dict[str, float]) -> list[Any]:
        """A batch as Ray tasks (one per RAY_BATCH_MAX members) asking for its members' shared
        request (num_cpus, num_gpus, memory): each holds what each member asked for while it runs."""
        return in_parts(payload, lambda part, k: self._requested_batch(fn, part, k, request))

    def _requested_batch(self, fn: Callable[[Any], list], payload: Any, n: int,
                         request: dict[str, float]) -> list[Any]:
        if n == 1:
            return [remote_function(_only_value).options(**self._requested(request)).remote(
                self.pack((fn, payload)))]
        return list(remote_function(fn).options(**self._requested(request, n)).remote(self.pack(payload)))

    def submit_batch(self, fn: Callable[[Any], list], payload: Any, n: int) -> list[Any]:
        """A batch as Ray tasks, one per RAY_BATCH_MAX members, on the plugin-checked nodes."""
        return in_parts(payload, lambda part, k: self._batch(fn, part, k))

    def _batch(self, fn: Callable[[Any], list], payload: Any, n: int) -> list[Any]:
        if n == 1:
            # With num_returns=1 Ray returns the list itself as the one value: unwrap on the worker.
            return [self._placed_remote(_only_value).remote(self.pack((fn, payload)))]
        return list(self._placed_remote(fn, n).remote(self.pack(payload)))

    def completed(self, value: Any) -> Any:
        import ray

        return ray.put(value)

    def _check_connected(self) -> None:
        """After shutdown disconnected the Ray this engine started, its handles name objects that
        no longer exist; `ray.get` and `ray.wait` would start a fresh local Ray by themselves
        (seconds, every CPU, never stopped) only to fail with Ray's "owner is unknown"."""
        if self.released_ray:
            raise TaskCancelledError(
                "the service was closed, and with it its connection to the Ray it started or joined: the results "
                "of its tasks went with it",
                field="service", value="closed",
                fix="collect results before pcs.cancel() or close(), or start Ray yourself (ray.init) "
                    "so that it outlives the service",
            )

    def wait(self, handles: Sequence[Any], timeout: float | None) -> tuple[list, list]:
        import ray

        self._check_connected()
        handles = list(handles)
        if not handles:
            return [], []
        ready, _ = ray.wait(handles, num_returns=len(handles), timeout=timeout, fetch_local=False)
        ready_set = set(ready)
        return [h for h in handles if h in ready_set], [h for h in handles if h not in ready_set]

    def get(self, handle: Any, timeout: float | None = None) -> Any:
        import ray
        from ray.exceptions import GetTimeoutError
        from ray.exceptions import TaskCancelledError as RayCancelledError

        self._check_connected()
        try:
            return ray.get(handle, timeout=timeout)
        except GetTimeoutError:
            raise TaskTimeoutError(
                f"task not done within {timeout} s", field="timeout", value=timeout,
                fix="wait longer, or cancel the task",
            ) from None
        except RayCancelledError:
            raise TaskCancelledError("the task was cancelled before it finished") from None
        except Exception as err:
            raise as_qtau_error(err) from None

    def get_many(self, handles: Sequence[Any], timeout: float | None = None) -> list[Any]:
        import ray

        self._check_connected()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            return list(ray.get(list(handles), timeout=timeout))
        except Exception:
            # Some task failed (or the wait ran out): sort it out handle by handle, in the time
            # left of `timeout` (the full timeout again made get_results take twice as long).
            return self.get_each(handles, timeout, deadline)

    def on_done(self, handle: Any, callback: Callable[[Any], None]) -> None:
        """Calls `callback(None)` once `handle` is done, from a later `poll()` (no value is fetched)."""
        with self._watch_lock:
            self._watch.append((handle, callback))

    def poll(self, force: bool = False) -> None:
        """Deliver callbacks of finished handles. A throttled poll looks at the oldest
        `poll_window` handles only (tasks finish roughly in order), so its cost stays flat however
        many tasks are in flight; `force` looks at all of them."""
        now = time.monotonic()
        if self.released_ray or not force and now - self._last_poll < self.poll_interval:
            return
        import ray

        with self._watch_lock:
            self._last_poll = now
            if force or len(self._watch) <= self.poll_window:
                watch, self._watch = self._watch, []
            else:
                watch, self._watch = self._watch[:self.poll_window], self._watch[self.poll_window:]
        if not watch:
            return
        ready, _ = ray.wait([h for h, _ in watch], num_returns=len(watch), timeout=0, fetch_local=False)
        ready_set = set(ready)
        pending = []
        for handle, callback in watch:
            if handle in ready_set:
                callback(None)
            else:
                pending.append((handle, callback))
        with self._watch_lock:
            self._watch[:0] = pending

    def cancel(self, handle: Any) -> bool:
        import ray

        if self.released_ray:  # nothing of it runs any more
            return False
        try:
            ray.cancel(handle)
        except Exception:
            return False
        return True

    def _cancel_remote(self, timeout: float = 30.0) -> None:
        """Cancel every unfinished remote task (the tracker cancels their provider jobs), wait
        for the cancellations to settle (bounded), then remove the tracker actor."""
        if self._tracker_actor is None:
            return
        import ray

        pending = list(self._remote)
        if pending:
            _, pending = ray.wait(pending, num_returns=len(pending), timeout=0, fetch_local=False)
        for ref in pending:
            try:
                ray.cancel(ref)
            except Exception:
                pass
        if pending:
            ray.wait(pending, num_returns=len(pending), timeout=timeout, fetch_local=False)
        self._remote.clear()
        try:
            ray.kill(self._tracker_actor)
        except Exception:
            pass
        self._tracker_actor = None

    def owns(self, handle: Any) -> bool:
        import ray

        return isinstance(handle, ray.ObjectRef)

    def check_plugins(self, spec: Any) -> Callable[[float | None], list[str]]:
        """Start importing the driver's plugins on every alive node. Start-up does not wait for it;
        the first submission does. Nodes lacking a plugin are reported (a warning, `node_report()`)
        and get no tasks; the returned function waits for the check and raises when no node can
        run tasks or a node died while answering."""
        self.placement = NodePlacement(spec, remote_function(missing_plugins, packed=False))
        self.placement.start()

        def outcome(timeout: float | None) -> list[str]:
            self.placement.settle(timeout)
            self.placement.selector()
            return []

        return outcome

    def node_report(self) -> list[str]:
        """The nodes that lack plugins, one line each (empty before the check or when none lack)."""
        return [] if self.placement is None else self.placement.report()

    def shutdown(self) -> None:
        self._cancel_remote()
        if self._holds_ray:
            self._holds_ray = self.started_ray = False
            if ray_owner.release(self._ray_token):  # no other engine of this process still uses it
                import ray

                ray.shutdown()
