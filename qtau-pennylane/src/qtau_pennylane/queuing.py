"""One lock for every PennyLane object QTAU builds, because PennyLane's queuing is process-wide.

PennyLane records the operations of a tape being built into the *global* active queue
(`QueuingManager._active_contexts` is a class attribute, not thread-local). An operation created
on another thread at that moment, outside any queue of its own, is appended to the tape being
recorded: a `qml.counts` made while converting one circuit on a LOCAL pool thread landed in
another thread's tape ("CNOT must occur prior to measurements"). PennyLane holds
`AnnotatedQueue._lock` for as long as a queue records; taking the same lock around QTAU's own
operation-making code keeps the two apart.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def pennylane_lock() -> Any:
    from pennylane.queuing import AnnotatedQueue

    return AnnotatedQueue._lock


def serialised(func: Callable) -> Callable:
    """`func` run while holding PennyLane's queuing lock (re-entrant)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with pennylane_lock():
            return func(*args, **kwargs)

    return wrapper
