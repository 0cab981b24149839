"""`QtauSampler` (BaseSamplerV2) and `QtauEstimator` (BaseEstimatorV2): Qiskit primitives whose
circuits QDREAMER places on any installed QTAU resource.

    sampler = QtauSampler()                                   # every installed local simulator
    sampler = QtauSampler(executors=["qiskit_local", "braket_local", "pennylane_lightning"])
    result = sampler.run([(circuit, parameter_values)], shots=1000).result()
    result[0].data.alpha                                      # a BitArray per classical register
    result[0].qtau                                            # where each binding ran, attempts, cost
    result.qtau                                               # the same, summed over the run

`result.metadata` and `result[i].metadata` hold exactly Qiskit's keys (`{"version": 2}`;
`shots`, `circuit_metadata`, and for the Estimator `target_precision`): code and tests written for
Qiskit's primitives compare them whole. QTAU's provenance is the `qtau` attribute of the result
and of each pub result (`QtauPrimitiveResult`, `QtauSamplerPubResult`, `QtauPubResult`:
subclasses of Qiskit's, so every `isinstance` check still holds).

Each binding of each pub becomes one `QuantumTask`; every task of a `run` call goes to the service
in one `submit_quantum_tasks` batch, so QDREAMER places them (Aer, Braket's local simulator,
PennyLane devices...: the batch whole on the simulator it learned runs it fastest), fails over,
and runs the tasks bound for one resource as one backend batch.
Results have exactly the shapes of Qiskit's reference primitives (`StatevectorSampler`,
`StatevectorEstimator`): a `DataBin` of the pub's shape holding one `BitArray` per classical
register (Sampler), or `evs`/`stds` (Estimator).

Sampler circuits are read out as every backend reads them: final measurements are replaced by one
flat register of the measured qubits (as StatevectorSampler does); unmeasured bits read 0.
A classical register (or bit) no final measurement writes reads 0, as in StatevectorSampler; a
circuit without classical registers gives an empty DataBin and the same UserWarning.
A circuit that measures mid-circuit or has control flow (`if_test`, loops, `switch`) runs as written,
as on Aer's SamplerV2, each bit reading what it holds at the end (`qtau_qiskit.dynamic_readout`);
QDREAMER places it only where such circuits run.

A seed makes a run repeatable: `seed=` seeds the simulators themselves (Aer's `seed_simulator`,
PennyLane's `seed`) as well as the shuffle of counts into shots. Without `service=`, a seeded
primitive runs on its own service whose pilots are seeded local simulators (those that accept a
seed: Braket's LocalSimulator does not, so it is left out unless named in `executors=`, where it
runs unseeded, with a UserWarning). Reproducibility holds per resource: the same seed and circuits on the same resource
give the same counts; `result[i].qtau` names the resource each binding ran on.
The Estimator estimates from shots (`ceil(1 / precision**2)` per Pauli group, as
BackendEstimatorV2 does); precision 0 (exact) is computed in-process by StatevectorEstimator.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from qiskit.circuit import ClassicalRegister, QuantumCircuit
from qiskit.exceptions import QiskitError
from qiskit.primitives import BaseEstimatorV2, BaseSamplerV2, PrimitiveJob
from qiskit.primitives.containers import (
    BitArray,
    DataBin,
    PrimitiveResult,
    PubResult,
    SamplerPubResult,
)
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.quantum_info import Pauli, PauliList
from qtau import interop
from qtau.cutting import cut_options, run_cut
from qtau.errors import InvalidTaskError
from qtau.mitigation import mitigated_counts, report, summed, z_expectation
from qtau.mitigation_options import parse_mitigation
from qtau.types import QuantumTask

from qtau_qiskit.dynamic_readout import dynamic_plan, is_dynamic
from qtau_qiskit.idle_qubits import estimator_pub_on_used_qubits, on_qubits, used_qubits
from qtau_qiskit.measure_all import without_clbits

#: BackendEstimatorV2's default: 4096 shots per Pauli group.
DEFAULT_PRECISION = 0.015625


class PubError(InvalidTaskError, ValueError):
    """A pub the QTAU primitives cannot run: a QtauError, and the ValueError Qiskit documents."""


class UnsupportedCircuitError(PubError, QiskitError):
    """A circuit the primitives cannot run: a PubError, and the QiskitError Qiskit's primitives raise.
    QtauSampler raised it for mid-circuit measurements and control flow, which it now runs (on the
    resources that can); kept for code that catches it."""

    def __init__(self, message: str, **fields: Any) -> None:
        PubError.__init__(self, message, **fields)
        self.message = str(self.args[0]) if self.args else message


class InvalidShotsError(PubError, TypeError):
    """`shots` that are not a positive integer, or a `precision` that is not a non-negative real
    number: a PubError, and both the ValueError and the TypeError Qiskit's pubs raise for them."""


def _check_shots(shots: Any, field: str) -> None:
    """InvalidShotsError unless `shots` is a positive integer (Qiskit's SamplerPub rule)."""
    if isinstance(shots, (bool, np.bool_)) or not isinstance(shots, (int, np.integer)) or shots <= 0:
        raise InvalidShotsError(
            f"shots must be a positive integer, not {shots!r}", field=field, value=shots,
            fix="pass a positive integer number of shots, e.g. shots=1024",
        )


def _check_precision(precision: Any, field: str, exact: bool) -> None:
    """InvalidShotsError unless `precision` is a real number > 0 (or 0, where exact values are
    allowed): it sets each Pauli group's shots, ceil(1 / precision**2)."""
    real = isinstance(precision, (int, float, np.integer, np.floating)) and not isinstance(precision, (bool, np.bool_))
    if not real or not precision >= 0 or (precision == 0 and not exact):
        raise InvalidShotsError(
            "precision must be positive" + (" or 0 (exact)" if exact else " (this estimator was made with exact=False)")
            + f", not {precision!r}", field=field, value=precision,
            fix="pass precision=0.01 (10,000 shots per Pauli group), for example",
        )


def _pub_entry(pub: Any, index: int) -> Any:
    """Entry `index` of a pub given as a tuple or list (None when absent): shots of a sampler
    pub (index 2), precision of an estimator pub (index 3)."""
    if isinstance(pub, (tuple, list)) and len(pub) > index:
        return pub[index]
    return None


class QtauPrimitiveResult(PrimitiveResult):
    """A PrimitiveResult with QTAU's provenance of the whole run in `qtau` (resources used, cost,
    attempts); `metadata` stays Qiskit's `{"version": 2}`."""

    def __init__(self, pub_results, metadata=None, qtau: dict[str, Any] | None = None) -> None:
        super().__init__(pub_results, metadata)
        self.qtau = qtau or {}


class QtauSamplerPubResult(SamplerPubResult):
    """A SamplerPubResult with QTAU's provenance of the pub in `qtau`: the summary and one record
    per binding (resource, attempts, cost, conversion path, timings)."""

    __slots__ = ("qtau",)

    def __init__(self, data: DataBin, metadata=None, qtau: dict[str, Any] | None = None) -> None:
        super().__init__(data, metadata)
        self.qtau = qtau or {}


class QtauPubResult(PubResult):
    """An Estimator PubResult with QTAU's provenance of the pub in `qtau` (as QtauSamplerPubResult)."""

    __slots__ = ("qtau",)

    def __init__(self, data: DataBin, metadata=None, qtau: dict[str, Any] | None = None) -> None:
        super().__init__(data, metadata)
        self.qtau = qtau or {}


def _width_mismatch(kind: type, pub: Any, position: int, err: Exception) -> PubError | None:
    """A PubError naming the observables and apply_layout where an estimator pub's observables act
    on another number of qubits than its circuit: most often observables written for a logical
    circuit, given with the circuit transpiled for a device (an ISA circuit)."""
    if kind is not EstimatorPub or not isinstance(pub, (tuple, list)) or len(pub) < 2:
        return None
    circuit = pub[0]
    try:
        width = ObservablesArray.coerce(pub[1]).num_qubits
    except (ValueError, TypeError, AttributeError):
        return None  # observables Qiskit's own message is about
    if not isinstance(circuit, QuantumCircuit) or width == circuit.num_qubits:
        return None
    return PubError(
        f"pub {position}'s observables act on {width} qubits and its circuit has {circuit.num_qubits}: {err}",
        field=f"pubs[{position}].observables", value=width,
        fix=f"give observables on the circuit's {circuit.num_qubits} qubits; for a transpiled circuit "
        "isa, lay them out as it was: observable.apply_layout(isa.layout)",
    )


def _coerce(kind: type, pub: Any, value: Any, position: int) -> Any:
    try:
        coerced = kind.coerce(pub, value)
        coerced.validate()
    except PubError:
        raise
    except (ValueError, TypeError) as err:
        if (mismatch := _width_mismatch(kind, pub, position, err)) is not None:
            raise mismatch from err
        raise PubError(
            f"pub {position} is invalid: {err}", field=f"pubs[{position}]", value=type(pub).__name__,
            fix="give each parameter value set one number per circuit parameter "
            "(shape (..., circuit.num_parameters)), and observables that broadcast against it",
        ) from err
    return coerced


class _QtauPrimitive:
    """The service, QDREAMER mode and provenance shared by both primitives."""

    def __init__(self, executors, mode, service, seed, mitigation: Any = "none") -> None:
        self.mode = interop.check_mode(mode)
        #: Error mitigation for every task this primitive runs (qtau.mitigation_options).
        self.mitigation = parse_mitigation(mitigation)
        if service is not None and executors is not None:
            raise PubError(
                "pass either executors or service, not both", field="executors", value=list(executors),
                fix="create the pilots on your service, or leave service out",
            )
        self.executors = interop.check_executors(executors)
        self._service = service
        self._seed = seed

    @property
    def seed(self) -> np.random.Generator | int | None:
        """The seed (or Generator) given: it seeds the simulators and the shot shuffle."""
        return self._seed

    @property
    def service(self) -> Any:
        """The service given, else the shared one for these executors (and seed)."""
        if self._service is not None:
            return self._service
        seed = self._seed if isinstance(self._seed, (int, np.integer)) else None
        return interop.shared_service(self.executors, seed=seed)

    def _new_rng(self) -> np.random.Generator:
        """The shuffle's generator for one run: the same for every run of one integer seed."""
        if isinstance(self._seed, np.random.Generator):
            return self._seed
        return np.random.default_rng(self._seed)

    def _task(self, circuit: QuantumCircuit, shots: int) -> QuantumTask:
        return QuantumTask(circuit=circuit, num_qubits=max(circuit.num_qubits, 1), shots=int(shots),
                           policy=self.mode, circuit_format="qiskit", mitigation=self.mitigation)

    def _samples(self, rng, counts: dict[str, int], width: int, shots: int) -> np.ndarray:
        """Per-shot bits (shots x width; column i is bit i) from QTAU counts, in random order."""
        keys = list(counts)
        reps = np.fromiter((counts[k] for k in keys), dtype=np.int64, count=len(keys))
        if int(reps.sum()) != shots:
            raise InvalidTaskError(
                f"a backend returned {int(reps.sum())} shots, {shots} were asked for", field="shots",
                value=shots, fix="report this backend's shot handling as a QTAU plugin bug",
            )
        bits = np.zeros((len(keys), width), dtype=bool)
        for row, key in enumerate(keys):
            for i in range(min(width, len(key))):
                bits[row, i] = key[-1 - i] == "1"
        return rng.permutation(np.repeat(bits, reps, axis=0))


def _summary(records: Sequence[dict]) -> dict[str, Any]:
    return {
        "resources": dict(Counter(r["resource"] for r in records)),
        "cost": sum(r["cost"] for r in records),
        "attempts": sum(len(r["attempts"]) for r in records),
    }


# -- Sampler ---------------------------------------------------------------------------------------


def _final_measurements(circuit: QuantumCircuit) -> dict[Any, int]:
    """Each classical bit a final measurement writes, and the qubit index it reads (the last
    measurement of a bit after which neither bit nor qubit is touched again, as Qiskit reads it)."""
    active_qubits = set(range(circuit.num_qubits))
    active_clbits = set(range(circuit.num_clbits))
    mapping: dict[Any, int] = {}
    for inst in reversed(circuit.data):
        if not active_clbits or not active_qubits:
            break
        if inst.operation.name == "measure":
            clbit = circuit.find_bit(inst.clbits[0]).index
            qubit = circuit.find_bit(inst.qubits[0]).index
            if clbit in active_clbits and qubit in active_qubits:
                mapping[circuit.clbits[clbit]] = qubit
                active_clbits.discard(clbit)
        elif inst.operation.name not in ("barrier", "delay"):
            active_qubits.difference_update(circuit.find_bit(q).index for q in inst.qubits)
    return mapping


def readout_plan(circuit: QuantumCircuit) -> tuple[QuantumCircuit, list[tuple[str, int, int | None]]]:
    """The circuit with its final measurements replaced by one flat register of the measured
    qubits, and for every bit of every original register where it is now (None: never measured,
    reads 0). Registers no measurement writes are kept as all-zero data, as Qiskit keeps them.
    A dynamic circuit (mid-circuit measurements, control flow) is run as written instead, its
    bits read where they are (`dynamic_plan`)."""
    final = _final_measurements(circuit)
    body = circuit.remove_final_measurements(inplace=False)
    if is_dynamic(body):  # measures mid-circuit or has control flow: runs as written
        return dynamic_plan(circuit)
    qubits = sorted(set(final.values()))
    position = {q: i for i, q in enumerate(qubits)}
    flat = QuantumCircuit(body.num_qubits, name=circuit.name, global_phase=body.global_phase)
    for inst in body.data:  # quantum operations only now: unmeasured registers stay behind
        flat.append(inst.operation, [body.find_bit(q).index for q in inst.qubits], copy=False)
    if qubits:
        flat.add_register(ClassicalRegister(len(qubits), "__qtau_meas"))
        flat.measure(qubits, range(len(qubits)))
        flat = on_qubits(flat, used_qubits(flat))  # an ISA circuit's idle device qubits left out
    plan = []
    for creg in circuit.cregs:
        for i, clbit in enumerate(creg):
            qubit = final.get(clbit)
            plan.append((creg.name, i, None if qubit is None else position[qubit]))
    return flat, plan


class QtauSampler(_QtauPrimitive, BaseSamplerV2):
    """Qiskit SamplerV2 on a QTAU service: each binding of each pub placed by QDREAMER.

    Args:
        executors: QTAU executors to make pilots for (default: every installed local simulator).
        mode: QDREAMER optimisation mode for these tasks (high_fidelity, high_speed, low_cost, balanced).
        service: an existing PilotComputeService to run on instead.
        default_shots: shots when neither the pub nor `run` names them.
        seed: seeds the shuffle that turns counts into per-shot bits.
        mitigation: error mitigation for every binding ("none", "auto", "readout", "trex", "zne", ...
            or a dict; docs/mitigation.md). The bits are then those of the probability
            distribution nearest the mitigated quasi-probabilities (in proportion, not drawn at
            random), and the pub's `metadata["mitigation"]` names the technique, its overhead and
            the unmitigated counts of each binding.
    """

    def __init__(self, *, executors=None, mode=None, service=None, default_shots: int = 1024, seed=None,
                 mitigation: Any = "none"):
        _check_shots(default_shots, "default_shots")
        super().__init__(executors, mode, service, seed, mitigation)
        self._default_shots = default_shots

    @property
    def default_shots(self) -> int:
        return self._default_shots

    def run(self, pubs: Iterable[Any], *, shots: int | None = None) -> PrimitiveJob:
        if shots is not None:
            _check_shots(shots, "shots")
        shots = self._default_shots if shots is None else shots
        pubs = list(pubs)
        for i, pub in enumerate(pubs):
            if _pub_entry(pub, 2) is not None:
                _check_shots(pub[2], f"pubs[{i}].shots")
        coerced = [_coerce(SamplerPub, pub, shots, i) for i, pub in enumerate(pubs)]
        if any(not pub.circuit.cregs for pub in coerced):
            warnings.warn(  # Qiskit's StatevectorSampler and BackendSamplerV2 warn with these words
                "One of your circuits has no output classical registers and so the result "
                "will be empty. Did you mean to add measurement instructions?",
                UserWarning, stacklevel=2,
            )
        plans: dict[int, tuple] = {}  # one plan per circuit object (1000 pubs of one circuit: one plan)
        prepared = []
        for pub in coerced:
            if id(pub.circuit) not in plans:
                plans[id(pub.circuit)] = readout_plan(pub.circuit)
            prepared.append((pub, *plans[id(pub.circuit)]))
        self.service  # noqa: B018 (make the service here: bad executors fail in run, not in result)
        job = PrimitiveJob(self._run, prepared)
        job._submit()
        return job

    def _run(self, prepared: list) -> PrimitiveResult:
        tasks, spans = [], []
        for pub, flat, _ in prepared:
            start = len(tasks)
            if flat.num_clbits:  # nothing measured: every register reads 0, no task to run
                tasks.extend(self._task(c, pub.shots) for c in _bound(pub, flat))
            spans.append((start, len(tasks)))
        results = interop.run_tasks(self.service, tasks)
        rng = self._new_rng()
        out, everything = [], []
        for (pub, flat, plan), (start, end) in zip(prepared, spans, strict=True):
            records = [interop.provenance(r) for r in results[start:end]]
            everything.extend(records)
            out.append(self._pub_result(rng, pub, flat, plan, results[start:end], records))
        return QtauPrimitiveResult(out, metadata={"version": 2}, qtau=_summary(everything))

    def _pub_result(self, rng, pub: SamplerPub, flat: QuantumCircuit, plan, results, records) -> SamplerPubResult:
        width = flat.num_clbits
        registers = {creg.name: creg.size for creg in pub.circuit.cregs}
        size = int(np.prod(pub.shape, dtype=int))
        bools = {name: np.zeros((size, pub.shots, bits), dtype=bool) for name, bits in registers.items()}
        for n, result in enumerate(results):
            samples = self._samples(rng, mitigated_counts(result), width, pub.shots)
            for name, bit, column in plan:
                if column is not None:
                    bools[name][n, :, bit] = samples[:, column]
        data = {
            name: BitArray.from_bool_array(array.reshape(pub.shape + (pub.shots, registers[name])), order="little")
            for name, array in bools.items()
        }
        metadata = {"shots": pub.shots, "circuit_metadata": pub.circuit.metadata}
        reports = [report(r) for r in results if report(r)]
        if reports:
            metadata["mitigation"] = {"technique": reports[0]["technique"], "auto": reports[0]["auto"],
                                      "overhead": summed([r["overhead"] for r in reports]),
                                      "unmitigated_counts": [dict(r.counts) for r in results]}
        return QtauSamplerPubResult(DataBin(**data, shape=pub.shape), metadata=metadata,
                                    qtau={**_summary(records), "tasks": records})


# -- Estimator -------------------------------------------------------------------------------------


def _measure_basis(circuit: QuantumCircuit, basis: Pauli) -> tuple[QuantumCircuit, list[int]]:
    """`circuit` rotated so `basis` reads out in Z, measuring its non-identity qubits in order."""
    qubits = [q for q in range(basis.num_qubits) if basis.z[q] or basis.x[q]]
    out = circuit.copy()
    for q in qubits:
        if basis.x[q] and basis.z[q]:
            out.rx(math.pi / 2, q)  # Y -> Z in one gate (sdg, h in two)
        elif basis.x[q]:
            out.h(q)
    out.add_register(ClassicalRegister(len(qubits), "__qtau_meas"))
    out.measure(qubits, range(len(qubits)))
    return out, qubits


def _bound(pub: SamplerPub, flat: QuantumCircuit) -> list[QuantumCircuit]:
    """The pub's circuit under each of its bindings, in order. A circuit without parameters is the
    same circuit for every binding: Qiskit's `bind_all` would copy it for each (1000 copies for
    1000 pubs of one Bell circuit, each a reference cycle of Qiskit's own that only the garbage
    collector's full passes free), and one object lets the conversions' per-object caches work."""
    if flat.num_parameters:
        return list(pub.parameter_values.bind_all(flat).reshape(-1))
    return [flat] * int(np.prod(pub.shape, dtype=int))


def _bindings(pub: EstimatorPub) -> tuple[np.ndarray, np.ndarray, dict[tuple, set[str]]]:
    """The pub's parameter indices and observables broadcast together, and the Pauli labels each
    parameter binding needs."""
    params = pub.parameter_values
    indices = np.fromiter(np.ndindex(params.shape), dtype=object).reshape(params.shape) \
        if params.shape else np.array(None, dtype=object)
    if not params.shape:
        indices[()] = ()
    bc_index, bc_obs = np.broadcast_arrays(indices, pub.observables)
    needed: dict[tuple, set[str]] = {}
    for index in np.ndindex(*bc_index.shape):
        needed.setdefault(bc_index[index], set()).update(bc_obs[index])
    return bc_index, bc_obs, needed


def _check_no_classical_use(circuit: QuantumCircuit, position: int) -> None:
    """PubError for an estimator circuit with an instruction that writes or reads classical bits
    (a measurement, a condition): an expectation value is of the state before any measurement, and
    StatevectorEstimator refuses such circuits too. Classical bits that are only declared
    (`QuantumCircuit(2, 2)` without measurements) are accepted, as Qiskit's estimators accept them."""
    for instruction in circuit.data:
        if instruction.clbits or instruction.operation.name == "measure":
            name = instruction.operation.name
            raise PubError(
                f"QtauEstimator circuits must not measure or use classical bits: this one has '{name}' "
                "(an expectation value is of the state before any measurement; StatevectorEstimator "
                "refuses such circuits too)",
                field=f"pubs[{position}].circuit", value=circuit.name,
                fix="remove the measurements (e.g. circuit.remove_final_measurements()): the estimator "
                "measures each observable itself",
            )


class QtauEstimator(_QtauPrimitive, BaseEstimatorV2):
    """Qiskit EstimatorV2 on a QTAU service: Pauli expectation values from sampled counts.

    Each binding's Pauli terms are grouped qubit-wise commuting; each group is one QuantumTask of
    `ceil(1 / precision**2)` shots placed by QDREAMER. `stds` follow BackendEstimatorV2.

    `precision=0` asks for exact expectation values, which no sampling resource gives: such a pub
    is computed in this process by Qiskit's StatevectorEstimator (with this estimator's seed), not
    placed by QDREAMER, and its `qtau` provenance says `"exact": True`. With `exact=False` precision
    0 is refused with a ValueError, as BackendEstimatorV2 refuses it: every value then comes from
    shots on a resource QDREAMER placed.

    `cutting`: "auto" (the default) cuts a circuit wider than every resource of the service into
    pieces that fit (`qtau.cutting`; needs qiskit-addon-cutting), False never cuts, True or a dict of
    cut options (`max_width`, `max_overhead`, ...) always plans cuts. A cut pub runs
    `ceil(1 / precision**2)` shots per subexperiment; its `stds` are the reconstruction's bootstrap
    errors and its `qtau` provenance carries the plan (`"cut"`).

    `mitigation` ("none", "auto", "readout", "trex", "zne", ... or a dict; docs/mitigation.md) is
    applied to every task: `evs` are then the mitigated values, and each pub's
    `metadata["mitigation"]` names the technique, its overhead and the unmitigated values.
    """

    def __init__(self, *, executors=None, mode=None, service=None, default_precision: float = DEFAULT_PRECISION,
                 seed=None, exact: bool = True, cutting: Any = "auto", mitigation: Any = "none"):
        _check_precision(default_precision, "default_precision", bool(exact))
        super().__init__(executors, mode, service, seed, mitigation)
        self._default_precision = default_precision
        self._exact = bool(exact)
        cut_options(cutting)  # a bad value fails here, where it was written
        self._cutting = cutting

    @property
    def default_precision(self) -> float:
        return self._default_precision

    def run(self, pubs: Iterable[Any], *, precision: float | None = None) -> PrimitiveJob:
        if precision is not None:
            _check_precision(precision, "precision", self._exact)
        precision = self._default_precision if precision is None else precision
        pubs = list(pubs)
        for i, pub in enumerate(pubs):
            if _pub_entry(pub, 3) is not None:
                _check_precision(pub[3], f"pubs[{i}].precision", self._exact)
        coerced = [_coerce(EstimatorPub, pub, precision, i) for i, pub in enumerate(pubs)]
        for i, pub in enumerate(coerced):
            _check_precision(pub.precision, f"pubs[{i}].precision", self._exact)
            _check_no_classical_use(pub.circuit, i)
            if pub.circuit.num_clbits:
                coerced[i] = EstimatorPub(without_clbits(pub.circuit), pub.observables, pub.parameter_values,
                                          pub.precision, validate=False)
            coerced[i] = estimator_pub_on_used_qubits(coerced[i])  # an ISA circuit's idle device qubits left out
        self.service  # noqa: B018 (make the service here: bad executors fail in run, not in result)
        job = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs: list[EstimatorPub]) -> PrimitiveResult:
        cut = [pub.precision > 0 and self._needs_cut(pub) for pub in pubs]
        sampled, everything = self._run_sampled([p for p, c in zip(pubs, cut, strict=True) if p.precision > 0 and not c])
        exact = iter(self._run_exact([pub for pub in pubs if pub.precision == 0]))
        out = []
        for pub, cutting in zip(pubs, cut, strict=True):
            if cutting:
                result, records = self._run_cut(pub)
                everything.extend(records)
                out.append(result)
            else:
                out.append(next(exact) if pub.precision == 0 else sampled.pop(0))
        return QtauPrimitiveResult(out, metadata={"version": 2}, qtau=_summary(everything))

    def _needs_cut(self, pub: EstimatorPub) -> bool:
        """Whether `pub` goes through `qtau.cutting`: always with cutting on, with "auto" when its
        circuit is wider than every resource of the service."""
        if self._cutting is False or self._cutting == "never":
            return False
        if self._cutting == "auto" or self._cutting is None:
            widest = max((r.num_qubits for r in self.service.quantum_resources.values()), default=0)
            return pub.circuit.num_qubits > widest
        return True

    def _run_cut(self, pub: EstimatorPub) -> tuple[PubResult, list[dict]]:
        """One pub through `qtau.cutting.run_cut`, one cut run per parameter binding."""
        shots = math.ceil(1.0 / pub.precision**2)
        params = pub.parameter_values
        bc_index, bc_obs, needed = _bindings(pub)
        values: dict[tuple, tuple[float, float]] = {}
        records, plans = [], []
        seed = self._seed if isinstance(self._seed, (int, np.integer)) else None
        for param_index, labels in needed.items():
            labels = sorted(labels)
            done = run_cut(self.service, params.bind(pub.circuit, param_index), labels, shots=shots,
                           cut=self._cutting, seed=seed)
            for label, value, error in zip(labels, done.values, done.standard_errors, strict=True):
                values[param_index, label] = (value, error)
            records.extend(interop.provenance(r) for r in done.results)
            plans.append({"cuts": done.plan.num_cuts, "sampling_overhead": done.plan.sampling_overhead,
                          "subexperiments": done.plan.num_circuits, "width": done.plan.width,
                          "resources": done.resources})
        evs = np.zeros(bc_index.shape, dtype=float)
        variance = np.zeros(bc_index.shape, dtype=float)
        for index in np.ndindex(*bc_index.shape):
            for label, coeff in bc_obs[index].items():
                value, error = values[bc_index[index], label]
                evs[index] += value * coeff
                variance[index] += (coeff * error) ** 2
        metadata = {"target_precision": pub.precision, "shots": shots, "circuit_metadata": pub.circuit.metadata}
        result = QtauPubResult(DataBin(evs=evs, stds=np.sqrt(variance), shape=evs.shape), metadata=metadata,
                               qtau={**_summary(records), "tasks": records, "cut": plans})
        return result, records

    def _run_exact(self, pubs: list[EstimatorPub]) -> list[PubResult]:
        """Exact expectation values of precision-0 pubs from Qiskit's StatevectorEstimator."""
        if not pubs:
            return []
        from qiskit.primitives import StatevectorEstimator

        done = StatevectorEstimator(seed=self._seed).run(pubs).result()
        provenance = {"resources": {}, "cost": 0.0, "attempts": 0, "tasks": [], "exact": True}
        return [QtauPubResult(r.data, metadata=r.metadata, qtau=dict(provenance)) for r in done]

    def _run_sampled(self, pubs: list[EstimatorPub]) -> tuple[list[PubResult], list[dict]]:
        tasks, plans = [], []
        for pub in pubs:
            shots = math.ceil(1.0 / pub.precision**2)
            params = pub.parameter_values
            bc_index, bc_obs, needed = _bindings(pub)
            groups = []
            for param_index, labels in needed.items():
                bound = params.bind(pub.circuit, param_index)
                for group in PauliList(sorted(labels)).group_commuting(qubit_wise=True):
                    basis = Pauli((np.logical_or.reduce(group.z), np.logical_or.reduce(group.x)))
                    circuit, qubits = _measure_basis(bound, basis)
                    slot = len(tasks) if qubits else None
                    if qubits:
                        tasks.append(self._task(circuit, shots))
                    groups.append((param_index, group, qubits, slot))
            plans.append((pub, shots, bc_index, bc_obs, groups))
        results = interop.run_tasks(self.service, tasks)
        rng = self._new_rng()
        out, everything = [], []
        for pub, shots, bc_index, bc_obs, groups in plans:
            expvals: dict[tuple, tuple[float, float, float]] = {}
            used = []
            for param_index, group, qubits, slot in groups:
                samples = quasi = None
                if slot is not None:
                    used.append(results[slot])
                    samples = self._samples(rng, results[slot].counts, len(qubits), shots)
                    found = report(results[slot])
                    quasi = found["quasi_probabilities"] if found else None
                for pauli in group:
                    support = [k for k, q in enumerate(qubits) if pauli.z[q] or pauli.x[q]]
                    if samples is None or not support:
                        ev = raw = 1.0
                    else:
                        parity = np.logical_xor.reduce(samples[:, support], axis=1)
                        ev = raw = float(1.0 - 2.0 * parity.mean())
                        if quasi is not None:  # the mitigated value; the sampled one stays beside it
                            ev = z_expectation(quasi, sum(1 << k for k in support))
                    label = pauli.to_label().lstrip("-i")
                    expvals[param_index, label] = (ev, max(1.0 - raw * raw, 0.0), raw)
            evs = np.zeros(bc_index.shape, dtype=float)
            raw_evs = np.zeros(bc_index.shape, dtype=float)
            spread = np.zeros(bc_index.shape, dtype=float)
            for index in np.ndindex(*bc_index.shape):
                for label, coeff in bc_obs[index].items():
                    ev, var, raw = expvals[bc_index[index], label]
                    evs[index] += ev * coeff
                    raw_evs[index] += raw * coeff
                    spread[index] += abs(coeff) * var**0.5
            records = [interop.provenance(r) for r in used]
            everything.extend(records)
            metadata = {"target_precision": pub.precision, "shots": shots, "circuit_metadata": pub.circuit.metadata}
            reports = [report(r) for r in used if report(r)]
            if reports:
                # Which technique ran, what the pub's tasks ran for it together (stds are the
                # unmitigated sampling's), and the unmitigated values beside the mitigated `evs`.
                metadata["mitigation"] = {"technique": reports[0]["technique"], "auto": reports[0]["auto"],
                                          "overhead": summed([r["overhead"] for r in reports]),
                                          "unmitigated_evs": raw_evs}
            out.append(QtauPubResult(DataBin(evs=evs, stds=spread / np.sqrt(shots), shape=evs.shape),
                                     metadata=metadata, qtau={**_summary(records), "tasks": records}))
        return out, everything
