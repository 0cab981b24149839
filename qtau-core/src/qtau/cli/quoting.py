"""`qtau quote FILE`'s logic: a LOCAL service that asks the providers, or their shipped data, for
the resources of each executor, and quotes an OpenQASM file on them. Nothing is submitted.

It lives with the command line because it builds a service (the top of QTAU's layers);
`qtau.dreamer.quote` holds the Quote itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from qtau.backend import OFFLINE
from qtau.dreamer.quote import Quote
from qtau.errors import AuthenticationError, BackendUnavailableError, ConfigurationError
from qtau.service import PilotComputeService
from qtau.types import QuantumTask


def quote_file(path: str, executors: Iterable[str], *, shots: int = 1000, mode: str = "balanced",
               split: bool = False, budget: Mapping[str, Any] | None = None, host: Any = None,
               offline: bool = False) -> Quote:
    """Quote an OpenQASM 2/3 file on a pilot per executor (`quote_circuit` of its text)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # as `qtau run` reads it: a BOM is no part of it
    except OSError as err:
        raise ConfigurationError(f"cannot read {path}: {err.strerror}", field="file", value=str(path),
                                 fix="give the path of an OpenQASM 2 or 3 file") from None
    return quote_circuit(text, executors, shots=shots, mode=mode, split=split, budget=budget, host=host,
                         offline=offline)


def quote_circuit(circuit: Any, executors: Iterable[str], *, shots: int = 1000, mode: str = "balanced",
                  split: bool = False, budget: Mapping[str, Any] | None = None, host: Any = None,
                  offline: bool = False) -> Quote:
    """Quote a circuit (OpenQASM text or an SDK's circuit) on a pilot per executor (what
    `qtau quote FILE` prints, FILE read by `qtau.cli.inputs.load_circuit`).

    Creates a LOCAL service only to ask the providers for resources, status, noise and prices;
    nothing is submitted. An executor whose provider cannot be reached without credentials (or
    at all), or every executor with `offline=True`, is quoted offline where its plugin can build
    its resources from the data it ships (`Backend.offline_resources`): prices from the shipped
    table, queue and noise unknown. `Quote.sources` says which executor was quoted how.
    """
    executors = list(executors)
    if not executors:
        raise ConfigurationError("a quote needs at least one executor", field="executor", value=None,
                                 fix="pass --executor qiskit_local (repeatable)")
    task = QuantumTask(circuit=circuit, shots=shots, split=split)
    with PilotComputeService(plugins=host) as pcs:
        sources: dict[str, str] = {}
        built: list[tuple[str, list]] = []
        for executor in executors:
            config = {"executor": executor}
            found = pcs.host.offline_resources(executor, config) if offline else None
            if found:
                built.append((executor, found))
                sources[executor] = "offline (asked for): " + _offline_source(found)
                continue
            try:
                pcs.create_pilot({"resource_type": "quantum", "quantum": config})
            except (AuthenticationError, BackendUnavailableError) as err:
                found = pcs.host.offline_resources(executor, config)
                if not found:
                    raise
                built.append((executor, found))
                why = str(err).split(" (field ", 1)[0].split(" Fix: ", 1)[0]
                sources[executor] = f"offline ({why}): " + _offline_source(found)
                continue
            sources[executor] = "live: resources, status, noise and prices asked of its plugin now"
        dreamer = pcs.initialize_dreamer({"optimization_mode": mode, **({"budget": dict(budget)} if budget else {})})
        for executor, found in built:
            dreamer.add_resources(found, {"executor": executor}, pilot=f"offline:{executor}")
        return attrs.evolve(pcs.quote(task), sources=sources)


def _offline_source(found: list) -> str:
    if len(found) == 1:
        return found[0].metadata[OFFLINE]
    return (f"{len(found)} resources ({', '.join(r.id for r in found)}) from the plugin's shipped data; "
            f"the first: {found[0].metadata[OFFLINE]}")
