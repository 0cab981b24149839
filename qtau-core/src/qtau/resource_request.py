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
    return {k: resource_config[k] for k in REQUEST_KEYS if resource_config.get(k) is not None}
