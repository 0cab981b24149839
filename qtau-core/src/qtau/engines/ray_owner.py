"""The Ray that QTAU started in this process, shared by every RAY engine that uses it: plain
bookkeeping, no Ray.

A second PilotComputeService in the same process finds Ray initialised and reuses it. Before, the
first service's `close()` shut that Ray down under the second: the second's handles then named
objects of a Ray that no longer existed, its next `ray.get` started a fresh local Ray by itself
(every CPU, never stopped), and its next submission raised Ray's bare "owner is unknown" ValueError.
So each engine on the Ray QTAU started holds it, and only the last one to let go disconnects it.

A Ray is named by its `token` (the engine passes the driver's Ray job id, new with every
`ray.init`), so a Ray the user started after QTAU's was shut down is never taken for QTAU's.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
#: Token of the Ray QTAU started that is still up (None: none, or the running Ray is the user's).
_current: str | None = None
_holders = 0


def started(token: str | None) -> str | None:
    """QTAU just initialised the Ray named `token`; the caller holds it (None: Ray could not name
    itself, so nothing is held)."""
    global _current, _holders
    if token is None:
        return None
    with _lock:
        _current, _holders = token, 1
    return token


def join(token: str | None) -> str | None:
    """Ray `token` was already initialised: when QTAU started it, hold it too and return the token;
    None when it is the user's (never disconnected by QTAU)."""
    global _holders
    with _lock:
        if token is None or token != _current:
            return None
        _holders += 1
        return token


def release(token: str) -> bool:
    """Let go of Ray `token`: True when this was the last hold, so the caller disconnects it now."""
    global _current, _holders
    with _lock:
        if token != _current:
            return False
        _holders -= 1
        if _holders > 0:
            return False
        _current, _holders = None, 0
        return True


def ended(token: str | None) -> bool:
    """Whether the Ray QTAU started as `token` has been disconnected (False for None: not QTAU's)."""
    with _lock:
        return token is not None and token != _current
