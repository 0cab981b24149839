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

import io
import pickle
from collections.abc import Callable, Mapping
from typing import Any

import cloudpickle

from qtau.secrets import transport

Dumps = Callable[[Any], bytes]


def cloudpickle_dumps(payload: Any) -> bytes:
    """`payload` pickled by value where it must be (lambdas, `__main__` functions)."""
    return cloudpickle.dumps(payload, protocol=5)


def _c_pickle(payload: Any) -> bytes:
    return pickle.dumps(payload, protocol=5)


def pack(payload: Any, fallback: Dumps = cloudpickle_dumps, dumps: Dumps = _c_pickle) -> bytes:
    """`payload` as bytes that `unpack` (plain `pickle.loads`) reads in another process: `dumps`
    (the C pickler, or `CompactForms`' use of it), else `fallback`."""
    with transport():
        try:
            blob = dumps(payload)
            if b"__main__" not in blob:
                return blob
        except Exception:
            pass
        return fallback(payload)


def unpack(blob: bytes) -> Any:
    """What `pack` packed."""
    return pickle.loads(blob)


#: A plugin's compact form of one of its SDK's objects: `(rebuild, args)`, or None for pickle's.
Compactor = Callable[[Any], "tuple[Callable[..., Any], tuple] | None"]


class CompactForms:
    """The plugins' compact, exact forms of their SDKs' objects (`qtau_compact_forms`), by class.

    The journal pickles every acknowledged task on the submitting thread, and RAY every payload in
    the driver, where an SDK's own pickling of a small circuit can cost more than running it
    (Qiskit's of a Bell circuit: 46 us, qtau-qiskit's compact form 15 us, measured in one minute;
    docs/journal.md). A plugin names the exact classes it has a faster exact form for; anything
    else, and any object whose compactor answers None or raises, pickles as before."""

    def __init__(self, by_name: Mapping[str, Compactor] | None = None) -> None:
        self._by_name = dict(by_name or {})
        self._by_type: dict[type, Compactor | None] = {}

    def __bool__(self) -> bool:
        return bool(self._by_name)

    def compactor(self, cls: type) -> Compactor | None:
        """The compactor of objects of exactly `cls` (not of its subclasses), if a plugin has one."""
        try:
            return self._by_type[cls]
        except KeyError:
            found = self._by_type[cls] = self._by_name.get(f"{cls.__module__}.{cls.__qualname__}")
            return found

    def pack(self, payload: Any, fallback: Dumps = cloudpickle_dumps) -> bytes:
        """`pack(payload)` with the objects the plugins have a compact form for written in it."""
        return pack(payload, fallback, self._dumps if self._by_name else _c_pickle)

    def _dumps(self, payload: Any) -> bytes:
        buffer = io.BytesIO()
        _CompactPickler(buffer, self).dump(payload)
        return buffer.getvalue()


class _CompactPickler(pickle.Pickler):
    """The C pickler, asking `forms` first for each object of a class with a compact form."""

    def __init__(self, file: io.BytesIO, forms: CompactForms) -> None:
        super().__init__(file, protocol=5)
        self.forms = forms

    def reducer_override(self, obj: Any) -> Any:
        compactor = self.forms.compactor(type(obj))
        if compactor is not None:
            try:
                reduced = compactor(obj)
            except Exception:
                reduced = None
            if reduced is not None:
                return reduced
        return NotImplemented
