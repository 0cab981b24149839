"""The scripted executor: runs Qiskit circuits on BasicSimulator, or fails, hangs or goes offline.

Behaviour is read at each run, so a test can turn a resource bad (or good) while a service runs.
A hang is bounded (`hang_s`, at most 30 s) and ends in TaskTimeoutError, so nothing waits forever.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from qtau.errors import BackendUnavailableError, ExecutionError, InvalidTaskError, TaskTimeoutError
from qtau.executor import CircuitJob, LocalExecutor
from qtau.types import Outcome, Resource

from qtau_scripted import script, state

#: BasicSimulator is not thread-safe: concurrent runs (batch chunks on a LOCAL pool) take turns,
#: as in qtau-qiskit.
_SIMULATOR_LOCK = threading.Lock()


def emulated_seconds(v: Mapping[str, Any], jobs: Sequence[CircuitJob]) -> float:
    """The queue wait plus the estimated run time of `jobs`, as the resource reports them."""
    per_task = float(v["seconds_per_task"] or 0.0)
    per_shot = float(v["seconds_per_shot"] or 0.0)
    return float(v["queue_wait_s"]) + sum(per_task + per_shot * job.shots for job in jobs)


class PanicException(BaseException):  # noqa: N818 (the name pyo3 gives it)
    """What a Rust SDK raises when it panics (pyo3_runtime.PanicException, a BaseException;
    Qiskit's transpiler panicked on a circuit of `pow @` gates): behaviour "panic"."""


class ScriptedExecutor(LocalExecutor):
    def __init__(self, resource: Resource, config: Mapping[str, Any]) -> None:
        super().__init__(resource, config)
        self._closed = threading.Event()
        self._backend = None
        # BasicSimulator keeps run state on itself: two pool threads running at once on one
        # instance can swap results (seen as one task's counts in another's Result).
        self._simulator_lock = threading.Lock()

    def run(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        v = script.values(self.resource)
        behaviour = v["behaviour"] if v["online"] else "offline"
        if behaviour == "fail":
            raise ExecutionError(f"{self.resource.id} failed as scripted")
        if behaviour == "panic":
            raise PanicException(f"internal error: entered unreachable code ({self.resource.id}, scripted)")
        if behaviour == "offline":
            raise BackendUnavailableError(
                f"{self.resource.id} is offline (scripted)", fix="wait for the backend to come back",
            )
        if behaviour == "hang":
            limit = min(float(v["hang_s"]), script.MAX_HANG_S)
            self._closed.wait(limit)
            raise TaskTimeoutError(f"{self.resource.id} hung for {limit:g} s as scripted")
        limit = v["reject_shots_above"]
        if limit is not None and any(job.shots > limit for job in jobs):
            raise InvalidTaskError(f"{self.resource.id} takes at most {limit:g} shots a job", field="shots",
                                   value=max(job.shots for job in jobs), fix="ask for fewer shots")
        if v["call_delay_s"]:
            self._closed.wait(min(float(v["call_delay_s"]), script.MAX_HANG_S))
        state.count_run(self.resource.id, len(jobs))
        if v["emulate_time"]:
            self._closed.wait(min(emulated_seconds(v, jobs), script.MAX_EMULATED_S))
        with self._simulator_lock:
            return self._simulate(jobs)

    def _simulate(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        from qiskit import transpile
        from qiskit.providers.basic_provider import BasicSimulator

        if self._backend is None:
            self._backend = BasicSimulator()
        supported = set(self._backend.target.operation_names) | {"measure", "barrier"}
        outcomes = []
        for job in jobs:
            circuit = job.circuit
            if not any(inst.operation.name == "measure" for inst in circuit.data):
                circuit = circuit.measure_all(inplace=False)
            names = {inst.operation.name for inst in circuit.data}
            native = circuit if names <= supported else transpile(circuit, self._backend, optimization_level=0)
            with _SIMULATOR_LOCK:
                result = self._backend.run(native, shots=job.shots).result()
            counts = {key.replace(" ", ""): int(n) for key, n in result.get_counts().items()}
            outcomes.append(Outcome(counts=counts, metadata={"backend": "basic_simulator", "scripted": True},
                                    raw=result.results[0]))
        return outcomes

    def close(self) -> None:
        self._closed.set()
