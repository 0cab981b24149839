"""`qtau.qubit`: a PennyLane device whose tapes QDREAMER places on any installed QTAU resource.

    dev = qml.device("qtau.qubit", wires=4, mode="high_speed")
    dev = qml.device("qtau.qubit", wires=2, executors=["qiskit_local", "braket_local"])
    dev = qml.device("qtau.qubit", wires=2, service=pcs)   # an existing PilotComputeService
    circuit = qml.set_shots(qml.QNode(body, dev), 1000)    # shots on the QNode (PennyLane 0.45)

Registered through PennyLane's `pennylane.plugins` entry point (this module imports PennyLane;
QTAU's own entry point, `qtau_pennylane.plugin`, still does not).

How a QNode runs: PennyLane's preprocessing, declared as data in `qtau_qubit.toml` plus the
program below, leaves tapes whose gates every resource runs (OpenQASM 2 standard gates) and whose
only measurement is `qml.sample` of wires in the computational basis (observables
rotated, non-commuting groups split, mid-circuit measurements deferred, postselection and
variances of sums rewritten by `measurement_rewrites`). `execute` turns each tape
into a `QuantumTask` and submits the whole batch with `submit_quantum_tasks`: QDREAMER chooses a
resource per tape, fails over, and runs tapes bound for one resource as one backend batch. Counts
come back in QTAU's bit order and become PennyLane samples in PennyLane's wire order;
PennyLane's own post-processing turns them into expval/var/probs/counts/sample. Gradients: the
device computes none itself, so QNodes differentiate by parameter-shift.

Provenance: every tape's QTAU record (resource, attempts, cost, conversion path) goes to the
device tracker (`with qml.Tracker(dev) as t: ...; t.history["qtau"]`) and to `dev.last_provenance`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pennylane as qml
from pennylane.devices import Device, ExecutionConfig
from pennylane.devices.preprocess import (
    decompose,
    device_resolve_dynamic_wires,
    measurements_from_samples,
    validate_device_wires,
    validate_measurements,
)
from pennylane.exceptions import DeviceError
from pennylane.measurements import SampleMeasurement
from pennylane.tape import QuantumScript
from pennylane.transforms import (
    broadcast_expand,
    defer_measurements,
    diagonalize_measurements,
    split_non_commuting,
)
from pennylane.transforms.core import CompilePipeline
from qtau import interop
from qtau.cutting import cut_options
from qtau.errors import ConfigurationError, NoSuitableResourceError
from qtau.mitigation import mitigated_counts, report
from qtau.mitigation_options import parse_mitigation
from qtau.types import QuantumTask

from qtau_pennylane import known_wires, zwords
from qtau_pennylane.cut_tapes import can_cut, cut_wide_tapes
from qtau_pennylane.device_errors import (
    AnalyticModeError,
    QtauDeviceError,
    UnsupportedMeasurementError,  # noqa: F401 (re-exported: every error of qtau.qubit is in this module)
    UnsupportedOperationError,
    WiresUnavailableError,
)
from qtau_pennylane.measurement_rewrites import (
    postselect_on_samples,
    refuse_shadows,
    variance_of_sums,
)
from qtau_pennylane.threads import PENNYLANE

#: Operations dropped before a tape leaves: they change no measured probability.
NO_EFFECT = frozenset({"GlobalPhase", "Identity", "Barrier", "Snapshot"})


@qml.transform
def require_shots(tape: QuantumScript):
    """AnalyticModeError for a tape that measures without shots, before anything runs.

    A state measurement (`qml.state()`, `qml.density_matrix`) is analytic whatever the QNode's
    shots: PennyLane gives the tape of a `qml.Snapshot` without a measurement (under
    `qml.snapshots`) `shots=None` and `qml.state()`, so that case gets its own message."""
    from pennylane.measurements import StateMP

    if tape.shots or not tape.measurements:
        return (tape,), lambda results: results[0]
    if any(isinstance(m, StateMP) for m in tape.measurements):
        raise AnalyticModeError(
            "qtau.qubit only samples, so it cannot return a state: qml.state() (which a qml.Snapshot "
            "without a measurement asks for, analytically, whatever the QNode's shots) needs analytic mode",
            field="shots", value=None,
            fix="give the snapshot a sampled measurement, e.g. qml.Snapshot('tag', measurement=qml.probs(wires=[0, 1])), "
            "return qml.probs/qml.sample instead of qml.state(), or use default.qubit for states",
        )
    raise AnalyticModeError(
        "qtau.qubit only samples: analytic mode (shots=None) is not supported",
        field="shots", value=None,
        fix="set shots on the QNode: decorate it with @qml.set_shots(1000) or call "
        "qml.set_shots(qnode, shots=1000) (PennyLane 0.45 deprecates shots on the device)",
    )


@qml.transform
def rotate_other_observables(tape: QuantumScript):
    """Observables `diagonalize_measurements` leaves alone (Hermitian, state projectors, products
    holding them) rotated into the computational basis, as default.qubit samples them: their
    diagonalizing gates go on the tape and the measurement reads the observable's eigenvalues.
    `split_non_commuting` has already put observables that share wires differently on tapes of
    their own; an observable measured twice (expval and var of it) is rotated once."""
    from pennylane.measurements import ProbabilityMP

    ops, measurements, rotated = list(tape.operations), [], []
    for m in tape.measurements:
        obs = m.obs
        if obs is not None and obs.pauli_rep is None and obs.diagonalizing_gates():
            if not any(qml.equal(obs, done) for done in rotated):
                ops.extend(obs.diagonalizing_gates())
                rotated.append(obs)
            m = ProbabilityMP(wires=obs.wires) if isinstance(m, ProbabilityMP) else type(m)(
                eigvals=obs.eigvals(), wires=obs.wires)
        measurements.append(m)
    if not rotated:
        return (tape,), lambda results: results[0]
    return (tape.copy(operations=ops, measurements=measurements),), lambda results: results[0]


def _z_diagonal(obs) -> bool:
    """True when `obs` is a sum/product of Pauli words made of Z and I only, each acting on some
    wire (already diagonal; an identity on no wires is left to PennyLane's own transforms)."""
    rep = obs.pauli_rep
    return rep is not None and all(word and all(p in ("Z", "I") for p in word.values()) for word in rep)


@qml.transform
def split_when_needed(tape: QuantumScript):
    """PennyLane's `split_non_commuting`, skipped for a tape with one measurement of no
    observable, one Pauli word or Z words only (most gradient tapes): nothing to split there, and
    the grouping pass costs more than the simulation of a small circuit. A sum of non-commuting
    words is still split."""
    if len(tape.measurements) == 1:
        obs = tape.measurements[0].obs
        rep = None if obs is None else obs.pauli_rep
        if obs is None or rep is not None and (len(rep) == 1 and all(rep) or _z_diagonal(obs)):
            return (tape,), lambda results: results[0]
    return split_non_commuting(tape)


@qml.transform
def diagonalize_when_needed(tape: QuantumScript):
    """PennyLane's `diagonalize_measurements`, skipped when every observable is already diagonal
    in the computational basis (Z words, or no observable at all)."""
    if all(m.obs is None or _z_diagonal(m.obs) for m in tape.measurements):
        return (tape,), lambda results: results[0]
    return diagonalize_measurements(tape)


@qml.transform
def samples_from_measurements(tape: QuantumScript):
    """PennyLane's `measurements_from_samples` for tapes whose observables are already diagonal
    (Z words, or none): one `qml.sample` of the tape's wires, each original measurement computed
    from the samples afterwards (expval/var of Z words by `zwords`, the rest by PennyLane's own
    `process_samples`), without the transform's second diagonalisation pass and operator copies.
    Sampling every wire of the tape, in the tape's order, gives the new tape the same wires, so
    they are handed over instead of recomputed (`known_wires`). Any other tape goes through
    PennyLane's transform."""
    if not tape.shots:
        return (tape,), lambda results: results[0]
    if not all(getattr(m, "mv", None) is None and (m.obs is None and len(m.wires) or m.obs is not None
               and _z_diagonal(m.obs)) for m in tape.measurements):
        return measurements_from_samples(tape)
    wires = tape.wires
    new_tape = known_wires.with_wires(
        QuantumScript(tape.operations, [qml.sample(wires=wires)], shots=tape.shots), wires)
    readers = [zwords.reader(m, wires) for m in tape.measurements]

    def values_of(samples):
        values = [read(samples) for read in readers]
        return values[0] if len(readers) == 1 else values

    def from_samples(results):
        samples = results[0]
        if tape.shots.has_partitioned_shots:
            return [values_of(part) for part in samples]
        return values_of(samples)

    return (new_tape,), from_samples


#: Dynamic wire allocation: resolved onto spare device wires after decomposition.
WIRE_MANAGEMENT = frozenset({"Allocate", "Deallocate"})


def _decomposition(op):
    """PennyLane's decomposition of `op`; an operation with a matrix but no decomposition (e.g.
    BlockEncode) becomes a QubitUnitary, which PennyLane decomposes into rotations and CNOTs."""
    if op.has_decomposition:
        return op.decomposition()
    if op.has_matrix:
        return [qml.QubitUnitary(op.matrix(), wires=op.wires)]
    return op.decomposition()  # raises DecompositionUndefinedError, reported by decompose


@qml.transform
def decompose_for_qtau(tape: QuantumScript, target_gates: frozenset, device_wires=None):
    """PennyLane's `decompose` to the gates every resource runs; failures as UnsupportedOperationError."""
    try:
        return decompose(tape, target_gates=target_gates | WIRE_MANAGEMENT,
                         stopping_condition=lambda op: op.name in target_gates or op.name in WIRE_MANAGEMENT,
                         decomposer=_decomposition, device_wires=device_wires, skip_initial_state_prep=False,
                         name="qtau.qubit")
    except DeviceError as err:
        text = str(err.args[0]) if err.args else ""
        raise UnsupportedOperationError(
            f"{text} QTAU's resources run only the gates in qtau_qubit.toml, reached by decomposition",
            field="operation", value=text.split(" not supported")[0].removeprefix("Operator "),
            fix="give the operation a decomposition or a matrix, or use a device that runs it natively",
        ) from err


class QtauQubitDevice(Device):
    """PennyLane qubit device backed by a QTAU PilotComputeService and QDREAMER.

    Args:
        wires: number of wires or their labels (None: the tape's own wires).
        shots: shots per execution (qtau.qubit only samples; a shot vector works too). PennyLane
            0.45 deprecates shots on the device: set them on the QNode with `qml.set_shots`.
        executors: QTAU executor names to make pilots for (default: every installed local
            simulator, see `qtau.interop.LOCAL_SIMULATORS`). Ignored when `service` is given.
        mode: QDREAMER optimisation mode for this device's tasks (high_fidelity, high_speed,
            low_cost, balanced); default: the service's own.
        service: an existing `PilotComputeService` whose pilots run the tapes.
        seed: seeds the shuffle that turns counts into per-shot samples.
        cutting: "auto" (default) runs a tape wider than every resource, measuring expectation
            values of Pauli sums, through QTAU's circuit cutting (`qtau_pennylane.cut_tapes`);
            False refuses such a device; True or a dict of cut options cuts every such tape.
        mitigation: error mitigation for every tape ("none", "auto", "readout", "trex", "zne", ...
            or a dict; docs/mitigation.md). Samples are then drawn from the probability
            distribution nearest the mitigated quasi-probabilities (in proportion, not at random),
            and each tape's provenance names the technique, its overhead and the raw counts.
    """

    name = "qtau.qubit"
    config_filepath = os.path.join(os.path.dirname(__file__), "qtau_qubit.toml")

    def __init__(self, wires=None, shots=None, executors=None, mode=None, service=None, seed=None,
                 cutting="auto", mitigation="none"):
        super().__init__(wires=wires, shots=shots)
        self.cutting = cutting
        cut_options(cutting)  # a bad value fails here, where it was written
        self.last_cuts: list[dict[str, Any]] = []
        self.mode = interop.check_mode(mode)
        self.mitigation = parse_mitigation(mitigation)
        if service is not None and executors is not None:
            raise ConfigurationError(
                "pass either executors or service, not both", field="executors", value=list(executors),
                fix="create the pilots on your service, or leave service out to let qtau.qubit make them",
            )
        if service is not None and not hasattr(service, "submit_quantum_tasks"):
            raise ConfigurationError(
                f"service must be a qtau.PilotComputeService, not {type(service).__name__}",
                field="service", value=type(service).__name__, fix="pass service=PilotComputeService(...)",
            )
        self.executors = interop.check_executors(executors)
        self.service = service if service is not None else interop.shared_service(self.executors)
        self._rng = np.random.default_rng(seed)
        self.last_provenance: list[dict[str, Any]] = []
        if self.wires is not None and (self.cutting is False or not can_cut()):
            self._check_width(len(self.wires))

    def _check_width(self, width: int) -> None:
        widest = interop.max_width(self.service)
        if width > widest:
            offered = ", ".join(f"{r.id} ({r.num_qubits})" for r in interop.resources_of(self.service))
            raise WiresUnavailableError(
                f"qtau.qubit has {width} wires but no resource of its pilots has more than {widest} qubits",
                field="wires", value=width,
                fix=f"use at most {widest} wires, or add a pilot with more qubits (offered: {offered})"
                + ("" if can_cut() else "; or pip install 'qtau-core[cutting]' to cut wider circuits"),
            )

    # -- preprocessing ---------------------------------------------------------------------------

    def setup_execution_config(self, config: ExecutionConfig | None = None, circuit=None) -> ExecutionConfig:
        config = config or ExecutionConfig()
        method = config.mcm_config.mcm_method
        if method not in (None, "deferred"):
            raise QtauDeviceError(
                f"qtau.qubit does not support mid-circuit measurement method {method!r}",
                field="mcm_method", value=method, fix="use mcm_method='deferred' (the default)",
            )
        mode = config.mcm_config.postselect_mode
        mode = getattr(mode, "value", mode)  # PennyLane's POSTSELECT_MODE enum, or its string
        if mode not in (None, "hw-like"):
            raise QtauDeviceError(
                f"qtau.qubit postselects by discarding the shots that do not match, not with postselect_mode={mode!r}",
                field="postselect_mode", value=mode,
                fix="leave postselect_mode out or set it to 'hw-like' (results then have fewer shots); "
                "for a fixed number of kept shots, raise the QNode's shots",
            )
        mcm = dataclasses.replace(config.mcm_config, mcm_method="deferred")
        return dataclasses.replace(config, mcm_config=mcm)

    def preprocess_transforms(self, execution_config: ExecutionConfig | None = None) -> CompilePipeline:
        gates = frozenset(self.capabilities.gate_set())
        program = CompilePipeline()
        self.last_cuts = []
        program.add_transform(cut_wide_tapes, service=self.service, cutting=self.cutting,
                              widest=interop.max_width(self.service), mode=self.mode,
                              decompose=lambda t: decompose_for_qtau(t, target_gates=gates),
                              error=QtauDeviceError, provenance=self.last_cuts)
        program.add_transform(require_shots)
        program.add_transform(refuse_shadows)
        program.add_transform(validate_device_wires, wires=self.wires, name=self.name)
        program.add_transform(defer_measurements, allow_postselect=True)
        program.add_transform(variance_of_sums)
        program.add_transform(split_when_needed)
        program.add_transform(diagonalize_when_needed)
        program.add_transform(rotate_other_observables)
        program.add_transform(validate_measurements, sample_measurements=lambda m: isinstance(m, SampleMeasurement),
                              name=self.name)
        program.add_transform(postselect_on_samples)
        program.add_transform(samples_from_measurements)
        program.add_transform(decompose_for_qtau, target_gates=gates, device_wires=self.wires)
        program.add_transform(device_resolve_dynamic_wires, wires=self.wires, allow_resets=False)
        program.add_transform(broadcast_expand)
        return program

    # -- execution -------------------------------------------------------------------------------

    def execute(self, circuits, execution_config: ExecutionConfig | None = None):
        single = isinstance(circuits, QuantumScript)
        batch = [circuits] if single else list(circuits)
        plans = [self._plan(tape) for tape in batch]
        try:
            results = interop.run_tasks(self.service, [task for task, _ in plans])
        except NoSuitableResourceError as err:
            raise QtauDeviceError(
                f"no resource of qtau.qubit can run this circuit: {err}", field="circuit",
                value=getattr(err, "value", None), fix=err.fix or "add a pilot whose resources fit the circuit",
            ) from err
        outputs = []
        self.last_provenance = []
        for tape, (_, measured), result in zip(batch, plans, results, strict=True):
            record = interop.provenance(result)
            found = report(result)
            if found:
                record["mitigation"] = {"technique": found["technique"], "auto": found["auto"],
                                        "overhead": found["overhead"], "unmitigated_counts": dict(result.counts)}
            self.last_provenance.append(record)
            outputs.append(self._samples(tape, measured, result))
        self._track(batch, outputs)
        return outputs[0] if single else tuple(outputs)

    def _plan(self, tape: QuantumScript) -> tuple[QuantumTask, list[int]]:
        """The QuantumTask of one preprocessed tape, and the counts-key bit of each measured wire.

        Every wire of the tape is read out. QTAU numbers a tape's integer wires in ascending order
        (bit i of a counts key is the i-th smallest wire), so integer wires travel as they are;
        other labels are renumbered 0..n-1 first (PennyLane's map_wires is slow on controlled ops).
        """
        [measurement] = tape.measurements
        measured = list(measurement.wires)
        wires = list(tape.wires)
        with PENNYLANE:  # see threads.py: LOCAL pool threads may be building tapes now
            ops = [op for op in tape.operations if op.name not in NO_EFFECT]
            if all(isinstance(w, int) and not isinstance(w, bool) for w in wires):
                order = sorted(wires)
            else:
                wire_map = {w: i for i, w in enumerate(wires)}
                ops = [op.map_wires(wire_map) for op in ops]
                measured, order = [wire_map[w] for w in measured], list(range(len(wires)))
            job = QuantumScript(ops, [qml.counts(wires=order)], shots=tape.shots.total_shots)
        width = max(len(order), 1)
        self._check_width(width)
        bit = {w: i for i, w in enumerate(order)}
        task = QuantumTask(circuit=job, num_qubits=width, shots=int(tape.shots.total_shots),
                           policy=self.mode, circuit_format="pennylane_tape", mitigation=self.mitigation)
        return task, [bit[w] for w in measured]

    def _samples(self, tape: QuantumScript, columns: list[int], result: Any):
        """Per-shot samples (shots x measured wires, PennyLane's wire order) from QTAU's counts."""
        total = int(tape.shots.total_shots)
        counts = mitigated_counts(result)
        keys = list(counts)
        reps = np.fromiter((counts[k] for k in keys), dtype=np.int64, count=len(keys))
        if int(reps.sum()) != total:
            raise QtauDeviceError(
                f"{result.resource_id} returned {int(reps.sum())} shots, {total} were asked for",
                field="shots", value=total, fix="report this backend's shot handling as a QTAU plugin bug",
            )
        bits = np.array([[int(k[-1 - i]) for i in columns] for k in keys], dtype=np.int64)
        samples = self._rng.permutation(np.repeat(bits.reshape(len(keys), len(columns)), reps, axis=0))
        if tape.shots.has_partitioned_shots:
            return tuple(samples[lo:hi] for lo, hi in tape.shots.bins())
        return samples

    def _track(self, batch: Sequence[QuantumScript], outputs: Sequence[Any]) -> None:
        if not self.tracker.active:
            return
        self.tracker.update(batches=1, batch_len=len(batch))
        self.tracker.record()
        for tape, out, record in zip(batch, outputs, self.last_provenance, strict=True):
            self.tracker.update(executions=1, shots=int(tape.shots.total_shots), results=out, qtau=record,
                                qtau_resource=record["resource"], qtau_cost=record["cost"])
            self.tracker.record()
