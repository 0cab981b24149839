"""Payload bytes: Python's C pickler first, cloudpickle only for what it cannot ship.

The C pickler is several times faster than cloudpickle. Cloudpickle remains for lambdas and local
functions (the C pickler raises) and for functions of the driver's `__main__` (which the C pickler
would pickle by a name that another process cannot import). Engines pass their own cloudpickle
(Ray ships one its workers can read); the journal uses the standalone `cloudpickle` package, a
dependency of qtau-core, so a task is journaled for recovery on any engine.

Packing is QTAU's transport: a `Secret` in the payload keeps its value here (a Ray worker and a
task's own process need the credentials), while any other pickle of it withholds the value.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import cloudpickle

from qtau.secrets import transport

Dumps = Callable[[Any], bytes]


def cloudpickle_dumps(payload: Any) -> bytes:
    """`payload` pickled by value where it must be (lambdas, `__main__` functions)."""
    return cloudpickle.dumps(payload, protocol=5)


def pack(payload: Any, fallback: Dumps = cloudpickle_dumps) -> bytes:
    """`payload` as bytes that `unpack` (plain `pickle.loads`) reads in another process."""
    with transport():
        try:
            blob = pickle.dumps(payload, protocol=5)
            if b"__main__" not in blob:
                return blob
        except Exception:
            pass
        return fallback(payload)


def unpack(blob: bytes) -> Any:
    """What `pack` packed."""
    return pickle.loads(blob)
