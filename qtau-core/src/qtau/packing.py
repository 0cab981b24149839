"""Ray-free payload packing: the bytes a task or payload travels (or is journaled) as.

Kept apart from `engines/` so that the journal and the engines share it without the journal
importing any engine. Importing this module does not import Ray; `pack` imports Ray's cloudpickle
only for what the C pickler cannot ship.
"""

from __future__ import annotations

import pickle
from typing import Any


def pack(payload: Any) -> bytes:
    """Payload bytes. The C pickler is several times faster than the cloudpickle Ray uses on
    arguments. Cloudpickle remains for what the C pickler cannot ship: lambdas and local
    functions (it raises), and functions of the driver's `__main__`, which it would pickle by a
    name that workers cannot import."""
    try:
        blob = pickle.dumps(payload, protocol=5)
        if b"__main__" not in blob:
            return blob
    except Exception:
        pass
    from ray import cloudpickle

    return cloudpickle.dumps(payload, protocol=5)


def unpack(blob: bytes) -> Any:
    """The payload `pack` made (cloudpickle's output loads with the plain unpickler)."""
    return pickle.loads(blob)
