"""Runs a batch of Qiskit circuits on one ibmq resource through SamplerV2: one `run`, many pubs.

Circuits are made ISA on the worker (`generate_preset_pass_manager` against the backend's Target),
so logical `h`/`cx` run on an `rz, sx, ecr` device; transpiled circuits are cached per
(circuit content, backend, options) because placing a circuit on a 127-qubit device takes a while.
Fake backends and the qasm simulator run in qiskit-ibm-runtime's local mode
(`SamplerV2(mode=backend)`); devices in job mode. Counts join every classical register in Qiskit's
order (register 0's bit 0 rightmost); the native SamplerPubResult goes into `Outcome.raw`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from qtau.errors import (
    ConfigurationError,
    ExecutionError,
    InvalidTaskError,
    QtauError,
    TaskTimeoutError,
)
from qtau.executor import CircuitJob, Executor
from qtau.types import Outcome, Resource

from qtau_ibmq import backends, connect
from qtau_ibmq.credentials import account_of

CACHE_SIZE = 256
_isa: OrderedDict[tuple, Any] = OrderedDict()
_isa_lock = threading.Lock()
_STATES = {"INITIALIZING": "queued", "QUEUED": "queued", "VALIDATING": "queued", "RUNNING": "running",
           "DONE": "done", "ERROR": "failed", "CANCELLED": "cancelled"}


def _param(value: Any) -> Any:
    if hasattr(value, "data") and hasattr(value, "num_qubits"):  # a control-flow block
        return fingerprint(value)
    try:
        return round(float(value), 12)
    except (TypeError, ValueError):
        return str(value)


def fingerprint(circuit: Any) -> tuple:
    """A hashable description of a circuit's content: equal circuits share one transpilation."""
    ops = []
    for inst in circuit.data:
        op = inst.operation
        ops.append((
            op.name,
            tuple(_param(p) for p in op.params),
            tuple(circuit.find_bit(q).index for q in inst.qubits),
            tuple(circuit.find_bit(c).index for c in inst.clbits),
            repr(getattr(op, "condition", None)),
        ))
    regs = tuple((r.name, r.size) for r in circuit.cregs)
    return circuit.num_qubits, circuit.num_clbits, regs, _param(circuit.global_phase), tuple(ops)


def _options(config: Mapping[str, Any]) -> dict[str, Any]:
    level = config.get("optimization_level", 1)
    if isinstance(level, bool) or level not in (0, 1, 2, 3):
        raise ConfigurationError(
            "optimization_level must be 0, 1, 2 or 3", field="quantum.optimization_level", value=level,
            fix="use 1 (the default) for fast transpilation, 3 for the shortest circuits",
        )
    out = {"optimization_level": level}
    for key in ("seed_transpiler", "seed_simulator"):
        value = config.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigurationError(f"{key} must be an integer", field=f"quantum.{key}", value=value,
                                     fix=f"use e.g. {key}=42")
        out[key] = value
    return out


@attrs.frozen(eq=False)
class Handle:
    """A submitted batch: the primitive job and what the worker needs to read it back."""

    job: Any = attrs.field(repr=False)
    job_id: str
    measure_all_added: tuple[bool, ...]
    isa_depths: tuple[int, ...]


class SamplerExecutor(Executor):
    """One ibmq resource: ISA transpilation, then SamplerV2 with one pub per job."""

    def __init__(self, resource: Resource, config: Mapping[str, Any], backend: Any) -> None:
        super().__init__(resource, config)
        self.backend = backend
        self.options = _options(config)
        self.local = resource.metadata.get("source") in ("fake", "aer")
        self.account = None if self.local else account_of(config)
        self._pm = None
        self._pm_lock = threading.Lock()

    # -- preparation ---------------------------------------------------------------------------

    def pass_manager(self):
        with self._pm_lock:
            if self._pm is None:
                from qiskit.transpiler import generate_preset_pass_manager

                self._pm = generate_preset_pass_manager(
                    optimization_level=self.options["optimization_level"], backend=self.backend,
                    seed_transpiler=self.options["seed_transpiler"],
                )
            return self._pm

    def isa(self, circuit: Any) -> Any:
        """The circuit transpiled for this backend, from the cache when seen before."""
        key = (self.backend.name, self.options["optimization_level"], self.options["seed_transpiler"],
               fingerprint(circuit))
        with _isa_lock:
            hit = _isa.get(key)
            if hit is not None:
                _isa.move_to_end(key)
                return hit
        try:
            out = self.pass_manager().run(circuit)
        except Exception as err:
            raise InvalidTaskError(
                f"the circuit cannot be transpiled for {self.backend.name}: {type(err).__name__}: {err}",
                field="circuit", value=circuit.name,
                fix="use gates and measurements the device supports, or another backend",
            ) from err
        with _isa_lock:
            _isa[key] = out
            if len(_isa) > CACHE_SIZE:
                _isa.popitem(last=False)
        return out

    def prepare(self, job: CircuitJob) -> tuple[Any, bool]:
        circuit = job.circuit
        width = int(self.backend.num_qubits)
        if circuit.num_qubits > width:
            raise InvalidTaskError(
                f"the circuit needs num_qubits={circuit.num_qubits} but {self.backend.name} has {width} qubits",
                field="num_qubits", value=circuit.num_qubits,
                fix=f"use at most {width} qubits on {self.backend.name}, or pick a wider backend",
            )
        added = not any(inst.operation.name == "measure" for inst in circuit.data)
        if added:
            circuit = circuit.measure_all(inplace=False)
        return self.isa(circuit), added

    # -- execution -----------------------------------------------------------------------------

    def _sampler(self):
        from qiskit_ibm_runtime import SamplerV2

        sampler = SamplerV2(mode=self.backend)
        if self.local and self.options["seed_simulator"] is not None:
            sampler.options.simulator.seed_simulator = self.options["seed_simulator"]
        return sampler

    def submit(self, jobs: Sequence[CircuitJob]) -> Handle:
        prepared = [self.prepare(job) for job in jobs]
        pubs = [(isa, None, job.shots) for (isa, _), job in zip(prepared, jobs, strict=True)]
        sampler = self._sampler()
        try:
            if self.local:
                job = sampler.run(pubs)
            else:
                job = connect.bounded(lambda: sampler.run(pubs), self.account,
                                      f"submitting to {self.backend.name}", timeout=max(self.account.timeout, 60))
        except QtauError:
            raise
        except Exception as err:
            raise ExecutionError(
                f"{self.resource.id} refused the batch: {type(err).__name__}: {err}",
                fix="check the circuits and the sampler options",
            ) from err
        return Handle(job, str(job.job_id()), tuple(a for _, a in prepared),
                      tuple(int(isa.depth()) for isa, _ in prepared))

    def _wait(self, handle: Handle, timeout: float | None) -> Any:
        job = handle.job
        if timeout is not None:
            deadline = time.monotonic() + timeout
            delay = 0.01
            while not job.done():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TaskTimeoutError(
                        f"job {handle.job_id} on {self.resource.id} did not finish within {timeout} s",
                        field="timeout", value=timeout, fix="raise the task's timeout, or cancel the job",
                    )
                time.sleep(min(delay, left))
                delay = min(delay * 2, 1.0)
        try:
            return job.result()
        except Exception as err:
            if not self.local:
                raise connect.classify(err, f"reading job {handle.job_id}", self.account) from err
            raise ExecutionError(
                f"job {handle.job_id} on {self.resource.id} failed: {type(err).__name__}: {err}",
                fix="see the cause; a circuit the simulator rejects fails the same way on every retry",
            ) from err

    def result(self, handle: Handle, timeout: float | None = None) -> list[Outcome]:
        primitive = self._wait(handle, timeout)
        billed = {} if self.local else self._billed(handle, len(primitive))
        outcomes = []
        for i, pub in enumerate(primitive):
            counts = {key: int(n) for key, n in pub.join_data().get_counts().items()}
            outcomes.append(Outcome(
                counts=counts,
                metadata={"backend": self.backend.name, "job_id": handle.job_id,
                          "measure_all_added": handle.measure_all_added[i], "isa_depth": handle.isa_depths[i],
                          "local_mode": self.local, **billed},
                raw=pub,
            ))
        return outcomes

    def _billed(self, handle: Handle, pubs: int) -> dict[str, Any]:
        """The job's reported quantum seconds and their price, shared equally by its pubs, so
        QTAU's budgets settle on what IBM bills rather than on the quote. Empty when IBM reports
        no usage (yet)."""
        from qtau_ibmq.pricing import settings

        try:
            seconds = float(connect.bounded(lambda: handle.job.usage(), self.account,
                                            f"reading the usage of job {handle.job_id}"))
        except Exception:  # unreachable, an older runtime, or a job without metrics: the quote stands
            return {}
        prices = settings(self.config)
        share = seconds / max(pubs, 1)
        return {"usage_seconds": share, "billed_cost": share * float(prices["per_second"]),
                "billed_currency": prices["currency"]}

    def status(self, handle: Handle) -> str:
        state = handle.job.status()
        name = getattr(state, "name", str(state)).upper()
        return _STATES.get(name, "running")

    def cancel(self, handle: Handle) -> bool:
        try:
            handle.job.cancel()
        except Exception:
            return False
        return True


def create_executor(resource: Resource, config: Mapping[str, Any]) -> SamplerExecutor:
    return SamplerExecutor(resource, config, backends.backend_for(resource, config))
