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

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from qtau import validation
from qtau.circuits import Circuits
from qtau.collect import Collector
from qtau.cutting.tasks import submit_mixed, submit_observables
from qtau.dispatch import Dispatcher
from qtau.dreamer import DreamerConfig, QDreamer
from qtau.dreamer.quote import Quote
from qtau.engines import ExecutionEngine, create_engine
from qtau.errors import (
    ConfigurationError,
    QtauError,
)
from qtau.journal.recovery import Recovery
from qtau.journal.service_journal import ServiceJournal
from qtau.pilots import PilotCompute, Pilots, offered_resources
from qtau.plugins import PluginHost, default_host
from qtau.registry import TaskRegistry, attempts_of
from qtau.secrets import RedactingFilter
from qtau.startup import EngineStart
from qtau.types import QuantumTask, Resource, Result

log = logging.getLogger("qtau")
log.addFilter(RedactingFilter())

__all__ = ["PilotCompute", "PilotComputeService", "attempts_of"]


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
        coalesce: bool = True,
        durable: bool = True,
    ) -> None:
        self.execution_engine = ExecutionEngine.parse(execution_engine)
        #: With a working_directory: submissions return once journaled (see `flush`, docs/journal.md).
        self.durable = validation.flag(durable, "durable")
        max_workers = validation.optional_count(max_workers, "max_workers", 4)
        batch_chunks = validation.optional_count(batch_chunks, "batch_chunks", 4)
        task_id_memory = validation.optional_count(task_id_memory, "task_id_memory", 10_000)
        self.working_directory = working_directory
        self.host = plugins if plugins is not None else default_host()
        self.circuits = Circuits(self.host)
        self.engine = create_engine(self.execution_engine, ray_address=ray_address, max_workers=max_workers,
                                    ray_init_options=ray_init_options)
        self.startup = EngineStart(self.engine, self.host)
        self.pilots = Pilots()
        self.qdreamer = QDreamer(self.host, self.circuits)
        self.journal = None
        if working_directory:
            self.journal = ServiceJournal.open(working_directory, self.host.compact_forms())
            # Spend survives a restart: earlier services' costs count in this service's budgets,
            # and the price of every provider job they left running stays reserved until it ends.
            self.qdreamer.budgets.replay(self.journal.spent)
            self.qdreamer.budgets.carry(self.journal.carried)
        self.registry = TaskRegistry(self.engine, lambda: self.qdreamer, task_id_memory,
                                     self.journal.settled if self.journal is not None else None)
        self._closed = False
        # Tasks submitted one by one gather into backend batches while the engine is saturated.
        self.coalesce = validation.flag(coalesce, "coalesce")
        self.collect = Collector(self.registry, self.journal, self.check_plugins)
        self.dispatch = Dispatcher(self.host, self.engine, self.registry, lambda: self.qdreamer, self.journal,
                                   coalesce=self.coalesce, durable=self.durable, batch_chunks=batch_chunks,
                                   memory=task_id_memory)

    # -- pilots ----------------------------------------------------------------------------------

    def _start_engine(self, description: Mapping[str, Any]) -> None:
        """Start the engine with the first pilot, on the cluster its description names."""
        self.engine = self.registry.engine = self.dispatch.engine = self.startup.start(description)

    def check_plugins(self, timeout: float | None = 120) -> None:
        """Raise PluginError if any of this service's plugins cannot be imported where tasks run."""
        self.startup.check_plugins(timeout)

    def create_pilot(self, pilot_compute_description: Mapping[str, Any]) -> PilotCompute:
        """Validate a description, ask the executor's Backend for resources, start the engine."""
        self._check_open()
        executor, config, offered = offered_resources(self.host, pilot_compute_description)
        self._start_engine(pilot_compute_description)
        pilot = self.pilots.add(pilot_compute_description, executor, config, offered, self.qdreamer)
        log.info("pilot %s ready: %s", pilot.name, ", ".join(r.id for r in pilot.resources))
        return pilot

    def get_pilots(self) -> list[PilotCompute]:
        return list(self.pilots.values())

    @property
    def quantum_resources(self) -> dict[str, Resource]:
        return self.pilots.resources()

    def initialize_dreamer(self, qdreamer_config: Mapping[str, Any] | None = None) -> QDreamer:
        """(Re)configure QDREAMER: optimization_mode, weights, cache_ttl_seconds, max_attempts..."""
        config = DreamerConfig.parse(qdreamer_config)
        self.qdreamer = self.pilots.carry_over(self.qdreamer, QDreamer(self.host, self.circuits, config))
        return self.qdreamer

    # -- tasks -----------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigurationError("this PilotComputeService was cancelled", field="service", value="cancelled",
                                     fix="create a new PilotComputeService")

    def submit_quantum_task(self, task: QuantumTask) -> Any:
        """Choose a resource for `task` and start it. Returns a Ray ObjectRef (RAY) or a Future (LOCAL).

        A task on a remote resource goes to the remote-job tracker, which submits it to the provider
        and waits without holding a worker; its handle is the same kind of ObjectRef or Future.
        """
        self._check_open()
        task = self.dispatch.check(task)
        if task.observables is not None:  # measured (and cut if need be) as several tasks
            return submit_observables(self, task)
        self.engine.poll()
        return self.dispatch.submit(task)

    def flush(self) -> None:
        """Return once every journal write so far is on disk, finished tasks' outcomes included
        (`durable=False` services: docs/journal.md; `TaskRegistry.drain`). JournalError if it cannot."""
        if self.journal is not None:
            self.registry.drain()
            self.journal.journal.flush()

    def quote(self, tasks: QuantumTask | Iterable[QuantumTask]) -> Quote:
        """What `tasks` would cost, wait and score on every candidate now; submits nothing."""
        return self.dispatch.quote(self, tasks)

    def submit_quantum_tasks(self, tasks: Iterable[QuantumTask]) -> list[Any]:
        """Submit many tasks; those QDREAMER sends to the same resource run as backend batches.

        Returns one handle per task, in order. Each task keeps its own placements (failover order),
        constraints and price. A local batch is split into as many chunks as the engine runs in
        parallel, so a big burst uses every worker and each chunk is one backend call; a batch for
        a remote resource is one provider batch.
        """
        self._check_open()
        planned: set[tuple] = set()  # readout calibrations the tasks' "auto" choices share
        tasks = [self.dispatch.check(t, planned) for t in validation.task_list(tasks)]
        if any(t.observables is not None for t in tasks):  # measured as several tasks each
            return submit_mixed(self, tasks)
        self.engine.poll()
        return self.dispatch.submit_many(tasks)

    @property
    def _coalescer(self) -> Any:
        """The engine's coalescer once a task went through it (tests and benchmarks read it)."""
        return self.dispatch.coalescer

    def submit_task(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a classical function on the engine (Pilot-Quantum's `submit_task`)."""
        self._check_open()
        kwargs.pop("task_name", None)
        return self.engine.submit(_call, (func, args, kwargs))

    def wait_tasks(self, tasks: Sequence[Any], timeout: float | None = None, progress: bool | None = None) -> None:
        """Block until every task is done. Past `timeout` seconds: TaskTimeoutError (tasks go on).
        `progress`: a bar (qtau.progress) always, never, or with None on a terminal or in a notebook."""
        self.collect.wait(tasks, timeout, progress)

    def get_result(self, task: Any, timeout: float | None = None) -> Result:
        """The task's Result; raises its QtauError if it failed (ExecutionError lists attempts)."""
        [value] = self.get_results([task], timeout, return_exceptions=True)
        if isinstance(value, QtauError):
            raise value
        return value

    def get_results(self, tasks: Sequence[Any], timeout: float | None = None,
                    return_exceptions: bool = False, progress: bool | None = None) -> list[Any]:
        """Results in the order given, fetched in one round trip. A failed task raises its
        QtauError, or with `return_exceptions=True` its error takes the result's place.
        `progress` as in `wait_tasks`."""
        return self.collect.results(tasks, timeout, return_exceptions, progress)

    def cancel(self, tasks: Sequence[Any] | None = None) -> None:
        """Cancel the given tasks; with no argument, shut the whole service down (Pilot-Quantum).

        Cancelling a task on a remote resource cancels its provider job; shutting down cancels
        every provider job still in flight and waits (bounded) until the provider has them.
        """
        if tasks is not None:
            for handle in self.collect.parts(tasks, "cancel"):
                self.engine.cancel(handle)
            return
        self.close()

    def close(self) -> None:
        """Stop monitoring, cancel in-flight provider jobs and pilots, and release the engine (a Ray
        we started is disconnected)."""
        if self._closed:
            return
        self._closed = True
        self.qdreamer.stop_background_monitoring()
        for pilot in self.pilots.values():
            pilot.state = "CANCELED"
        self.dispatch.close()
        self.engine.shutdown()
        if self.journal is not None:
            self.registry.drain()  # finished tasks' outcomes reach the journal before it closes
            self.journal.close()

    def __enter__(self) -> PilotComputeService:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- recovery (qtau.journal.recovery) --------------------------------------------------------

    def recover(self) -> list[Any]:
        """Handles for every task an earlier service on this `working_directory` submitted and never
        handed out, in submission order; call it after `create_pilot` (credentials are never
        journaled). Remote jobs are re-attached, never resubmitted (docs/journal.md)."""
        self._check_open()
        return Recovery(self.journal, self.engine, self.registry, self.qdreamer, self.host, self.pilots,
                        self.submit_quantum_task).recover()


def _call(packed: tuple) -> Any:
    func, args, kwargs = packed
    return func(*args, **kwargs)
