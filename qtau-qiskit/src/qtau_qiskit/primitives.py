"""`QtauSampler` (BaseSamplerV2) and `QtauEstimator` (BaseEstimatorV2): Qiskit primitives whose
circuits QDREAMER places on any installed QTAU resource.

    sampler = QtauSampler()                                   # every installed local simulator
    sampler = QtauSampler(executors=["qiskit_local", "braket_local", "pennylane_lightning"])
    result = sampler.run([(circuit, parameter_values)], shots=1000).result()
    result[0].data.alpha                                      # a BitArray per classical register
    result[0].metadata["qtau"]                                # where each binding ran, attempts, cost

Each binding of each pub becomes one `QuantumTask`; every task of a `run` call goes to the service
in one `submit_quantum_tasks` batch, so QDREAMER places each one (Aer, Braket's local simulator,
PennyLane devices...), fails over, and runs the tasks bound for one resource as one backend batch.
Results have exactly the shapes of Qiskit's reference primitives (`StatevectorSampler`,
`StatevectorEstimator`): a `DataBin` of the pub's shape holding one `BitArray` per classical
register (Sampler), or `evs`/`stds` (Estimator).

Sampler circuits are read out as every backend reads them: final measurements are replaced by one
flat register of the measured qubits (as StatevectorSampler does); unmeasured bits read 0.
Mid-circuit measurements and classical control are refused, as StatevectorSampler refuses them.
The Estimator estimates from shots (`ceil(1 / precision**2)` per Pauli group, as
BackendEstimatorV2 does); precision 0 (exact) does not exist on a sampling service.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from qiskit.circuit import ClassicalRegister, QuantumCircuit
from qiskit.primitives import BaseEstimatorV2, BaseSamplerV2, PrimitiveJob
from qiskit.primitives.containers import (
    BitArray,
    DataBin,
    PrimitiveResult,
    PubResult,
    SamplerPubResult,
)
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.quantum_info import Pauli, PauliList
from qtau import interop
from qtau.errors import InvalidTaskError
from qtau.types import QuantumTask

#: BackendEstimatorV2's default: 4096 shots per Pauli group.
DEFAULT_PRECISION = 0.015625


class PubError(InvalidTaskError, ValueError):
    """A pub the QTAU primitives cannot run: a QtauError, and the ValueError Qiskit documents."""


def _coerce(kind: type, pub: Any, value: Any, position: int) -> Any:
    try:
        coerced = kind.coerce(pub, value)
        coerced.validate()
    except PubError:
        raise
    except (ValueError, TypeError) as err:
        raise PubError(
            f"pub {position} is invalid: {err}", field=f"pubs[{position}]", value=type(pub).__name__,
            fix="give each parameter value set one number per circuit parameter "
            "(shape (..., circuit.num_parameters)), and observables that broadcast against it",
        ) from err
    return coerced


class _QtauPrimitive:
    """The service, QDREAMER mode and provenance shared by both primitives."""

    def __init__(self, executors, mode, service, seed) -> None:
        self.mode = interop.check_mode(mode)
        if service is not None and executors is not None:
            raise PubError(
                "pass either executors or service, not both", field="executors", value=list(executors),
                fix="create the pilots on your service, or leave service out",
            )
        self.executors = interop.check_executors(executors)
        self._service = service
        self._rng = np.random.default_rng(seed)

    @property
    def service(self) -> Any:
        if self._service is None:
            self._service = interop.shared_service(self.executors)
        return self._service

    def _task(self, circuit: QuantumCircuit, shots: int) -> QuantumTask:
        return QuantumTask(circuit=circuit, num_qubits=max(circuit.num_qubits, 1), shots=int(shots),
                           policy=self.mode, circuit_format="qiskit")

    def _samples(self, counts: dict[str, int], width: int, shots: int) -> np.ndarray:
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
        return self._rng.permutation(np.repeat(bits, reps, axis=0))


def _summary(records: Sequence[dict]) -> dict[str, Any]:
    return {
        "resources": dict(Counter(r["resource"] for r in records)),
        "cost": sum(r["cost"] for r in records),
        "attempts": sum(len(r["attempts"]) for r in records),
    }


# -- Sampler ---------------------------------------------------------------------------------------


def readout_plan(circuit: QuantumCircuit) -> tuple[QuantumCircuit, list[tuple[str, int, int | None]]]:
    """The circuit with its final measurements replaced by one flat register of the measured
    qubits, and for every bit of every original register where it is now (None: never measured)."""
    clbit_qubit: dict[Any, Any] = {}
    for inst in circuit.data:
        if inst.operation.name == "measure":
            clbit_qubit[inst.clbits[0]] = inst.qubits[0]
    body = circuit.remove_final_measurements(inplace=False)
    names = {inst.operation.name for inst in body.data}
    if "measure" in names or body.num_clbits or any(getattr(i.operation, "blocks", None) for i in body.data):
        raise PubError(
            "QtauSampler runs circuits whose measurements are all final, without classical control",
            field="circuit", value=circuit.name,
            fix="move measurements to the end and remove if_test/while_loop blocks (as for StatevectorSampler)",
        )
    qubits = sorted({circuit.find_bit(q).index for q in clbit_qubit.values()})
    position = {q: i for i, q in enumerate(qubits)}
    flat = QuantumCircuit(body.num_qubits, name=circuit.name, global_phase=body.global_phase)
    flat.compose(body, qubits=range(body.num_qubits), inplace=True)
    if qubits:
        flat.add_register(ClassicalRegister(len(qubits), "__qtau_meas"))
        flat.measure(qubits, range(len(qubits)))
    plan = []
    for creg in circuit.cregs:
        for i, clbit in enumerate(creg):
            qubit = clbit_qubit.get(clbit)
            plan.append((creg.name, i, None if qubit is None else position[circuit.find_bit(qubit).index]))
    return flat, plan


class QtauSampler(_QtauPrimitive, BaseSamplerV2):
    """Qiskit SamplerV2 on a QTAU service: each binding of each pub placed by QDREAMER.

    Args:
        executors: QTAU executors to make pilots for (default: every installed local simulator).
        mode: QDREAMER optimisation mode for these tasks (high_fidelity, high_speed, low_cost, balanced).
        service: an existing PilotComputeService to run on instead.
        default_shots: shots when neither the pub nor `run` names them.
        seed: seeds the shuffle that turns counts into per-shot bits.
    """

    def __init__(self, *, executors=None, mode=None, service=None, default_shots: int = 1024, seed=None):
        super().__init__(executors, mode, service, seed)
        self._default_shots = default_shots

    @property
    def default_shots(self) -> int:
        return self._default_shots

    def run(self, pubs: Iterable[Any], *, shots: int | None = None) -> PrimitiveJob:
        shots = self._default_shots if shots is None else shots
        coerced = [_coerce(SamplerPub, pub, shots, i) for i, pub in enumerate(pubs)]
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
            bound = pub.parameter_values.bind_all(flat)
            start = len(tasks)
            tasks.extend(self._task(c, pub.shots) for c in bound.reshape(-1))
            spans.append((start, len(tasks)))
        results = interop.run_tasks(self.service, tasks)
        out, everything = [], []
        for (pub, flat, plan), (start, end) in zip(prepared, spans, strict=True):
            records = [interop.provenance(r) for r in results[start:end]]
            everything.extend(records)
            out.append(self._pub_result(pub, flat, plan, results[start:end], records))
        return PrimitiveResult(out, metadata={"version": 2, "qtau": _summary(everything)})

    def _pub_result(self, pub: SamplerPub, flat: QuantumCircuit, plan, results, records) -> SamplerPubResult:
        width = flat.num_clbits
        registers = {creg.name: creg.size for creg in pub.circuit.cregs}
        bools = {name: np.zeros((len(results), pub.shots, size), dtype=bool) for name, size in registers.items()}
        for n, result in enumerate(results):
            samples = self._samples(result.counts, width, pub.shots)
            for name, bit, column in plan:
                if column is not None:
                    bools[name][n, :, bit] = samples[:, column]
        data = {
            name: BitArray.from_bool_array(array.reshape(pub.shape + (pub.shots, registers[name])), order="little")
            for name, array in bools.items()
        }
        metadata = {"shots": pub.shots, "circuit_metadata": pub.circuit.metadata,
                    "qtau": {**_summary(records), "tasks": records}}
        return SamplerPubResult(DataBin(**data, shape=pub.shape), metadata=metadata)


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


class QtauEstimator(_QtauPrimitive, BaseEstimatorV2):
    """Qiskit EstimatorV2 on a QTAU service: Pauli expectation values from sampled counts.

    Each binding's Pauli terms are grouped qubit-wise commuting; each group is one QuantumTask of
    `ceil(1 / precision**2)` shots placed by QDREAMER. `stds` follow BackendEstimatorV2.
    """

    def __init__(self, *, executors=None, mode=None, service=None, default_precision: float = DEFAULT_PRECISION,
                 seed=None):
        super().__init__(executors, mode, service, seed)
        self._default_precision = default_precision

    @property
    def default_precision(self) -> float:
        return self._default_precision

    def run(self, pubs: Iterable[Any], *, precision: float | None = None) -> PrimitiveJob:
        precision = self._default_precision if precision is None else precision
        coerced = [_coerce(EstimatorPub, pub, precision, i) for i, pub in enumerate(pubs)]
        for i, pub in enumerate(coerced):
            if not pub.precision or pub.precision <= 0:
                raise PubError(
                    "QtauEstimator estimates from shots: precision must be positive", field=f"pubs[{i}].precision",
                    value=pub.precision, fix="pass precision=0.01 (10,000 shots per Pauli group), for example",
                )
            if pub.circuit.num_clbits or any(i.operation.name == "measure" for i in pub.circuit.data):
                raise PubError(
                    "QtauEstimator circuits must not measure or hold classical bits", field=f"pubs[{i}].circuit",
                    value=pub.circuit.name, fix="remove measurements: the estimator adds its own",
                )
        self.service  # noqa: B018 (make the service here: bad executors fail in run, not in result)
        job = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs: list[EstimatorPub]) -> PrimitiveResult:
        tasks, plans = [], []
        for pub in pubs:
            shots = math.ceil(1.0 / pub.precision**2)
            params = pub.parameter_values
            indices = np.fromiter(np.ndindex(params.shape), dtype=object).reshape(params.shape) \
                if params.shape else np.array(None, dtype=object)
            if not params.shape:
                indices[()] = ()
            bc_index, bc_obs = np.broadcast_arrays(indices, pub.observables)
            needed: dict[tuple, set[str]] = {}
            for index in np.ndindex(*bc_index.shape):
                needed.setdefault(bc_index[index], set()).update(bc_obs[index])
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
        out, everything = [], []
        for pub, shots, bc_index, bc_obs, groups in plans:
            expvals: dict[tuple, tuple[float, float]] = {}
            used = []
            for param_index, group, qubits, slot in groups:
                samples = None
                if slot is not None:
                    used.append(results[slot])
                    samples = self._samples(results[slot].counts, len(qubits), shots)
                for pauli in group:
                    support = [k for k, q in enumerate(qubits) if pauli.z[q] or pauli.x[q]]
                    if samples is None or not support:
                        ev = 1.0
                    else:
                        parity = np.logical_xor.reduce(samples[:, support], axis=1)
                        ev = float(1.0 - 2.0 * parity.mean())
                    label = pauli.to_label().lstrip("-i")
                    expvals[param_index, label] = (ev, max(1.0 - ev * ev, 0.0))
            evs = np.zeros(bc_index.shape, dtype=float)
            spread = np.zeros(bc_index.shape, dtype=float)
            for index in np.ndindex(*bc_index.shape):
                for label, coeff in bc_obs[index].items():
                    ev, var = expvals[bc_index[index], label]
                    evs[index] += ev * coeff
                    spread[index] += abs(coeff) * var**0.5
            records = [interop.provenance(r) for r in used]
            everything.extend(records)
            metadata = {"target_precision": pub.precision, "shots": shots,
                        "circuit_metadata": pub.circuit.metadata, "qtau": {**_summary(records), "tasks": records}}
            out.append(PubResult(DataBin(evs=evs, stds=spread / np.sqrt(shots), shape=evs.shape), metadata=metadata))
        return PrimitiveResult(out, metadata={"version": 2, "qtau": _summary(everything)})
