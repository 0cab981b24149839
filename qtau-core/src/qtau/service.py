"""PilotComputeService: pilots, QDREAMER and task submission, Pilot-Quantum style.

    pcs = PilotComputeService(execution_engine=ExecutionEngine.RAY)
    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
    pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
    ref = pcs.submit_quantum_task(QuantumTask(circuit=qc, num_qubits=2, gate_set=["h", "cx"]))
    pcs.wait_tasks([ref]); [result] = pcs.get_results([ref])

With RAY a task handle is a Ray ObjectRef (usable in `ray.get` and as an argument of other remote
functions); with LOCAL it is a `concurrent.futures.Future`.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from qtau.circuits import Circuits
from qtau.dreamer import DreamerConfig, QDreamer
from qtau.engines import ExecutionEngine, create_engine
from qtau.errors import (
    ConfigurationError,
    InvalidTaskError,
    PluginError,
    QtauError,
    TaskTimeoutError,
)
from qtau.plugins import PluginHost, default_host
from qtau.secrets import RedactingFilter, secret_or_none
from qtau.types import QuantumTask, Resource, Result
from qtau.worker import BatchPayload, TaskFailure, TaskPayload, run_batch, run_task

log = logging.getLogger("qtau")
log.addFilter(RedactingFilter())

#: Top-level description keys that describe the pilot itself rather than its backend.
PILOT_KEYS = frozenset({
    "resource_type", "quantum", "working_directory", "type", "resource", "number_of_nodes",
    "cores_per_node", "gpus_per_node", "queue", "walltime", "project", "name", "dreamer_enabled",
    "ray_address", "conda_environment", "scheduler_script_commands",
})
RESOURCE_TYPES = ("quantum",)


def _is_secret_key(key: str) -> bool:
    key = key.lower()
    return key.endswith("token") or "secret" in key or "password" in key or key.endswith("access_key_id")


def backend_config(description: Mapping[str, Any]) -> dict[str, Any]:
    """What plugins see: the `quantum` section plus credentials and other backend keys."""
    config = dict(description["quantum"])
    for key, value in description.items():
        if key not in PILOT_KEYS and key not in config:
            config[key] = value
    for key in list(config):
        if _is_secret_key(key):
            config[key] = secret_or_none(config[key])
    return config


@attrs.define(eq=False)
class PilotCompute:
    """A pilot: one backend executor and the resources it offers to QDREAMER."""

    name: str
    executor: str
    resources: list[Resource]
    description: dict[str, Any] = attrs.field(repr=False)
    config: dict[str, Any] = attrs.field(repr=False)
    state: str = "RUNNING"
    created_at: float = attrs.field(factory=time.time)

    def get_state(self) -> str:
        return self.state

    def get_details(self) -> dict[str, Any]:
        return {"name": self.name, "executor": self.executor, "state": self.state,
                "resources": [r.id for r in self.resources]}


class PilotComputeService:
    """Creates pilots, ranks their resources with QDREAMER and runs quantum tasks on an engine."""

    def __init__(
        self,
        execution_engine: ExecutionEngine | str = ExecutionEngine.LOCAL,
        working_directory: str | None = None,
        *,
        plugins: PluginHost | None = None,
        ray_address: str | None = None,
        max_workers: int | None = None,
        batch_chunks: int | None = None,
        ray_init_options: dict | None = None,
        task_id_memory: int = 10_000,
    ) -> None:
        self.execution_engine = ExecutionEngine.parse(execution_engine)
        self.working_directory = working_directory
        self.host = plugins if plugins is not None else default_host()
        self.circuits = Circuits(self.host)
        self._engine_options = {"ray_address": ray_address, "max_workers": max_workers,
                                "ray_init_options": ray_init_options}
        self.engine = create_engine(self.execution_engine, **self._engine_options)
        self._engine_started = False
        self._plugin_check: Any = None
        self._plugin_problems: list[str] = []
        self.batch_chunks = batch_chunks
        self.pilots: dict[str, PilotCompute] = {}
        self.qdreamer = QDreamer(self.host, self.circuits)
        self._dreamer_initialized = False
        self._handles: OrderedDict[str, Any] = OrderedDict()
        self._collected: OrderedDict[str, None] = OrderedDict()
        self.task_id_memory = task_id_memory
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False

    # -- pilots ----------------------------------------------------------------------------------

    def _start_engine(self, description: Mapping[str, Any]) -> None:
        if self._engine_started:
            return
        if description.get("ray_address") and self.execution_engine is ExecutionEngine.RAY:
            self.engine = create_engine(self.execution_engine, **{**self._engine_options,
                                                                   "ray_address": description["ray_address"]})
        self.engine.start()
        self._engine_started = True
        # Plugins must import where tasks run. The check runs beside start-up and is settled
        # before the first result is handed out (or by calling check_plugins()).
        self._plugin_check = self.engine.check_plugins(self.host.spec())

    def check_plugins(self, timeout: float | None = 120) -> None:
        """Raise PluginError if any of this service's plugins cannot be imported where tasks run."""
        check, self._plugin_check = self._plugin_check, None
        if check is not None:
            self._plugin_problems = check(timeout)
        if self._plugin_problems:
            raise PluginError(
                "QTAU plugins are missing where tasks run:\n  " + "\n  ".join(self._plugin_problems),
                plugin=",".join(self.host.names),
                fix="install the same qtau plugins on every node of the Ray cluster",
            )

    def create_pilot(self, pilot_compute_description: Mapping[str, Any]) -> PilotCompute:
        """Validate a description, ask the executor's plugin for resources, start the engine."""
        self._check_open()
        desc = pilot_compute_description
        if not isinstance(desc, Mapping):
            raise ConfigurationError(
                "a pilot description must be a dict", field="pilot_compute_description", value=type(desc).__name__,
                fix="pass {'resource_type': 'quantum', 'quantum': {'executor': 'qiskit_local'}}",
            )
        rtype = desc.get("resource_type", "quantum" if "quantum" in desc else None)
        if rtype not in RESOURCE_TYPES:
            raise ConfigurationError(
                f"unsupported resource_type {rtype!r}", field="resource_type", value=rtype,
                fix="use resource_type 'quantum' with a 'quantum': {'executor': ...} section",
            )
        quantum = desc.get("quantum")
        if not isinstance(quantum, Mapping) or not quantum.get("executor"):
            raise ConfigurationError(
                "a quantum pilot needs a 'quantum' section naming its executor", field="quantum.executor",
                value=None if not isinstance(quantum, Mapping) else quantum.get("executor"),
                fix="add 'quantum': {'executor': 'qiskit_local'} (or another installed executor)",
            )
        executor = quantum["executor"]
        if not isinstance(executor, str):
            raise ConfigurationError(
                "quantum.executor must be a string", field="quantum.executor", value=executor,
                fix="name an executor such as 'qiskit_local'",
            )
        info = self.host.find_executor(executor)
        config = backend_config(desc)
        resources = self.host.first("qtau_resources", owner=info.provider, executor=executor, config=config)
        if not resources:
            raise ConfigurationError(
                f"executor {executor!r} offered no resources with this configuration", field="quantum",
                value=executor, fix=f"check the options of {executor!r} in the plugin {info.provider!r} docs",
            )
        self._start_engine(desc)
        name = str(desc.get("name") or f"pilot-{next(self._counter)}-{uuid.uuid4().hex[:6]}")
        pilot = PilotCompute(name, executor, list(resources), dict(desc), config)
        with self._lock:
            self.pilots[name] = pilot
        if desc.get("dreamer_enabled", True):
            self.qdreamer.add_resources(pilot.resources, config)
        log.info("pilot %s ready: %s", name, ", ".join(r.id for r in resources))
        return pilot

    def get_pilots(self) -> list[PilotCompute]:
        return list(self.pilots.values())

    @property
    def quantum_resources(self) -> dict[str, Resource]:
        return {r.id: r for p in self.pilots.values() if p.state == "RUNNING" for r in p.resources}

    def initialize_dreamer(self, qdreamer_config: Mapping[str, Any] | None = None) -> QDreamer:
        """(Re)configure QDREAMER: optimization_mode, weights, cache_ttl_seconds, max_attempts..."""
        config = DreamerConfig.parse(qdreamer_config)
        old = self.qdreamer
        old.stop_background_monitoring()
        new = QDreamer(self.host, self.circuits, config)
        for pilot in self.pilots.values():
            if pilot.state == "RUNNING" and pilot.description.get("dreamer_enabled", True):
                new.add_resources(pilot.resources, pilot.config)
        # Tasks already running still count towards expected wait under the new configuration.
        for rid, n in old.in_flight().items():
            if n:
                new.task_started(rid, n)
        self.qdreamer = new
        self._dreamer_initialized = True
        return self.qdreamer

    # -- tasks -----------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigurationError(
                "this PilotComputeService was cancelled", field="service", value="cancelled",
                fix="create a new PilotComputeService",
            )

    def _check_task(self, task: Any) -> QuantumTask:
        if not isinstance(task, QuantumTask):
            raise InvalidTaskError(
                f"submit_quantum_task takes a QuantumTask, not {type(task).__name__}", field="task",
                value=type(task).__name__, fix="wrap the circuit: QuantumTask(circuit=qc, num_qubits=2)",
            )
        return task

    def _track(self, handle: Any, task_id: str, resource_id: str) -> None:
        with self._lock:
            self._handles[task_id] = handle
            # Task ids resolve for the most recent tasks only: holding every handle would pin every
            # result (in Ray's object store too) for the life of the service.
            if len(self._handles) > self.task_id_memory:
                self._handles.popitem(last=False)

        def done(future: Any) -> None:
            attempts: tuple = ()
            if future is not None:
                try:
                    attempts = attempts_of(future.result())
                except BaseException as err:
                    attempts = attempts_of(err)
            # The current QDREAMER: initialize_dreamer carries in-flight counts over to a new one.
            self.qdreamer.task_finished(resource_id, attempts)

        self.engine.on_done(handle, done)

    def submit_quantum_task(self, task: QuantumTask) -> Any:
        """Choose a resource for `task` and start it. Returns a Ray ObjectRef (RAY) or a Future (LOCAL)."""
        self._check_open()
        task = self._check_task(task)
        self.engine.poll()
        # reserve=True counts the task in flight in the same locked step as the decision, so
        # threads submitting at once see each other's choices.
        placements = self.qdreamer.place(task, reserve=True)
        payload = TaskPayload(self.host.spec(), task, placements, time.time(), self.qdreamer.config.max_attempts)
        rid = placements[0].resource.id
        handle = self.engine.submit(run_task, payload)
        self._track(handle, task.task_id, rid)
        return handle

    def submit_quantum_tasks(self, tasks: Iterable[QuantumTask]) -> list[Any]:
        """Submit many tasks; those QDREAMER sends to the same resource run as backend batches.

        Returns one handle per task, in order. A batch is split into as many chunks as the engine
        runs in parallel, so a big burst uses every worker and each chunk is one backend call.
        """
        self._check_open()
        tasks = [self._check_task(t) for t in tasks]
        self.engine.poll()
        groups: dict[str, list[tuple[int, QuantumTask, tuple]]] = {}
        try:
            for i, task in enumerate(tasks):
                # Reserved as we go, so the burst itself spreads over equally good resources.
                placements = self.qdreamer.place(task, reserve=True)
                rid = placements[0].resource.id
                groups.setdefault(rid, []).append((i, task, placements))
        except QtauError:
            # Nothing was submitted: undo the in-flight counts of the tasks placed before the bad one.
            for rid, members in groups.items():
                for _ in members:
                    self.qdreamer.task_finished(rid)
            raise
        handles: list[Any] = [None] * len(tasks)
        now = time.time()
        spec = self.host.spec()
        for rid, members in groups.items():
            chunks = self.batch_chunks or self._parallelism()
            size = max(1, math.ceil(len(members) / chunks))
            for start in range(0, len(members), size):
                chunk = members[start:start + size]
                payload = BatchPayload(spec, tuple(t for _, t, _ in chunk), chunk[0][2], now,
                                       self.qdreamer.config.max_attempts)
                slot_handles = self.engine.submit_batch(run_batch, payload, len(chunk))
                for (i, task, _), handle in zip(chunk, slot_handles, strict=True):
                    handles[i] = handle
                    self._track(handle, task.task_id, rid)
        return handles

    def _parallelism(self) -> int:
        if self.execution_engine is ExecutionEngine.RAY:
            import ray

            return max(int(ray.cluster_resources().get("CPU", 1)), 1)
        import os

        return max(os.cpu_count() or 1, 1)

    def submit_task(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a classical function on the engine (Pilot-Quantum's `submit_task`)."""
        self._check_open()
        kwargs.pop("task_name", None)
        return self.engine.submit(_call, (func, args, kwargs))

    def _resolve(self, task: Any) -> Any:
        if isinstance(task, str):
            try:
                return self._handles[task]
            except KeyError:
                if task in self._collected:
                    raise InvalidTaskError(
                        f"the result of task {task!r} was already collected, and the service let go of its handle",
                        field="task", value=task, fix="keep the Result (or the handle) from the first collection",
                    ) from None
                raise InvalidTaskError(
                    f"unknown task id {task!r}", field="task", value=task,
                    fix=f"pass the handle returned by submit_quantum_task; ids resolve for the last "
                    f"{self.task_id_memory} tasks",
                ) from None
        if isinstance(task, QuantumTask):
            return self._resolve(task.task_id)
        return task

    def wait_tasks(self, tasks: Sequence[Any], timeout: float | None = None) -> None:
        """Block until every task is done. Past `timeout` seconds: TaskTimeoutError (tasks go on)."""
        handles = [self._resolve(t) for t in tasks]
        _, pending = self.engine.wait(handles, timeout)
        self.engine.poll(force=True)
        if pending:
            raise TaskTimeoutError(
                f"{len(pending)} of {len(handles)} tasks were not done within {timeout} s; they keep running",
                field="timeout", value=timeout, fix="wait again with a longer timeout, or cancel them",
            )
        self.check_plugins()

    def get_result(self, task: Any, timeout: float | None = None) -> Result:
        """The task's Result; raises its QtauError if it failed (ExecutionError lists attempts)."""
        [value] = self.get_results([task], timeout, return_exceptions=True)
        if isinstance(value, QtauError):
            raise value
        return value

    def get_results(self, tasks: Sequence[Any], timeout: float | None = None,
                    return_exceptions: bool = False) -> list[Any]:
        """Results in the order given, fetched in one round trip. A failed task raises its
        QtauError, or with `return_exceptions=True` its error takes the result's place."""
        values = self.engine.get_many([self._resolve(t) for t in tasks], timeout)
        self.check_plugins()
        self._release(values)
        out: list[Any] = []
        for value in values:
            self.qdreamer.record_failures(attempts_of(value))
            if isinstance(value, TaskFailure):
                value = value.error
            if isinstance(value, QtauError) and not return_exceptions:
                raise value
            out.append(value)
        return out

    def _release(self, values: Sequence[Any]) -> None:
        """Let go of the handles of collected results: a held handle pins its result (in Ray's
        object store too), so the service's memory would grow with every task it ever ran."""
        with self._lock:
            for value in values:
                task_id = getattr(value, "task_id", None)
                if task_id is not None and self._handles.pop(task_id, None) is not None:
                    self._collected[task_id] = None
                    if len(self._collected) > self.task_id_memory:
                        self._collected.popitem(last=False)

    def cancel(self, tasks: Sequence[Any] | None = None) -> None:
        """Cancel the given tasks; with no argument, shut the whole service down (Pilot-Quantum)."""
        if tasks is not None:
            for task in tasks:
                self.engine.cancel(self._resolve(task))
            return
        self.close()

    def close(self) -> None:
        """Stop monitoring, cancel pilots, and release the engine (a Ray we started is disconnected)."""
        if self._closed:
            return
        self._closed = True
        self.qdreamer.stop_background_monitoring()
        for pilot in self.pilots.values():
            pilot.state = "CANCELED"
        self.engine.shutdown()

    def __enter__(self) -> PilotComputeService:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def attempts_of(outcome: Any) -> tuple:
    """The attempts a task's outcome records: a Result's, or its error's (a batch slot's TaskFailure
    carries the error)."""
    if isinstance(outcome, TaskFailure):
        outcome = outcome.error
    return tuple(getattr(outcome, "attempts", None) or ())


def _call(packed: tuple) -> Any:
    func, args, kwargs = packed
    return func(*args, **kwargs)
