"""What the host-library interfaces share: which pilots they run on, and QTAU's provenance.

The PennyLane device `qtau.qubit` (qtau-pennylane) and the Qiskit primitives `QtauSampler` /
`QtauEstimator` (qtau-qiskit) send their circuits through a `PilotComputeService`. Without one
given, they make (once per process and executor list) a LOCAL service with a pilot for every
installed local simulator, so QDREAMER chooses among all of them, fails over and batches.
Only QTAU's public API is used here: `PilotComputeService`, pilot descriptions, `Result`.
"""

from __future__ import annotations

import atexit
import threading
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from qtau.errors import ConfigurationError, QtauError, UnknownExecutorError
from qtau.plugins import default_host
from qtau.service import PilotComputeService
from qtau.types import Result

#: Local simulators an interface uses by default, where their plugin is installed: Aer and
#: BasicSimulator, Braket's LocalSimulator, lightning.qubit and default.qubit. Left out:
#: pennylane_qiskit and pennylane_braket (the same Aer and Braket simulators again behind a
#: PennyLane plugin layer, seconds slower per task), ibmq_qasm_simulator (Aer again), and every
#: cloud executor (braket_sv1, ibmq_*: they cost money or need credentials). Name them in
#: `executors=` to use them.
LOCAL_SIMULATORS = ("qiskit_local", "braket_local", "pennylane_lightning", "pennylane_default")

#: The pilot setting that seeds each local simulator that can be seeded (a seeded interface's
#: service uses only these). Braket's LocalSimulator takes no seed.
SEED_SETTINGS = {"qiskit_local": "seed_simulator", "pennylane_lightning": "seed", "pennylane_default": "seed"}

#: QDREAMER optimisation modes an interface accepts as `mode=`.
MODES = ("high_fidelity", "high_speed", "low_cost", "balanced")

_services: dict[tuple, Any] = {}
_lock = threading.Lock()


def installed_local_simulators(host: Any | None = None) -> tuple[str, ...]:
    """The executors of LOCAL_SIMULATORS whose plugin is installed here."""
    host = host or default_host()
    found = []
    for name in LOCAL_SIMULATORS:
        try:
            host.find_executor(name)
        except QtauError:
            continue
        found.append(name)
    return tuple(found)


def check_mode(mode: Any, field: str = "mode") -> str | None:
    """`mode` if it is a QDREAMER optimisation mode (or None); ConfigurationError otherwise."""
    if mode is None or mode in MODES:
        return mode
    raise ConfigurationError(
        f"unknown QDREAMER mode {mode!r}", field=field, value=mode, fix=f"use one of {', '.join(MODES)}",
    )


def check_executors(executors: Any, field: str = "executors") -> tuple[str, ...] | None:
    """Executor names as a tuple; UnknownExecutorError (listing the known ones) for a name no
    installed plugin serves, ConfigurationError for anything that is not a list of names."""
    if executors is None:
        return None
    if isinstance(executors, str):
        executors = [executors]
    if not isinstance(executors, Iterable) or not all(isinstance(e, str) and e for e in executors):
        raise ConfigurationError(
            "executors must be a list of executor names", field=field, value=executors,
            fix="pass e.g. executors=['qiskit_local', 'pennylane_lightning'] (see `qtau resources`)",
        )
    names = tuple(dict.fromkeys(executors))
    if not names:
        raise ConfigurationError(
            "executors is empty", field=field, value=list(executors),
            fix="leave executors out to use every installed local simulator, or name at least one",
        )
    host = default_host()
    for name in names:
        try:
            host.find_executor(name)
        except UnknownExecutorError as err:
            raise UnknownExecutorError(
                f"{field} names {name!r}, which no installed QTAU plugin serves. {err.args[0]}",
                field=field, value=name, fix=err.fix or "run `qtau plugins` to see the executors installed",
            ) from None
    return names


def shared_service(executors: Sequence[str] | None = None, seed: int | None = None) -> Any:
    """A LOCAL PilotComputeService with one pilot per executor (default: every installed local
    simulator), made once per process, executor list and seed, and closed at exit.

    With a seed, every pilot's simulator that takes one is seeded with it (SEED_SETTINGS), so the
    same circuit on the same resource gives the same counts; the default list is then the
    installed local simulators that take a seed. A named executor that takes none (Braket's
    LocalSimulator) is kept, unseeded, with a UserWarning."""
    names = tuple(executors) if executors else installed_local_simulators()
    if seed is not None:
        unseedable = [name for name in names if name not in SEED_SETTINGS]
        if executors and unseedable:
            warnings.warn(
                f"executors {', '.join(unseedable)} take no seed: tasks QDREAMER places there are not "
                "repeatable (the others are seeded)", UserWarning, stacklevel=3,
            )
        elif unseedable:
            names = tuple(name for name in names if name in SEED_SETTINGS)
    key = (names, seed)
    with _lock:
        service = _services.get(key)
        if service is not None and not getattr(service, "_closed", False):
            return service
        service = PilotComputeService(execution_engine="local")
        try:
            for name in names:
                try:
                    quantum: dict[str, Any] = {"executor": name}
                    if seed is not None and name in SEED_SETTINGS:
                        quantum[SEED_SETTINGS[name]] = int(seed)
                    service.create_pilot({"resource_type": "quantum", "quantum": quantum})
                except ConfigurationError:
                    if executors:
                        raise
                    # A default simulator whose optional SDK is missing here is left out.
        except BaseException:
            service.close()
            raise
        if not service.pilots:
            service.close()
            raise ConfigurationError(
                "none of the local simulators could start a pilot", field="executors", value=list(names),
                fix="run `qtau doctor` to see which plugin is broken, or pass service=",
            )
        _services[key] = service
        return service


def _close_all() -> None:
    with _lock:
        services = list(_services.values())
        _services.clear()
    for service in services:
        service.close()


atexit.register(_close_all)


def resources_of(service: Any) -> list[Any]:
    """Every resource of the service's running pilots."""
    return list(service.quantum_resources.values())


def max_width(service: Any) -> int:
    return max((r.num_qubits for r in resources_of(service)), default=0)


def provenance(result: Result) -> dict[str, Any]:
    """QTAU's record of one task as plain values: where it ran, every attempt, cost, conversions."""
    timings = result.timings
    return {
        "task_id": result.task_id,
        "resource": result.resource_id,
        "executor": result.executor,
        "attempts": [
            {"resource": a.resource_id, "ok": a.ok, "error_type": a.error_type, "message": a.message,
             "seconds": round(max(a.ended_at - a.started_at, 0.0), 6)}
            for a in result.attempts
        ],
        "cost": result.cost,
        "currency": result.currency,
        "conversion_path": list(result.conversion_path),
        "queued_s": timings.queued_s if timings else None,
        "ran_s": timings.ran_s if timings else None,
    }


def run_tasks(service: Any, tasks: Sequence[Any]) -> list[Result]:
    """Submit the tasks as one batch (QDREAMER places each) and return their Results in order."""
    if not tasks:
        return []
    handles = service.submit_quantum_tasks(tasks)
    return service.get_results(handles)

