"""Pilot-Quantum's `PilotComputeService` and `PilotCompute`, converting at the edge onto QTAU.

The service wraps a `qtau.PilotComputeService` (`pcs.qtau`) and converts Pilot-Quantum's
descriptions (`pilot.descriptions`), tasks (`pilot.tasks`), QDREAMER settings (`pilot.modes`) and
results (`pilot.outcomes`). QTAU attributes it does not define (`qdreamer`, `quote`, `recover`...)
are QTAU's. Differences from Pilot-Quantum are listed in docs/pilot-quantum.md.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import uuid
import warnings
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

import attrs
from qtau.engines import ExecutionEngine as QtauEngine
from qtau.errors import (
    CircuitConversionError,
    ConfigurationError,
    InvalidTaskError,
    NoSuitableResourceError,
    UnknownExecutorError,
)
from qtau.service import PilotComputeService as QtauService
from qtau.types import QuantumTask as QtauTask
from qtau.validation import handle_list

from pilot.compat_warnings import PilotQuantumCompatWarning
from pilot.descriptions import check_resource, is_quantum, members
from pilot.modes import dreamer_config
from pilot.outcomes import FailedArgument, Outcomes, failure_text, run_classical
from pilot.pilot_enums_exceptions import ExecutionEngine, PilotAPIException, qtau_engine
from pilot.ray_client import RayClient
from pilot.util.quantum_resource_generator import pq_name, resource_view

log = logging.getLogger("pilot.pcs_logger")

__all__ = ["ExecutionEngine", "PilotAPIException", "PilotCompute", "PilotComputeService"]


def _gather(*values: Any) -> list[Any]:
    return list(values)


@attrs.frozen
class _Failed:
    error: str


def _argument_value(value: Any) -> Any:
    """A task handle's value (waiting for it), `_Failed` for a failed task's; any other value as is.
    Pilot-Quantum's tasks were Ray tasks or Dask futures with the arguments at top level, so a
    handle of an earlier task given as an argument reached the function as that task's value."""
    if isinstance(value, Future):
        error = value.exception()
        value = value.result() if error is None else error
    elif type(value).__name__ == "ObjectRef" and type(value).__module__.startswith("ray"):
        import ray

        try:
            value = ray.get(value)
        except Exception as err:  # the earlier task's failure, reported in this task's result
            value = err
    else:
        return value
    error = failure_text(value)
    return value if error is None else _Failed(error)


#: Pilot-Quantum's Ray options for a quantum task (`submit_quantum_task(task, resources={...})`)
#: that a QTAU task's `resource_config` holds.
_REQUESTS = ("num_cpus", "num_gpus", "memory")


def _with_ray_options(tasks: list[Any], resources: Mapping[str, Any], args: tuple, kwargs: dict) -> list[Any]:
    """`tasks` with Pilot-Quantum's `resources` (Ray options) in their `resource_config` where they
    set none; other options and extra arguments (which Pilot-Quantum handed to its worker function,
    which read none) are left out with one warning naming them."""
    if not isinstance(resources, Mapping):
        raise InvalidTaskError(
            f"resources must be a dict of Ray options, not {type(resources).__name__}", field="resources",
            value=type(resources).__name__, fix="pass resources={'num_cpus': 1} or put them in resource_config")
    dropped = [k for k in resources if k not in _REQUESTS] + [f"argument {i}" for i in range(len(args))] + list(kwargs)
    if dropped:
        warnings.warn(f"submit_quantum_task leaves out {', '.join(map(str, dropped))}: QTAU runs a quantum task "
                      f"with the resource_config keys {', '.join(_REQUESTS)}, num_qpus", PilotQuantumCompatWarning,
                      stacklevel=3)
    wanted = {k: v for k, v in resources.items() if k in _REQUESTS and v is not None}
    if not wanted:
        return tasks
    return [attrs.evolve(t, resource_config={**wanted, **t.resource_config}) for t in tasks]


def _foreign(base: str) -> bool:
    """True for a path of another machine: creating it would add a top-level directory
    (`/Users/<name>/work` on Linux, a path hard-coded in a Pilot-Quantum example)."""
    path = os.path.abspath(base)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return path == os.path.abspath(os.sep) and not os.path.exists(os.path.abspath(base))


def _working_directory(base: str) -> str:
    """`<base>/pcs-<uuid>`, as Pilot-Quantum made it. A base of another machine, or one that cannot
    be created, falls back to a temporary directory, with a warning."""
    reason = "it belongs to another machine (creating it would add a top-level directory)"
    if not _foreign(str(base)):
        path = os.path.join(str(base), f"pcs-{uuid.uuid4()}")
        try:
            os.makedirs(path, exist_ok=True)
            return path
        except OSError as err:
            reason = f"it cannot be created here: {err.strerror}"
    fallback = tempfile.mkdtemp(prefix="pcs-")
    warnings.warn(f"working_directory {base!r} is not used: {reason}. This service works in {fallback} "
                  "instead; pass a directory of this machine to silence this.", PilotQuantumCompatWarning,
                  stacklevel=3)
    return fallback


class PilotCompute:
    """A Pilot-Quantum pilot: one or more QTAU pilots (`members`) under one name."""

    def __init__(self, service: PilotComputeService, name: str, description: dict[str, Any],
                 members: list[tuple[Any, Any]]) -> None:
        self.service = service
        self.name = name
        self.pilot_compute_description = description
        self.members = members

    @property
    def resources(self) -> list[Any]:
        return [r for pilot, _ in self.members for r in pilot.resources]

    def get_id(self) -> str:
        return self.name

    def get_state(self) -> str:
        states = {pilot.get_state() for pilot, _ in self.members}
        return states.pop() if len(states) == 1 else ("RUNNING" if not self.members else "MIXED")

    def get_details(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.get_state(), "resources": [r.id for r in self.resources]}

    def wait(self) -> None:
        """A QTAU pilot is ready once created: nothing to wait for."""

    def get_client(self) -> Any:
        return self.service.get_client()

    def get_logger(self) -> logging.Logger:
        return self.service.get_logger()

    def get_context(self, configuration: Any = None) -> Any:
        return self.service.get_client()

    def submit_task(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        return self.service.submit_task(func, *args, **kwargs)

    def submit_quantum_task(self, task: Any, *args: Any, **kwargs: Any) -> Any:
        return self.service.submit_quantum_task(task, *args, **kwargs)

    def wait_tasks(self, tasks: Any) -> None:
        self.service.wait_tasks(tasks)

    def get_results(self, tasks: Any) -> list[Any]:
        return self.service.get_results(tasks)

    def cancel(self) -> None:
        """Stop this pilot: its resources leave QDREAMER; tasks already running finish."""
        for pilot, _ in self.members:
            pilot.state = "CANCELED"
        self.service._pilot_cancelled()

    def __repr__(self) -> str:
        return f"PilotCompute(name={self.name!r}, resources={[r.id for r in self.resources]})"

    def __str__(self) -> str:
        return self.name


class PilotComputeService:
    """Pilot-Quantum's service on QTAU: `PilotComputeService(ExecutionEngine.RAY, working_directory)`.

    Keyword options beyond Pilot-Quantum's go to `qtau.PilotComputeService` (`ray_address`,
    `max_workers`...). Tasks run on QTAU's engine; `metrics.csv` (and, where a working_directory is
    given, QTAU's journal) live in `<working_directory>/pcs-<uuid>` (default /tmp), as
    Pilot-Quantum's files did.
    """

    def __init__(self, execution_engine: Any = ExecutionEngine.LOCAL, working_directory: str | None = None,
                 **qtau_options: Any) -> None:
        engine = qtau_engine(execution_engine)
        self.execution_engine = ExecutionEngine(engine.value)
        self.working_directory = working_directory or "/tmp"
        self.pcs_working_directory = _working_directory(self.working_directory)
        self.metrics_file_name = os.path.join(self.pcs_working_directory, "metrics.csv")
        self.outcomes = Outcomes(self.metrics_file_name)
        # A working_directory the user named gets QTAU's journal, as QTAU's own service does.
        journal = self.pcs_working_directory if working_directory else None
        self.qtau = QtauService(engine, journal, **qtau_options)
        self.pilots: dict[str, PilotCompute] = {}
        self.dreamer_enabled = False
        self._dreamer_setting: Any = None
        self._gathered: dict[Any, list[Any]] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if name in ("qtau", "__setstate__") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.qtau, name)

    # -- pilots ----------------------------------------------------------------------------------

    def _known(self, executor: str) -> bool:
        try:
            self.qtau.host.find_executor(executor)
        except UnknownExecutorError:
            return False
        return True

    def create_pilot(self, pilot_compute_description: Mapping[str, Any]) -> PilotCompute:
        """A quantum pilot (its QTAU pilots and their resources) or a classical pilot (the engine)."""
        if not isinstance(pilot_compute_description, Mapping):
            raise PilotAPIException("a pilot description must be a dict", field="pilot_compute_description",
                                    value=type(pilot_compute_description).__name__,
                                    fix="pass {'resource_type': 'quantum', 'quantum': {'executor': 'qiskit_local'}}")
        desc = dict(pilot_compute_description)
        name = str(desc.get("name") or f"pilot-{uuid.uuid4()}")
        if name in self.pilots:
            raise PilotAPIException(f"a pilot named {name!r} already exists", field="name", value=name,
                                    fix="give each pilot its own name, or leave name out")
        created: list[tuple[Any, Any]] = []
        if is_quantum(desc):
            names = [info.name for info in self.qtau.host.executors()]
            for i, member in enumerate(members(desc, self._known, names)):
                qdesc = {**member.description, "name": name if i == 0 else f"{name}~{i}"}
                try:
                    created.append((self.qtau.create_pilot(qdesc), member.custom))
                except ConfigurationError:
                    if member.custom and member.custom.get("optional"):
                        continue  # a fake backend QTAU cannot run (no readout data): Pilot-Quantum listed it
                    for pilot, _ in created:
                        pilot.state = "CANCELED"
                    if created:
                        self._pilot_cancelled()  # their resources leave QDREAMER again
                    raise
        else:
            # A classical pilot is the engine itself (Pilot-Quantum's Ray pilot): start it now.
            check_resource(desc)
            self.qtau._start_engine(desc)
        pilot = PilotCompute(self, name, desc, created)
        self.pilots[name] = pilot
        return pilot

    def get_pilots(self) -> list[str]:
        return list(self.pilots)

    def get_pilot(self, name: str) -> PilotCompute:
        if name not in self.pilots:
            raise PilotAPIException(f"Pilot {name} not found", field="name", value=name,
                                    fix=f"use one of {', '.join(self.pilots) or 'the names create_pilot returned'}")
        return self.pilots[name]

    def get_client(self) -> Any:
        """Ray (RAY, started; usable in `with` as Pilot-Quantum's RayContext was, see
        `pilot.ray_client`) or the service (LOCAL): what runs tasks."""
        self.qtau._start_engine({})
        if self.qtau.execution_engine is QtauEngine.RAY:
            import ray

            return RayClient(ray)
        return self

    @property
    def logger(self) -> logging.Logger:
        """Pilot-Quantum's service logger (`pcs.logger`, `pcs.get_logger()`), which its examples log
        through: the `pilot.pcs_logger` logger this layer reports failed tasks on."""
        return log

    def get_logger(self) -> logging.Logger:
        return log

    @property
    def quantum_resources(self) -> dict[str, Any]:
        """`{pilot_resource: QuantumResource}` over running quantum pilots, named as Pilot-Quantum did."""
        out = {}
        for pilot in self.pilots.values():
            for member, custom in pilot.members:
                if member.state != "RUNNING":
                    continue
                for res in member.resources:
                    view = resource_view(res, member.config, self.qtau.host, pilot.name, custom, f"{pilot.name}_")
                    out[view.name] = view
        return out

    def _names(self) -> dict[str, tuple[str, str]]:
        """`{resource id: (Pilot-Quantum resource name, pilot name)}` over every pilot."""
        out = {}
        for pilot in self.pilots.values():
            for member, custom in pilot.members:
                for res in member.resources:
                    out[res.id] = (f"{pilot.name}_{(custom or {}).get('name') or pq_name(res.id)}", pilot.name)
        return out

    def initialize_dreamer(self, qdreamer_config: Any = None) -> Any:
        """QDREAMER over every quantum pilot: a DreamerStrategyType, a mode or a config dict
        (default: least error rate, i.e. QTAU's `high_fidelity`)."""
        if not any(p.members for p in self.pilots.values()):
            raise PilotAPIException("No quantum pilot found. Create a quantum pilot first.", field="pilots",
                                    value=self.get_pilots(), fix="call create_pilot with a quantum description first")
        config = dreamer_config(qdreamer_config) or {"optimization_mode": "high_fidelity"}
        self._dreamer_setting = config
        dreamer = self.qtau.initialize_dreamer(config)
        self.dreamer_enabled = True
        return dreamer

    def _pilot_cancelled(self) -> None:
        """QDREAMER again over the running pilots only (QTAU re-adds just those)."""
        self.qtau.initialize_dreamer(self._dreamer_setting)

    # -- tasks -----------------------------------------------------------------------------------

    def submit_quantum_task(self, quantum_task: Any, *args: Any, **kwargs: Any) -> Any:
        """Submit a Pilot-Quantum (or QTAU) task. A task QTAU cannot place or read fails in its
        result (None from get_results), as in Pilot-Quantum; a mistake in the task itself raises.
        `resources={...}` (Pilot-Quantum's Ray options for the task) fills the task's
        `resource_config` (`num_cpus`, `num_gpus`, `memory`) where the task sets none."""
        if isinstance(quantum_task, QtauTask):
            tasks = [quantum_task]
        elif hasattr(quantum_task, "to_qtau"):
            tasks = quantum_task.to_qtau()
        else:
            raise InvalidTaskError(
                f"submit_quantum_task takes a QuantumTask, not {type(quantum_task).__name__}", field="quantum_task",
                value=type(quantum_task).__name__, fix="from pilot.dreamer import QuantumTask; QuantumTask(circuit=qc)",
            )
        tasks = _with_ray_options(tasks, kwargs.pop("resources", None) or {}, args, kwargs)
        handles = []
        for task in tasks:
            try:
                handles.append(self.qtau.submit_quantum_task(task))
            except (InvalidTaskError, NoSuitableResourceError, CircuitConversionError) as err:
                # Pilot-Quantum met these on the worker, so they showed in the result.
                log.error("Quantum task %s could not start: %s", task.task_id, err)
                handles.append(self.qtau.engine.completed(err))
        return handles[0] if len(handles) == 1 else self._gathered_handle(handles)

    def _gathered_handle(self, handles: list[Any]) -> Any:
        if self.qtau.execution_engine is QtauEngine.RAY:
            import ray

            handle = ray.remote(num_cpus=0)(_gather).remote(*handles)
        else:
            handle = Future()
            left = [len(handles)]

            def done(_: Any) -> None:
                with self._lock:
                    left[0] -= 1
                    last = left[0] == 0
                if last:
                    handle.set_result([h.result() if h.exception() is None else h.exception() for h in handles])

            for h in handles:
                h.add_done_callback(done)
        with self._lock:
            self._gathered[handle] = handles
        return handle

    def submit_task(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """A classical function on the engine; `resources` (Ray options such as num_cpus), `pilot`
        and `task_name` are Pilot-Quantum's and do not reach `func`. A QuantumTask is submitted as one.
        A task handle given as an argument (at top level, as Ray and Dask resolved them) reaches `func`
        as that task's value: submission waits for it; a failed one fails this task, naming it."""
        if getattr(func, "type", None) is not None and getattr(func.type, "value", None) == "quantum":
            return self.submit_quantum_task(func)
        resources = kwargs.pop("resources", None) or {}
        kwargs.pop("pilot", None)
        kwargs.pop("task_name", None)
        self.qtau._start_engine({})
        values = {where: _argument_value(v) for where, v in [*enumerate(args), *kwargs.items()]}
        failed = next(((where, v) for where, v in values.items() if isinstance(v, _Failed)), None)
        if failed is not None:
            func, args, kwargs = FailedArgument(failed[0], failed[1].error), (), {}
        else:
            args = tuple(values[i] for i in range(len(args)))
            kwargs = {k: values[k] for k in kwargs}
        if resources and self.qtau.execution_engine is QtauEngine.RAY:
            import ray

            return ray.remote(run_classical).options(**resources).remote(func, args, kwargs)
        return self.qtau.submit_task(run_classical, func, args, kwargs)

    def submit_mpi_task(self, script_path: str | None = None, num_procs: int | None = None, *args: Any) -> Any:
        raise PilotAPIException("MPI tasks need a SLURM pilot, which QTAU does not start", field="script_path",
                                value=script_path, fix="run the MPI script with srun in a classical task of your own")

    def task(self, func: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self.submit_task(func, *args, **kwargs)

        return wrapper

    def run(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        [value] = self.get_results([self.submit_task(func, *args, **kwargs)])
        return value

    def _expand(self, tasks: Any, call: str, release: bool = False) -> tuple[list[Any], list[tuple[int, int, bool]]]:
        """The QTAU handles behind `tasks` (a task of several circuits stands for several)."""
        flat: list[Any] = []
        spans = []
        for handle in handle_list(tasks, call):
            try:
                with self._lock:
                    inner = self._gathered.pop(handle, None) if release else self._gathered.get(handle)
            except TypeError:  # an unhashable object: QTAU names the mistake
                inner = None
            spans.append((len(flat), len(inner or [handle]), inner is not None))
            flat.extend(inner or [handle])
        return flat, spans

    def wait_tasks(self, tasks: Any, timeout: float | None = None) -> None:
        flat, _ = self._expand(tasks, "wait_tasks")
        self.qtau.wait_tasks(flat, timeout)

    def get_results(self, tasks: Any, timeout: float | None = None, return_exceptions: bool = False) -> list[Any]:
        """Results in order; None for a failed task (logged, warned once), or with
        `return_exceptions=True` its error (QTAU's way). A task of several circuits gives the
        list of their Results."""
        flat, spans = self._expand(tasks, "get_results", release=True)
        values = self.qtau.get_results(flat, timeout, return_exceptions=True)
        names = self._names()
        for value in values:
            rid = getattr(value, "resource_id", None)
            name, pilot = names.get(rid, (rid, None))
            self.outcomes.record(value, name, pilot)
        out = []
        for start, n, gathered in spans:
            part = [self.outcomes.value(v, return_exceptions) for v in values[start:start + n]]
            out.append(part if gathered else part[0])
        return out

    def cancel(self, tasks: Any = None) -> None:
        """Cancel tasks, or with no argument shut the service down. Only the Ray this service
        started is stopped (Pilot-Quantum's `ray stop` ended every Ray on the machine)."""
        if tasks is not None:
            flat, _ = self._expand(tasks, "cancel")
            self.qtau.cancel(flat)
            return
        for pilot in self.pilots.values():
            for member, _ in pilot.members:
                member.state = "CANCELED"
        self.qtau.close()

    def close(self) -> None:
        self.cancel()

    def __enter__(self) -> PilotComputeService:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cancel()

