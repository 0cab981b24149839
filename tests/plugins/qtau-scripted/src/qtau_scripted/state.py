"""Run-time script changes and call counters, per process (the LOCAL engine shares them).

Tests change a resource's scripted values while a service runs (`script("scripted:a",
queue_wait_s=60)`) and read how often QDREAMER asked each resource for a report (`calls`) and
where tasks really ran (`runs`).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

_lock = threading.Lock()
overrides: dict[str, dict[str, Any]] = {}
#: (resource id, "status" | "noise" | "cost") -> number of hook calls.
calls: Counter = Counter()
#: resource id -> number of executor runs (each batch call counts once per job).
runs: Counter = Counter()
#: (resource id, number of jobs) per executor run call, in call order (one entry per backend batch).
batches: list = []
#: The in-process "provider" of remote scripted resources: job id -> its record.
jobs: dict[str, dict[str, Any]] = {}


def script(resource_id: str, **values: Any) -> None:
    """Override scripted values of a resource from now on (e.g. behaviour="fail", online=False)."""
    from qtau_scripted.script import check_values

    check_values(values, field=f"script({resource_id!r})")
    with _lock:
        overrides.setdefault(resource_id, {}).update(values)


def count_call(resource_id: str, kind: str) -> None:
    with _lock:
        calls[(resource_id, kind)] += 1


def count_run(resource_id: str, n: int = 1) -> None:
    with _lock:
        runs[resource_id] += n
        batches.append((resource_id, n))


def status_calls(resource_id: str | None = None) -> int:
    with _lock:
        return sum(n for (rid, kind), n in calls.items() if kind == "status" and resource_id in (None, rid))


def reset() -> None:
    with _lock:
        overrides.clear()
        calls.clear()
        runs.clear()
        batches.clear()
        jobs.clear()
