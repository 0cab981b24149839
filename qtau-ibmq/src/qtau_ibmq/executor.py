"""Runs a batch of Qiskit circuits on one ibmq resource through SamplerV2: one `run`, many pubs.

Two shapes: fake backends and the qasm simulator run in-process (`LocalSamplerExecutor`, Runtime's
local mode); IBM devices are a provider queue (`RuntimeExecutor`: `submit` returns the Runtime
job id, core's tracker polls `service.job(id).status()`, `fetch` reads `job.result()`, `cancel`
cancels the job), so no worker waits while a job is queued and a job re-attaches by its id.

Circuits are made ISA on the worker (`generate_preset_pass_manager` against the backend's Target),
so logical `h`/`cx` run on an `rz, sx, ecr` device; transpiled circuits are cached per
(circuit content, backend, options) because placing a circuit on a 127-qubit device takes a while.
Fake backends and the qasm simulator run in qiskit-ibm-runtime's local mode
(`SamplerV2(mode=backend)`); devices in job mode. Counts join every classical register in Qiskit's
order (register 0's bit 0 rightmost); the native SamplerPubResult goes into `Outcome.raw`. SamplerV2
returns only bits that are in a register, so bits in none (`bit b0;` in OpenQASM 3) are put in one
(`LOOSE`) before the run, and counts whose registers do not lie in bit order are read bit by bit
(`bit_layout`): keys are Qiskit's classical bits in index order, as Aer's are. A job
with `layout_like` (a mitigation's calibration, twirl or folded copy) is placed where the job it
names is read, and `metadata["physical_qubits"]` says where each job's qubits were read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from qtau.errors import (
    ConfigurationError,
    ExecutionError,
    InvalidTaskError,
    QtauError,
)
from qtau.executor import CircuitJob, Executor, JobState, LocalExecutor, RemoteExecutor
from qtau.optimisation_levels import LevelEstimates
from qtau.qasm3 import unboxed
from qtau.scalars import plain
from qtau.types import Outcome, Resource
from qtau_qiskit.composite import without_name_clashes
from qtau_qiskit.simulators import with_measurements

from qtau_ibmq import backends, connect, levels
from qtau_ibmq.credentials import account_of

CACHE_SIZE = 256
_isa: OrderedDict[tuple, Any] = OrderedDict()
_isa_lock = threading.Lock()
#: id of an ISA circuit "auto" chose (held in `_isa`) -> what was weighed (`levels.choose`), for
#: every executor of the process: QDREAMER's weighing (`level_estimates`) and the run's share it.
_weighed: OrderedDict[int, dict[str, Any]] = OrderedDict()
#: Executors `level_estimates` weighs with, per resource id and transpiler options (local ones only).
_weighers: dict[tuple, SamplerExecutor] = {}
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
    if isinstance(level, bool) or level not in (0, 1, 2, 3, "auto"):
        raise ConfigurationError(
            "optimization_level must be 0, 1, 2, 3 or 'auto'", field="quantum.optimization_level", value=level,
            fix="use 1 (the default) for fast transpilation, 3 for the shortest circuits, 'auto' for the level "
            "whose circuit the device's calibration says runs best",
        )
    out = {"optimization_level": level}
    for key in ("seed_transpiler", "seed_simulator"):
        value = plain(config.get(key))
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigurationError(f"{key} must be an integer", field=f"quantum.{key}", value=value,
                                     fix=f"use e.g. {key}=42")
        out[key] = value
    return out


#: The register bits in no register are put in (SamplerV2 returns registers only).
LOOSE = "qtau_loose_bits"


def with_loose_bits_registered(circuit: Any) -> Any:
    """`circuit`, or a copy whose classical bits in no register are in one more register (`LOOSE`)."""
    loose = [bit for bit in circuit.clbits if not circuit.find_bit(bit).registers]
    if not loose:
        return circuit
    from qiskit.circuit import ClassicalRegister

    names = {reg.name for reg in circuit.cregs}
    name = LOOSE
    while name in names:
        name += "_"
    out = circuit.copy()
    out.add_register(ClassicalRegister(name=name, bits=loose))
    return out


def bit_layout(circuit: Any) -> list[tuple[str, list[int]]] | None:
    """Each classical register with the indices of its bits, when joining the registers in order
    (`join_data`) would not give the bits in index order (a loose bit before a register, bits in
    two registers); None when it would."""
    at = 0
    for reg in circuit.cregs:
        if [circuit.find_bit(bit).index for bit in reg] != list(range(at, at + reg.size)):
            break
        at += reg.size
    else:
        if at == circuit.num_clbits:
            return None
    return [(reg.name, [circuit.find_bit(bit).index for bit in reg]) for reg in circuit.cregs]


def counts_by_bit(data: Any, layout: Sequence, num_clbits: int) -> dict[str, int]:
    """Counts over `num_clbits` classical bits (bit 0 rightmost) from a pub's registers, each
    register's bits put at their indices (`layout`: `bit_layout`)."""
    import numpy as np

    columns = None
    for name, indices in layout:
        bits = getattr(data, name).to_bool_array(order="little")  # column j: the register's bit j
        if columns is None:
            columns = np.zeros((bits.shape[0], num_clbits), dtype=bool)
        columns[:, list(indices)] = bits
    if columns is None:
        return {}
    rows, counts = np.unique(columns, axis=0, return_counts=True)
    return {"".join("1" if b else "0" for b in row[::-1]): int(n) for row, n in zip(rows, counts, strict=True)}


def physical_qubits(isa: Any) -> list[int]:
    """Where each qubit of the circuit as written ended in its ISA circuit (the physical qubit it
    is measured on): `[physical of qubit 0, physical of qubit 1, ...]`."""
    layout = getattr(isa, "layout", None)
    if layout is None:
        return list(range(isa.num_qubits))
    return [int(q) for q in layout.final_index_layout()]


def initial_qubits(isa: Any) -> list[int]:
    """Where each qubit of the circuit as written was placed before routing."""
    layout = getattr(isa, "layout", None)
    if layout is None:
        return list(range(isa.num_qubits))
    return [int(q) for q in layout.initial_index_layout(filter_ancillas=True)]


class SamplerExecutor(Executor):
    """What both shapes share: ISA transpilation, then SamplerV2 with one pub per job. A job with
    `layout_like` (a readout calibration) is placed on the physical qubits its task ended on."""

    follows_layout = True

    def __init__(self, resource: Resource, config: Mapping[str, Any], backend: Any) -> None:
        super().__init__(resource, config)
        self.backend = backend
        self.options = _options(config)
        self.local = resource.metadata.get("source") in ("fake", "aer")
        self.account = None if self.local else account_of(config)
        #: This thread's preset pass manager per level. Not shared between threads: a pass keeps
        #: the property set of the run it is in on itself, so two runs at once (LOCAL's chunks of
        #: a batch) mixed their layouts (a 5-qubit circuit placed on 4 qubits).
        self._pms = threading.local()

    # -- preparation ---------------------------------------------------------------------------

    def pass_manager(self, level: int | None = None):
        """This thread's preset pass manager for `level` (made on its first use here)."""
        level = self.options["optimization_level"] if level is None else level
        made = self._pms.__dict__.setdefault("by_level", {})
        if level not in made:
            from qiskit.transpiler import generate_preset_pass_manager

            made[level] = generate_preset_pass_manager(
                optimization_level=level, backend=self.backend, seed_transpiler=self.options["seed_transpiler"],
            )
        return made[level]

    def isa(self, circuit: Any) -> Any:
        """The circuit transpiled for this backend, from the cache when seen before; with
        optimization_level="auto", at the level of highest estimated fidelity (`levels`)."""
        if self.options["optimization_level"] != "auto":
            return self._transpiled(circuit, self.options["optimization_level"])
        key = (self.backend.name, "auto", self.options["seed_transpiler"], fingerprint(circuit))
        with _isa_lock:
            hit = _isa.get(key)
        if hit is not None:
            return hit
        out, weighed = levels.choose(lambda level: self._transpiled(circuit, level), self.backend.target)
        with _isa_lock:
            _isa[key] = out
            _weighed[id(out)] = weighed
            while len(_weighed) > CACHE_SIZE:
                _weighed.popitem(last=False)
        return out

    def level_info(self, isa: Any) -> dict[str, Any] | None:
        """What "auto" weighed for an ISA circuit it chose (None for a fixed level)."""
        with _isa_lock:
            return _weighed.get(id(isa))

    def level_estimates(self, circuit: Any) -> LevelEstimates | None:
        """With optimization_level="auto": every level's estimated fidelity for `circuit` prepared
        as a job's would be (measurements added when it has none), and the level its run will use;
        the chosen ISA circuit stays cached for that run. None for a fixed level."""
        if self.options["optimization_level"] != "auto":
            return None
        prepared = self.prepared(circuit)[0]
        isa = self.isa(prepared)
        weighed = self.level_info(isa)
        if weighed is None:  # evicted between the two reads: weigh again
            _, weighed = levels.choose(lambda level: self._transpiled(prepared, level), self.backend.target)
        return LevelEstimates(weighed["estimated_fidelity"], weighed["optimization_level"],
                              levels.estimated_fidelity(isa, self.backend.target, readout=False),
                              "auto: the highest estimate runs")

    def _transpiled(self, circuit: Any, level: int) -> Any:
        key = (self.backend.name, level, self.options["seed_transpiler"], fingerprint(circuit))
        with _isa_lock:
            hit = _isa.get(key)
            if hit is not None:
                _isa.move_to_end(key)
                return hit
        try:
            out = self.pass_manager(level).run(circuit)
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

    def prepare(self, job: CircuitJob, like: Any = None) -> tuple[Any, bool]:
        """The job's ISA circuit and whether measurements were added; with `like` (the ISA circuit
        of the job `job.layout_like` names), laid out so its qubits are read where `like`'s are."""
        circuit, added = self.prepared(job.circuit)
        if like is None:
            return self.isa(circuit), added
        return self.placed(circuit, like), added

    def placed(self, circuit: Any, like: Any) -> Any:
        """`circuit` transpiled so its qubit v is read on the physical qubit `like`'s qubit v is
        read on: a circuit without two-qubit gates (a readout calibration) starts there; one with
        them (a twirled or folded copy of `like`'s circuit) starts where `like`'s qubits started and
        is routed the same way. At `like`'s optimisation level; cached like `isa`. A circuit wider
        than `like` is laid out freely."""
        if circuit.num_qubits > len(physical_qubits(like)):
            return self.isa(circuit)
        routed = any(inst.operation.num_qubits > 1 and inst.operation.name != "barrier" for inst in circuit.data)
        qubits = initial_qubits(like) if routed else physical_qubits(like)
        layout = [int(q) for q in qubits[:circuit.num_qubits]]
        level = self.options["optimization_level"]
        if level == "auto":
            level = (self.level_info(like) or {}).get("optimization_level", 1)
        key = (self.backend.name, "placed", tuple(layout), level, self.options["seed_transpiler"],
               fingerprint(circuit))
        with _isa_lock:
            hit = _isa.get(key)
        if hit is not None:
            return hit
        from qiskit.transpiler import generate_preset_pass_manager

        pm = generate_preset_pass_manager(optimization_level=level, backend=self.backend, initial_layout=layout,
                                          seed_transpiler=self.options["seed_transpiler"])
        out = pm.run(circuit)
        with _isa_lock:
            _isa[key] = out
            if len(_isa) > CACHE_SIZE:
                _isa.popitem(last=False)
        return out

    def prepared(self, circuit: Any) -> tuple[Any, bool]:
        """`circuit` as it is transpiled: measurements added when it has none, gate names that
        clash with the device's renamed; and whether measurements were added."""
        width = int(self.backend.num_qubits)
        if circuit.num_qubits > width:
            raise InvalidTaskError(
                f"the circuit needs num_qubits={circuit.num_qubits} but {self.backend.name} has {width} qubits",
                field="num_qubits", value=circuit.num_qubits,
                fix=f"use at most {width} qubits on {self.backend.name}, or pick a wider backend",
            )
        circuit, added = with_measurements(circuit)
        circuit = with_loose_bits_registered(circuit)
        if "box" not in self.backend.target.operation_names:  # a scope the target cannot hold: its body
            circuit = unboxed(circuit)
        return without_name_clashes(circuit, self.backend.target.operation_names), added

    # -- execution -----------------------------------------------------------------------------

    def _sampler(self):
        from qiskit_ibm_runtime import SamplerV2

        sampler = SamplerV2(mode=self.backend)
        if self.local and self.options["seed_simulator"] is not None:
            sampler.options.simulator.seed_simulator = self.options["seed_simulator"]
        return sampler

    def _prepare_all(self, jobs: Sequence[CircuitJob]) -> list[tuple[Any, bool]]:
        """Every job's (ISA circuit, measurements added): jobs that follow another's layout
        (`CircuitJob.layout_like`) after the job they follow."""
        prepared: list[tuple[Any, bool] | None] = [
            self.prepare(job) if job.layout_like is None else None for job in jobs]
        for i, job in enumerate(jobs):
            if prepared[i] is None:
                k = job.layout_like
                if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < len(jobs) or prepared[k] is None:
                    raise InvalidTaskError(
                        f"job {job.task_id} follows the layout of job {k!r}, which is not a job of this call "
                        "that is laid out freely", field="layout_like", value=k,
                        fix="name the index of a job in the same call whose own layout_like is None")
                prepared[i] = self.prepare(job, like=prepared[k][0])
        return prepared

    def _pubs(self, jobs: Sequence[CircuitJob]) -> tuple[list, list[bool], list[int], list[dict | None], list, list]:
        prepared = self._prepare_all(jobs)
        pubs = [(isa, None, job.shots) for (isa, _), job in zip(prepared, jobs, strict=True)]
        return (pubs, [a for _, a in prepared], [int(isa.depth()) for isa, _ in prepared],
                [self.level_info(isa) for isa, _ in prepared], [physical_qubits(isa) for isa, _ in prepared],
                [(isa.num_clbits, bit_layout(isa)) for isa, _ in prepared])

    @staticmethod
    def counts(pub: Any, bits: Sequence | None) -> dict[str, int]:
        """A pub's counts in Qiskit's bit order; `bits`: `(num_clbits, bit_layout)` of its circuit."""
        if bits and bits[1] is not None:
            return counts_by_bit(pub.data, bits[1], int(bits[0]))
        return {key: int(n) for key, n in pub.join_data().get_counts().items()}

    def outcomes(self, primitive: Any, job_id: str, added: Sequence[bool], depths: Sequence[int],
                 weighed: Sequence[dict | None] | None = None, qubits: Sequence | None = None,
                 bits: Sequence | None = None, tasks: Sequence[str] | None = None) -> list[Outcome]:
        """One Outcome per pub. A pub whose counts cannot be read fails the call: with `tasks` (the
        jobs' task ids, a local run of several jobs) as an InvalidTaskError, so core runs the call's
        tasks again one by one and only that task fails (and fails over) instead of all of them;
        otherwise as an ExecutionError."""
        out = []
        unread: list[tuple[int, BaseException]] = []
        for i, pub in enumerate(primitive):
            try:
                counts = self.counts(pub, bits[i] if bits else None)
            except Exception as err:  # the SDK's own errors: one pub's data the sampler did not return
                unread.append((i, err))
                continue
            metadata = {"backend": self.backend.name, "job_id": job_id, "measure_all_added": added[i],
                        "isa_depth": depths[i], "local_mode": self.local}
            if qubits:
                metadata["physical_qubits"] = list(qubits[i])
            if weighed and weighed[i]:
                metadata["optimization_level"] = weighed[i]["optimization_level"]
                metadata["estimated_fidelity_by_level"] = weighed[i]["estimated_fidelity"]
            out.append(Outcome(counts=counts, metadata=metadata, raw=pub))
        if unread:
            i, err = unread[0]
            what = f"job {job_id}: the counts of pub {i}" + (f" (task {tasks[i]})" if tasks else "")
            if tasks and len(tasks) > 1:
                raise InvalidTaskError(
                    f"{what} cannot be read: {type(err).__name__}: {err}", field="circuit",
                    value=tasks[i], fix="the call's tasks run again one by one, so only this task fails")
            raise ExecutionError(f"{self.resource.id}: {what} cannot be read: {type(err).__name__}: {err}",
                                 fix="see the cause; run the circuit on qiskit_local (Aer) meanwhile")
        return out


class LocalSamplerExecutor(SamplerExecutor, LocalExecutor):
    """Fake backends and the qasm simulator: Runtime's local mode, run in-process."""

    def run(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        pubs, added, depths, weighed, qubits, bits = self._pubs(jobs)
        try:
            job = self._sampler().run(pubs)
            primitive = job.result()
        except QtauError:
            raise
        except Exception as err:
            raise ExecutionError(
                f"{self.resource.id} failed: {type(err).__name__}: {err}",
                fix="see the cause; a circuit the simulator rejects fails the same way on every retry",
            ) from None
        return self.outcomes(primitive, str(job.job_id()), added, depths, weighed, qubits, bits,
                             [j.task_id for j in jobs])


class RuntimeExecutor(SamplerExecutor, RemoteExecutor):
    """An IBM device: submit returns the Runtime job id; core's tracker polls it.

    Runtime offers no idempotency key on job creation (see docs/guide.md): a create whose answer is
    lost may leave a job behind, which the journal records by the id it gets back.
    """

    poll_interval = 1.0
    max_poll_interval = 30.0

    def submit(self, jobs: Sequence[CircuitJob]) -> dict[str, Any]:
        pubs, added, depths, weighed, qubits, bits = self._pubs(jobs)
        sampler = self._sampler()
        try:
            job = connect.bounded(lambda: sampler.run(pubs), self.account,
                                  f"submitting to {self.backend.name}", timeout=max(self.account.timeout, 60))
        except QtauError:
            raise
        except Exception as err:
            raise connect.classify(err, f"submitting to {self.backend.name}", self.account) from None
        ref = {"job_id": str(job.job_id()), "measure_all_added": added, "isa_depths": depths,
               "physical_qubits": qubits}
        if any(layout is not None for _, layout in bits):
            ref["bits"] = [[n, layout and [[name, list(indices)] for name, indices in layout]] for n, layout in bits]
        if any(weighed):
            ref["levels"] = [w and {"optimization_level": w["optimization_level"],
                                    "estimated_fidelity": {str(k): v for k, v in w["estimated_fidelity"].items()}}
                             for w in weighed]
        return ref

    def _job(self, ref: Mapping[str, Any]) -> Any:
        svc = connect.service(self.account)
        return connect.bounded(lambda: svc.job(ref["job_id"]), self.account, f"reading job {ref['job_id']}")

    def poll(self, refs: Sequence[Any]) -> list[JobState]:
        out = []
        for ref in refs:
            try:
                job = self._job(ref)
                state = job.status()
            except QtauError as err:
                if "404" in str(err) or "not found" in str(err).lower():
                    out.append(JobState("lost", f"IBM does not know job {ref['job_id']}"))
                    continue
                raise
            name = getattr(state, "name", str(state)).upper()
            out.append(JobState(_STATES.get(name, "running"),
                                f"job {ref['job_id']} is {name}" if name in ("ERROR", "CANCELLED") else ""))
        return out

    def fetch(self, ref: Any) -> list[Outcome]:
        job = self._job(ref)
        try:
            primitive = connect.bounded(job.result, self.account, f"reading job {ref['job_id']}")
        except QtauError:
            raise
        except Exception as err:
            raise connect.classify(err, f"reading job {ref['job_id']}", self.account) from None
        outcomes = self.outcomes(primitive, ref["job_id"], ref["measure_all_added"], ref["isa_depths"],
                                 ref.get("levels"), ref.get("physical_qubits"), ref.get("bits"))
        billed = self._billed(job, ref["job_id"], len(outcomes))
        return [attrs.evolve(o, metadata={**o.metadata, **billed}) for o in outcomes] if billed else outcomes

    def _billed(self, job: Any, job_id: str, pubs: int) -> dict[str, Any]:
        """The job's reported quantum seconds and their price, shared equally by its pubs, so
        QTAU's budgets settle on what IBM bills rather than on the quote. Empty when IBM reports
        no usage (then the quote stands)."""
        from qtau_ibmq.pricing import settings

        try:
            seconds = float(connect.bounded(job.usage, self.account, f"reading the usage of job {job_id}"))
        except Exception:  # unreachable, an older runtime, or a job without metrics
            return {}
        prices = settings(self.config)
        share = seconds / max(pubs, 1)
        return {"usage_seconds": share, "billed_cost": share * float(prices["per_second"]),
                "billed_currency": prices["currency"]}

    def cancel(self, ref: Any) -> bool:
        job = self._job(ref)
        try:
            connect.bounded(job.cancel, self.account, f"cancelling job {ref['job_id']}")
        except QtauError:
            return False
        return True


def create_executor(resource: Resource, config: Mapping[str, Any]) -> SamplerExecutor:
    cls = RuntimeExecutor if resource.remote else LocalSamplerExecutor
    return cls(resource, config, backends.backend_for(resource, config))


def level_estimates(resource: Resource, config: Mapping[str, Any], circuit: Any) -> LevelEstimates | None:
    """The `qtau_optimisation_levels` answer for a Qiskit `circuit` on `resource` (see
    `SamplerExecutor.level_estimates`); None unless the pilot's optimization_level is "auto".
    Local resources' executors are kept per resource and options, so their pass managers are
    built once."""
    options = _options(config)
    if options["optimization_level"] != "auto":
        return None
    if resource.remote:
        return create_executor(resource, config).level_estimates(circuit)
    key = (resource.id, tuple(sorted(options.items())))
    with _isa_lock:
        found = _weighers.get(key)
    if found is None:
        found = create_executor(resource, config)
        with _isa_lock:
            found = _weighers.setdefault(key, found)
    return found.level_estimates(circuit)
