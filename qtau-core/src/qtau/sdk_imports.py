"""SDK modules imported one thread at a time.

Two threads importing one package at once can each hold part of it: Python's per-module import
locks break such a cycle by handing one thread a module still being initialized, which then fails
inside the SDK ("cannot import name ... from partially initialized module", or a RuntimeError from
a dictionary that changed size under it). QTAU's LOCAL engine starts a burst's first conversions
and executors on several threads at once, and SDKs share dependencies: `import pennylane` and
Braket's `braket.circuits` both import opt_einsum, and the demo's first burst failed that way.

So each Backend names the modules its executors import (`Backend.sdk_modules`), each Converter the
modules its function imports (`Converter.sdk_modules`), and core imports them here, under one
process-wide lock, before a Backend's first `executor`, `status` or `noise` call
(`PluginHost.on_backend`) and before each conversion (`Circuits.convert`). After the first time it
is a set lookup.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterable

log = logging.getLogger("qtau.plugins")

_LOCK = threading.RLock()
#: Modules already imported (or tried) through `import_one_at_a_time` in this process.
_imported: set[str] = set()


def module_names(modules: str | Iterable[str]) -> tuple[str, ...]:
    """`sdk_modules` as a tuple of names: a single string is one module, not its letters."""
    return (modules,) if isinstance(modules, str) else tuple(modules)


def import_one_at_a_time(modules: str | Iterable[str]) -> None:
    """Import `modules` holding the process's SDK import lock; each is tried once per process.

    A module that fails to import is left to the code that needs it, which raises its plugin's own
    error (saying what to install); here it is only logged."""
    pending = [name for name in module_names(modules) if name not in _imported]
    if not pending:
        return
    with _LOCK:
        for name in pending:
            if name in _imported:
                continue
            try:
                importlib.import_module(name)
            except Exception as err:  # noqa: BLE001 - reported by the call that needs the module
                log.debug("importing %s ahead of its first use failed: %s: %s", name, type(err).__name__, err)
            _imported.add(name)
