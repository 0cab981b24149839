"""One lock for PennyLane work in this process.

PennyLane records operations into a process-wide queuing context: an operator created on one
thread while another thread builds a tape (`make_qscript`, a QNode's construction, a device's
decomposition) lands in the other thread's tape ("X(1) must occur prior to measurements"). So
QTAU builds, converts and executes PennyLane circuits one thread at a time; PennyLane's own work is
Python under the GIL, so little is lost.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

PENNYLANE = threading.RLock()

F = TypeVar("F", bound=Callable[..., Any])


def exclusive(fn: F) -> F:
    """Run `fn` holding the PennyLane lock."""

    @functools.wraps(fn)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with PENNYLANE:
            return fn(*args, **kwargs)

    return locked  # type: ignore[return-value]
