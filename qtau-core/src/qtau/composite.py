"""The handle of a task that QTAU runs as several tasks: a cut circuit's subexperiments, or the
measurement circuits of a task's observables. Its parts are ordinary task handles (each placed,
journaled, settled and collected like any other); `Collector` waits for them and hands out
`finish(their values)` as the task's one result, or the first part's error, and tells `settle`
(the journal, which then knows the task ended) which it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs


@attrs.frozen(eq=False)
class CompositeHandle:
    """What `submit_quantum_task` returns for a task run as `parts`."""

    task_id: str
    parts: tuple[Any, ...] = attrs.field(converter=tuple)
    finish: Callable[[list[Any]], Any] = attrs.field(repr=False)
    #: Called with the task's outcome (its result, or its first failed part's error) when collected.
    settle: Callable[[Any], None] | None = attrs.field(repr=False, default=None)


def flatten(handles: list[Any]) -> list[Any]:
    """`handles` with each composite replaced by its parts (what the engine can wait for)."""
    out: list[Any] = []
    for handle in handles:
        out.extend(handle.parts if isinstance(handle, CompositeHandle) else (handle,))
    return out


def composites(handles: list[Any]) -> list[CompositeHandle]:
    """The composites among `handles` (their own task ids are handed out and let go like a task's)."""
    return [handle for handle in handles if isinstance(handle, CompositeHandle)]


def regroup(handles: list[Any], values: list[Any], is_error: Callable[[Any], bool]) -> list[Any]:
    """The value of each of `handles` from the values of `flatten(handles)`: a composite's is its
    first failed part's error, else `finish` of its parts' values (given to its `settle`)."""
    out, at = [], 0
    for handle in handles:
        if not isinstance(handle, CompositeHandle):
            out.append(values[at])
            at += 1
            continue
        parts = values[at:at + len(handle.parts)]
        at += len(handle.parts)
        failed = next((v for v in parts if is_error(v)), None)
        value = failed if failed is not None else handle.finish(list(parts))
        if handle.settle is not None:
            handle.settle(value)
        out.append(value)
    return out
