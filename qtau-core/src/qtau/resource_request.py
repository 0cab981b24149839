"""What a task's `resource_config` asks for, checked where the task is made.

Pilot-Quantum writes `resource_config={"num_qpus": 1, "num_gpus": 0, "memory": None}` (and
`num_cpus`). Units: `num_cpus` and `num_gpus` are counts (fractions allowed, as in Ray), `memory`
is bytes (Ray's unit), `num_qpus` is how many quantum resources the task runs on. `None` means
"no request". Only `num_qpus` of 1 is honoured today: more quantum resources for one task is shot
splitting, asked for with `QuantumTask(split=True)`, so a larger value is refused with that fix
rather than silently run on one resource.
"""

from __future__ import annotations

import math
from typing import Any

from qtau.errors import InvalidTaskError
from qtau.scalars import plain

#: The resource-request keys (Pilot-Quantum's), beside the `resource` pin.
REQUEST_KEYS = ("num_qpus", "num_cpus", "num_gpus", "memory")

_FIXES = {
    "num_qpus": "pass num_qpus=1 (or None); to spread one task's shots over several resources "
                "pass QuantumTask(split=True)",
    "num_cpus": "pass a non-negative number of CPUs, e.g. num_cpus=1, or None",
    "num_gpus": "pass a non-negative number of GPUs, e.g. num_gpus=1 for lightning.gpu, or None",
    "memory": "pass the memory in bytes as a non-negative integer, e.g. memory=2 * 1024**3, or None",
}


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


def check_request(key: str, value: Any) -> None:
    """Raise `InvalidTaskError` naming `resource_config.<key>` when `value` cannot be honoured."""
    value = plain(value)
    if value is None:
        return
    field = f"resource_config.{key}"
    if not _is_number(value) or (key == "memory" and value != int(value)):
        raise InvalidTaskError(f"{field} must be a non-negative number or None, not {value!r}",
                               field=field, value=value, fix=_FIXES[key])
    if key == "num_qpus" and value != 1:
        raise InvalidTaskError(
            f"{field}={value!r} cannot be honoured: a task runs on exactly one quantum resource",
            field=field, value=value, fix=_FIXES[key])


def request_of(resource_config: dict) -> dict[str, float]:
    """The task's resource request as plain values, keys with `None` left out."""
    return {k: plain(resource_config[k]) for k in REQUEST_KEYS if resource_config.get(k) is not None}


def _refuse(key: str, value: Any, have: Any, where: str, fix: str) -> InvalidTaskError:
    return InvalidTaskError(
        f"resource_config.{key}={value!r} cannot be honoured: {where} has {have}",
        field=f"resource_config.{key}", value=value, fix=fix)


def visible_gpus() -> int:
    """NVIDIA GPUs this process may use: CUDA_VISIBLE_DEVICES when set, else the device nodes."""
    import glob
    import os

    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    return len(glob.glob("/dev/nvidia[0-9]*"))


def available_memory() -> int | None:
    """Bytes of physical memory free now (POSIX), or None where the system does not say."""
    import os

    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_local(request: dict[str, float]) -> None:
    """Refuse a request this machine cannot meet (the LOCAL engine runs tasks in this process)."""
    import os

    cpus = os.cpu_count() or 1
    if request.get("num_cpus", 0) > cpus:
        raise _refuse("num_cpus", request["num_cpus"], f"{cpus} CPUs", "this machine",
                      f"ask for at most num_cpus={cpus}, or use ExecutionEngine.RAY on a larger cluster")
    gpus = visible_gpus()
    if request.get("num_gpus", 0) > gpus:
        raise _refuse("num_gpus", request["num_gpus"], f"{gpus} visible GPUs", "this machine",
                      "pass num_gpus=0 (and a CPU simulator), run where a GPU is visible, or use "
                      "ExecutionEngine.RAY on a cluster with GPUs")
    free = available_memory()
    if free is not None and request.get("memory", 0) > free:
        raise _refuse("memory", request["memory"], f"{free} bytes free", "this machine",
                      "ask for less memory (in bytes), or pass memory=None")


_RAY_KEYS = (("num_cpus", "CPU", "CPUs"), ("num_gpus", "GPU", "GPUs"), ("memory", "memory", "bytes of memory"))


def check_nodes(request: dict[str, float], nodes: list[dict[str, float]]) -> None:
    """Refuse a request that no single node of a Ray cluster meets (a task runs on one node: two
    nodes of 2 CPUs cannot place a task asking for 4, and Ray would keep it pending for ever).
    `nodes` holds each alive node's total resources in Ray's keys (`CPU`, `GPU`, `memory`)."""
    asked = [(key, ray_key, unit) for key, ray_key, unit in _RAY_KEYS if request.get(key, 0) > 0]
    if not asked or any(all(node.get(rk, 0) >= request[k] for k, rk, _ in asked) for node in nodes):
        return
    for key, ray_key, unit in asked:  # name the first key no node has enough of
        most = max((node.get(ray_key, 0) for node in nodes), default=0)
        if request[key] > most:
            raise _refuse(key, request[key], f"{most:g} {unit} on its largest node (a task runs on one node)",
                          "the Ray cluster", f"ask for at most {key}={most:g}, or add a node with more to the cluster")
    # every key alone fits somewhere, but no node has them all together
    asked_text = ", ".join(f"{key}={request[key]:g}" for key, _, _ in asked)
    key = asked[0][0]
    raise InvalidTaskError(
        f"resource_config asks for {asked_text} together, and no node of the Ray cluster has them all",
        field=f"resource_config.{key}", value=request[key],
        fix="ask for less, or add a node that has all of it to the cluster")


def ray_options(request: dict[str, float]) -> dict[str, Any]:
    """Ray's `.options()` for a request: num_cpus, num_gpus and memory (bytes) pass unchanged."""
    return {k: (int(v) if k == "memory" else v) for k, v in request.items() if k != "num_qpus"}
