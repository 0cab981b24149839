"""Asking plugins how a task's circuit would run at each optimisation level of a resource
(the optional `qtau_optimisation_levels` hook), for QDREAMER's ranking and `explain()`.

Only resources whose plugin implements the hook are asked, so nothing is converted for the others.
The circuit goes to the plugin in the resource's own format, converted as a worker converts it, so
a plugin that caches its transpilation by content finds it again when the task runs. A circuit
function is not called (it runs only where the task runs). Anything going wrong here (the hook
raises, answers something that is not a `LevelEstimates`, the circuit does not convert) is logged
as a warning and the resource is ranked as it was without the hook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from qtau.errors import QtauError
from qtau.optimisation_levels import LevelEstimates
from qtau.types import QuantumTask

log = logging.getLogger("qtau.dreamer")

HOOK = "qtau_optimisation_levels"


def _owners(host: Any) -> set[str]:
    """Names of the plugins that implement the hook."""
    caller = getattr(host.pm.hook, HOOK, None)
    return {impl.plugin_name for impl in caller.get_hookimpls()} if caller is not None else set()


def asker(host: Any, circuits: Any, task: QuantumTask) -> Callable[[Any], LevelEstimates | None] | None:
    """A function of a ranking `Candidate` giving the plugin's LevelEstimates for `task`'s circuit
    there (None when its plugin has no such hook or answers None); None when no plugin implements
    the hook or the circuit is a function."""
    owners = _owners(host)
    if not owners:
        return None
    circuit = task.circuit
    if callable(circuit) and not isinstance(circuit, str) and task.circuit_format is None \
            and not host.call("qtau_circuit_format", circuit=circuit):
        return None

    def ask(cand: Any) -> LevelEstimates | None:
        res = cand.resource
        if host.owner(res.provider) not in owners:
            return None
        try:
            source, fmt = circuits.resolve(task)
            native, native_fmt, _ = circuits.convert(source, fmt, res.circuit_formats)
            host.import_sdk(res)  # the hook transpiles on this thread while workers import
            answer = host.call(HOOK, resource=res, config=cand.config, circuit=native, circuit_format=native_fmt)
        except QtauError as err:
            if getattr(host, "strict", False):
                raise
            log.warning("%s for %s failed, ranked by its noise profile: %s: %s", HOOK, res.id,
                        type(err).__name__, err)
            return None
        if answer is not None and not isinstance(answer, LevelEstimates):
            log.warning("%s for %s answered %r, not a LevelEstimates: ranked by its noise profile",
                        HOOK, res.id, type(answer).__name__)
            return None
        return answer

    return ask
