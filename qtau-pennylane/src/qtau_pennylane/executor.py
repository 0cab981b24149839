"""The executor of every `pennylane_*` resource: a batch of jobs in one `qml.execute` call.

Each job's circuit (QNode, bound QNode or tape) becomes tapes for the resource's device
(`tapes.py`). Jobs whose measurements all name their wires run together in one `qml.execute` on a
device spanning the union of their wires (idle extra wires change nothing); a job returning
`qml.state()` needs a device of exactly its own wires and runs in a call of its own. Each job's
results are folded back with its own post-processing.
Devices are made once per wire set and kept for the executor's life (one per worker and resource).
A device runs one `qml.execute` at a time: PennyLane devices (qiskit.aer's among them) are not safe
to share between threads, and the LOCAL engine runs batch chunks on several threads.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from qtau.errors import ExecutionError, QtauError
from qtau.executor import CircuitJob, LocalExecutor
from qtau.types import Outcome, Resource

from qtau_pennylane import devices, outcomes, tapes
from qtau_pennylane.formats import COUNTS_ONLY
from qtau_pennylane.noise import noisy_tape
from qtau_pennylane.threads import exclusive

#: Device objects kept per executor (one per distinct wire set).
MAX_DEVICES = 16


class PennyLaneExecutor(LocalExecutor):
    """Runs PennyLane circuits on the resource's device; remote devices block inside `run`."""

    def __init__(self, resource: Resource, config: Mapping[str, Any]) -> None:
        super().__init__(resource, config)
        self.device_name = resource.metadata["device"]
        self.analytic_ok = bool(resource.metadata.get("analytic", False))
        self.noise = dict(resource.metadata.get("noise") or {})
        self._devices: dict[tuple, Any] = {}
        self._device_locks: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()

    def device(self, wires: tuple) -> Any:
        """The device for these wires: cached, except on a seeded pilot, whose device is made anew
        for each batch so that its random stream starts from the seed every time (a seeded device
        kept between batches would go on drawing, and the same batch would give other counts)."""
        if "seed" in self.config:
            return devices.create_device(self.resource, self.config, wires)
        with self._lock:
            found = self._devices.get(wires)
        if found is None:
            found = devices.create_device(self.resource, self.config, wires)
            with self._lock:
                if len(self._devices) >= MAX_DEVICES:
                    self._devices.pop(next(iter(self._devices)))
                found = self._devices.setdefault(wires, found)
        return found

    def _build(self, job: CircuitJob) -> tapes.Built:
        # A QNode task's args arrive on the job; bound QNodes carry their own.
        built = tapes.build(job.circuit, job.circuit_format, job.shots, self.analytic_ok, job.args, dict(job.kwargs))
        if self.noise:
            noisy = tuple(noisy_tape(t, self.noise, built.wires) for t in built.tapes)
            built = tapes.Built(noisy, built.post, built.wires, built.sampled)
        return built

    @exclusive
    def run(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        import pennylane as qml

        built = [self._build(job) for job in jobs]
        groups: dict[Any, list[int]] = {}
        for i, b in enumerate(built):
            groups.setdefault(None if b.shareable else b.wires, []).append(i)
        results: list[list[Any]] = [[] for _ in jobs]
        for key, members in groups.items():
            wires = key if key is not None else tapes.union_wires([built[i].wires for i in members])
            device = self.device(wires)
            batch = [t for i in members for t in built[i].tapes]
            swapped: list[dict[int, bool]] = [{}] * len(batch)
            if self.device_name in outcomes.SAMPLES_FAST:
                batch, swapped = outcomes.counts_as_samples(batch)
            with self._lock:
                device_lock = self._device_locks.setdefault(wires, threading.Lock())
            try:
                with device_lock:
                    flat = outcomes.samples_as_counts(
                        # No gradients are taken here: parameters run as plain numpy (no autograd
                        # tracing per call) and nothing is cached between calls.
                        qml.execute(batch, device, diff_method=None, interface="numpy", cache=False), swapped)
            except QtauError:
                raise
            except Exception as err:
                raise ExecutionError(
                    f"{self.device_name} failed to run {len(batch)} tape(s): {type(err).__name__}: {err}",
                    fix="check the circuit's gates and measurements are supported by this device",
                ) from err
            pos = 0
            for i in members:
                n = len(built[i].tapes)
                results[i] = list(flat[pos:pos + n])
                pos += n
        return [self._outcome(job, b, r) for job, b, r in zip(jobs, built, results, strict=True)]

    def _outcome(self, job: CircuitJob, built: tapes.Built, results: list[Any]) -> Outcome:
        value = built.post(results)
        counts = outcomes.common_counts(built.tapes[0], results[0]) if len(built.tapes) == 1 else {}
        metadata = {
            "device": self.device_name, "analytic": not built.sampled,
            "shots": job.shots if built.sampled else None, "wires": len(built.wires),
            "gpu": bool(self.resource.metadata.get("gpu", False)),
        }
        if self.noise:
            metadata["noise"] = dict(self.noise)
        values = None if getattr(job.circuit, COUNTS_ONLY, False) else outcomes.plain(value)
        return Outcome(counts=counts, values=values, metadata=metadata, raw=value)


def create_executor(resource: Resource, config: Mapping[str, Any]) -> PennyLaneExecutor:
    return PennyLaneExecutor(resource, config)
