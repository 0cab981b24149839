"""Ray plumbing every Ray-side module uses: payload packing, cached remote functions, actors
pinned beside the driver, the cluster's CPU count, and Ray's errors as QTAU's.

Importing this module does not import Ray; each function imports it when called.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

from qtau.errors import ExecutionError, QtauError
from qtau.packing import pack  # noqa: F401  (importable from here, as before)
from qtau.secrets import redact

_remote_cache: dict[Any, Any] = {}
#: Times Ray reruns a task whose worker or node died before giving up on it.
SYSTEM_RETRIES = 3


def _packed(fn: Callable[[Any], Any]) -> Callable[[bytes], Any]:
    def run(blob: bytes) -> Any:
        return fn(pickle.loads(blob))

    run.__name__ = run.__qualname__ = fn.__name__
    return run


def remote_function(fn: Callable, packed: bool = True) -> Any:
    import ray

    key = (fn, packed)
    found = _remote_cache.get(key)
    if found is None:
        # Ray retries a task only when its worker or node dies (retry_exceptions stays off): local
        # simulation is idempotent, so a lost worker costs time, not the task. A task that raised
        # is QDREAMER's to fail over, never Ray's to retry.
        found = _remote_cache[key] = ray.remote(max_retries=SYSTEM_RETRIES)(_packed(fn) if packed else fn)
    return found


def _only_value(packed: tuple[Callable[[Any], list], Any]) -> Any:
    fn, payload = packed
    return fn(payload)[0]


def as_qtau_error(err: BaseException) -> QtauError:
    """A task's failure as users see it: the task's own QtauError, or Ray's fault (a worker or node
    that died past every retry, an object lost with its node) as an ExecutionError. Ray's own
    exception types never reach users."""
    inner = unwrap_error(err)
    if isinstance(inner, QtauError):
        return inner
    what = type(err).__name__
    if what in ("WorkerCrashedError", "NodeDiedError", "ObjectLostError", "OwnerDiedError",
                "ObjectReconstructionFailedError", "ActorDiedError", "RayActorError", "LocalRayletDiedError"):
        reason = (f"Ray lost the task's worker or node ({what}) and it failed again on each of "
                  f"{SYSTEM_RETRIES} retries")
    else:
        reason = f"the task failed in Ray: {what}: {str(inner)[:300]}"
    return ExecutionError(redact(reason), fix="see `ray status` for lost nodes; resubmit the task, or use "
                          "ExecutionEngine.LOCAL to debug it")


def unwrap_error(err: BaseException) -> BaseException:
    """Ray wraps task errors; users get QTAU's own error back (prefect-ray does the same)."""
    cause = getattr(err, "cause", None)
    if isinstance(cause, BaseException):
        return cause
    return err




def pinned_actor(cls: type, *args: Any, name: str | None = None) -> Any:
    """An async actor of `cls` that holds no CPU, on the driver's node (losing a worker node never
    loses what it waits for), never restarted: the remote-job tracker and the batching actor."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    options: dict[str, Any] = {"scheduling_strategy": here}
    if name is not None:
        options["name"] = name
    return ray.remote(num_cpus=0, max_concurrency=100_000, max_restarts=0)(cls).options(**options).remote(*args)


def cluster_cpus() -> int:
    """The CPUs of the Ray cluster this process is connected to (at least 1)."""
    import ray

    return max(int(ray.cluster_resources().get("CPU", 1)), 1)
