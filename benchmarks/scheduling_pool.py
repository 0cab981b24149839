"""The pool and the job mix of the scheduling benchmark (benchmarks/scheduling.py).

Devices: every IBM fake backend of qiskit-ibm-runtime that can measure, standing in for the device
whose calibration snapshot it carries, and Amazon Braket's QPUs and on-demand simulators as the
offline Braket stub describes them. What QDREAMER reads about each comes from the plugins' own
code: `qtau_ibmq.backends.resource_for` + `qtau_ibmq.noise.profile` + `qtau_ibmq.pricing.estimate`
for IBM, `qtau_braket.reporting.noise_profile` (on the stub's device documents) +
`qtau_braket.pricing.estimate` for Braket. What the simulation uses as the truth (run time per job,
servers) is described in scheduling.py's docstring.

Jobs: Qiskit library circuits, transpiled once to a 27-qubit heavy-hex device and cut down to the
qubits they use; their real gate counts, depths and two-qubit depths drive both QDREAMER's
estimate and the simulated run time.
"""

from __future__ import annotations

import math
import statistics
import warnings
from functools import lru_cache
from typing import Any

import attrs
from qtau.types import CostEstimate, NoiseProfile, Resource

#: Circuit families (Qiskit library) and the widths the job mix draws from.
FAMILIES = ("ghz", "qft", "qaoa", "real_amplitudes", "efficient_su2", "quantum_volume")
WIDTHS = (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 27)
#: Quantum volume circuits are square (depth = width); past 12 qubits they are no realistic job.
MAX_WIDTH = {"quantum_volume": 12}
#: The device every circuit is transpiled to once (its coupling map and basis): IBM 27-qubit Falcon.
REFERENCE_DEVICE = "fake_kolkata"
BASIS = ("rz", "sx", "x", "cx")

#: Braket devices of the offline stub (qtau_braket.testing.stub_server), with real widths where the
#: stub's width is a test convenience (Rigetti Cepheus-1-108Q has 108 qubits).
BRAKET_DEVICES = {
    "amazon/sv1": ("arn:aws:braket:::device/quantum-simulator/amazon/sv1", "simulator", 34),
    "amazon/dm1": ("arn:aws:braket:::device/quantum-simulator/amazon/dm1", "simulator", 17),
    "amazon/tn1": ("arn:aws:braket:::device/quantum-simulator/amazon/tn1", "simulator", 50),
    "ionq/forte-1": ("arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1", "ionq", 36),
    "rigetti/cepheus-1-108q": ("arn:aws:braket:us-west-1::device/qpu/rigetti/Cepheus-1-108Q", "rigetti", 108),
    "iqm/garnet": ("arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet", "iqm", 20),
    "oqc/lucy": ("arn:aws:braket:eu-west-2::device/qpu/oqc/Lucy", "oqc", 8),
}


@attrs.frozen
class Job:
    """One circuit of the mix: the transpiled circuit and what its run time depends on."""

    key: str
    circuit: Any
    width: int
    one_qubit_layers: int
    two_qubit_layers: int
    gates: int


@attrs.frozen
class Device:
    """A resource of the pool: what QDREAMER is told (resource, noise, cost) and the truth the
    simulation runs on (overhead, per-shot time, gate and readout durations, servers)."""

    resource: Resource
    noise: NoiseProfile
    cost: CostEstimate
    servers: int
    overhead_s: float
    rep_delay_s: float
    one_qubit_s: float
    two_qubit_s: float
    readout_s: float
    #: The plugin's queue model: expected wait reported per queued job.
    seconds_per_queued_job: float
    #: Simulators: seconds per amplitude update (state size x gates); 0 for QPUs.
    amplitude_s: float = 0.0
    #: Simulators: 2 for a state vector, 4 for a density matrix (state size = base ** width).
    state_base: int = 2

    @property
    def id(self) -> str:
        return self.resource.id

    @property
    def qpu(self) -> bool:
        return self.resource.kind == "qpu"

    def run_seconds(self, job: Job, shots: int) -> float:
        """True run time of `job` here: IBM's baseline of a fixed overhead plus
        (rep_delay + circuit duration) x shots; simulators add the state-update work."""
        if not self.qpu:
            work = self.amplitude_s * float(self.state_base) ** job.width * job.gates
            return self.overhead_s + work + shots * self.rep_delay_s
        duration = (job.one_qubit_layers * self.one_qubit_s + job.two_qubit_layers * self.two_qubit_s
                     + self.readout_s)
        return self.overhead_s + shots * (self.rep_delay_s + duration)


# -- circuits ------------------------------------------------------------------------------------


def _library_circuit(family: str, width: int, seed: int):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(width)
    if family == "ghz":
        qc.h(0)
        for q in range(width - 1):
            qc.cx(q, q + 1)
    elif family == "qft":
        from qiskit.circuit.library import QFTGate

        qc.append(QFTGate(width), range(width))
    elif family == "qaoa":
        from qiskit.circuit.library import qaoa_ansatz
        from qiskit.quantum_info import SparsePauliOp

        # MaxCut on a ring with chords (degree 3 where the width allows), one QAOA layer.
        edges = {(q, (q + 1) % width) for q in range(width)} | {(q, (q + width // 2) % width) for q in range(width)}
        terms = [("ZZ", [a, b], 1.0) for a, b in sorted({tuple(sorted(e)) for e in edges}) if a != b]
        op = SparsePauliOp.from_sparse_list(terms, num_qubits=width)
        qc = qaoa_ansatz(op, reps=1)
    elif family == "real_amplitudes":
        from qiskit.circuit.library import real_amplitudes

        qc = real_amplitudes(width, reps=2)
    elif family == "efficient_su2":
        from qiskit.circuit.library import efficient_su2

        qc = efficient_su2(width, reps=2)
    elif family == "quantum_volume":
        from qiskit.circuit.library import QuantumVolume

        # The class (deprecated in Qiskit 2.2, removed in 3.0): the `quantum_volume` function draws
        # other unitaries for the same seed, which would change the committed results.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            qc = QuantumVolume(width, seed=seed)
    else:  # pragma: no cover - FAMILIES is the only caller's source
        raise ValueError(family)
    if qc.num_parameters:
        qc = qc.assign_parameters([0.1 * (i + 1) for i in range(qc.num_parameters)])
    qc.measure_all()
    return qc


def _without_idle_qubits(qc):
    """The transpiled circuit on the qubits it uses: routing to the 27-qubit reference device
    leaves it 27 wires wide whatever its width, and every policy must see the width it needs
    (QDREAMER reads the circuit's own width; the baselines read `Job.width`)."""
    from qiskit.circuit import Qubit
    from qiskit.converters import circuit_to_dag, dag_to_circuit

    dag = circuit_to_dag(qc)
    dag.remove_qubits(*[w for w in dag.idle_wires() if isinstance(w, Qubit)])
    return dag_to_circuit(dag)


def _layers(qc) -> tuple[int, int, int]:
    """(one-qubit layers, two-qubit layers, gates) of a transpiled circuit: the two-qubit depth is
    the depth counting only two-qubit gates; the rest of the depth is one-qubit layers."""
    depth = qc.depth(lambda inst: inst.operation.name not in ("barrier", "measure"))
    two = qc.depth(lambda inst: inst.operation.num_qubits == 2 and inst.operation.name != "barrier")
    gates = sum(n for name, n in qc.count_ops().items() if name not in ("barrier", "measure"))
    return max(depth - two, 0), two, gates


@lru_cache(maxsize=1)
def job_library(seed: int = 7) -> tuple[Job, ...]:
    """Every (family, width) of the mix, transpiled once to the reference device (optimisation
    level 1, fixed seed): the gate counts QDREAMER reads are those of a real transpilation."""
    from qiskit.transpiler import CouplingMap
    from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager

    coupling = CouplingMap(list(ibm_backends()[REFERENCE_DEVICE].coupling_map))
    pm = generate_preset_pass_manager(optimization_level=1, coupling_map=coupling, basis_gates=list(BASIS),
                                      seed_transpiler=seed)
    out = []
    for family in FAMILIES:
        for width in WIDTHS:
            if width > MAX_WIDTH.get(family, 27):
                continue
            qc = _without_idle_qubits(pm.run(_library_circuit(family, width, seed)))
            qc.name = f"{family}_{width}"
            one, two, gates = _layers(qc)
            # Routing may use a qubit or two beyond the logical width (SWAPs through ancillas).
            out.append(Job(qc.name, qc, qc.num_qubits, one, two, gates))
    return tuple(out)


# -- IBM -----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def ibm_backends() -> dict[str, Any]:
    from qtau_ibmq import backends

    return {name: backends.fake_backend(name) for name in backends.fake_names()}


def _median_duration(target, names: tuple[str, ...], default: float) -> float:
    for name in names:
        if name in target.operation_names:
            values = [p.duration for p in target[name].values() if p is not None and p.duration]
            if values:
                return float(statistics.median(values))
    return default


def _two_qubit_gate(target) -> tuple[str, ...]:
    return tuple(op for op in ("ecr", "cz", "cx") if op in target.operation_names)


def ibm_device(name: str, backend: Any) -> Device | None:
    """The device a fake backend mimics, as QDREAMER would see it through qtau-ibmq for a real
    (runtime) backend: a QPU priced per second, its noise from `noise.profile` of the Target."""
    from qtau_ibmq import backends, noise, pricing

    if not backends.can_measure(backend) or backend.num_qubits < 2:
        return None
    target = backend.target
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fake = backends.resource_for(backend, f"ibmq_fake_{name}", None)
        rep = backends._rep_delay_s(backend)
    prices = pricing.settings({})
    rep = rep or float(prices["shot_s"])
    meta = dict(fake.metadata)
    meta.update(source="runtime", rep_delay_s=rep, seconds_per_task=float(prices["task_overhead_s"]),
                seconds_per_shot=rep)
    resource = attrs.evolve(fake, id=f"ibmq:{meta.get('mimics') or name}", kind="qpu", executor=f"ibmq_{name}",
                            metadata=meta, remote=True)
    profile = noise.profile(resource.id, target, f"calibration snapshot of {meta.get('mimics') or name}")
    return Device(
        resource=resource, noise=profile, cost=pricing.estimate(resource, {}, 1000), servers=1,
        overhead_s=float(prices["task_overhead_s"]), rep_delay_s=rep,
        one_qubit_s=_median_duration(target, ("sx", "x"), 3.5e-8),
        two_qubit_s=_median_duration(target, _two_qubit_gate(target), 5e-7),
        readout_s=_median_duration(target, ("measure",), 1e-6),
        seconds_per_queued_job=float(prices["seconds_per_queued_job"]),
    )


# -- Braket --------------------------------------------------------------------------------------

#: Durations of superconducting Braket QPUs (Braket publishes none in the device documents the stub
#: serves): typical transmon values, the same order as IBM's Targets. IonQ's come from its document.
SUPERCONDUCTING_S = {"one_qubit": 4e-8, "two_qubit": 2e-7, "readout": 1.5e-6, "rep_delay": 2e-4}
#: Braket simulators: concurrent tasks per account (AWS service quotas: SV1 and DM1 35, TN1 5),
#: seconds per amplitude update, fixed overhead (prices.json's simulator_model).
SIMULATOR_SERVERS = {"amazon/sv1": 35, "amazon/dm1": 35, "amazon/tn1": 5}
AMPLITUDE_S = 1e-9
BRAKET_OVERHEAD_S = 2.0


def _braket_properties(document: dict) -> Any:
    """The stub's device document parsed by the Braket schemas, as the SDK parses AWS's answer."""
    import json

    import braket.device_schema  # noqa: F401 (registers the device schemas the parser looks up)
    from braket.schema_common import BraketSchemaBase as Schema

    return Schema.parse_raw_schema(json.dumps(document))


def _braket_noise(resource: Resource, document: dict) -> NoiseProfile:
    """`qtau_braket.reporting.noise_profile` on the stub's device document; the session lookup is
    answered locally, no AWS."""
    from types import SimpleNamespace
    from unittest import mock

    from qtau_braket import reporting

    props = _braket_properties(document)
    with mock.patch.object(reporting.sessions, "device", lambda *a, **k: SimpleNamespace(properties=props)), \
            mock.patch.object(reporting, "_settings", lambda *a, **k: None):
        return reporting.noise_profile(resource, {})


def braket_device(key: str) -> Device:
    from qtau_braket import pricing, reporting
    from qtau_braket.testing import devices

    arn, family, qubits = BRAKET_DEVICES[key]
    simulator = family == "simulator"
    rid = f"braket:{key}"
    document = None if simulator else devices.qpu(family, qubits)
    # Run-time metadata as qtau_braket.reporting.resources reports it for the device.
    timing = reporting.timing_metadata(None if simulator else _braket_properties(document), simulator, arn)
    resource = Resource(
        id=rid, provider="braket", executor=f"braket_{key.split('/')[1]}", kind="simulator" if simulator else "qpu",
        num_qubits=qubits, circuit_formats=("qiskit",), transpiles=True, supports_mid_circuit_measurement=False,
        metadata={"arn": arn, "region": "us-east-1", **timing}, remote=True,
    )
    cost = pricing.estimate(resource, {}, 1000)
    per_queued = reporting.SECONDS_PER_QUEUED_TASK[resource.kind]
    if simulator:
        model = pricing.table()["simulator_model"]
        return Device(
            resource=resource, noise=NoiseProfile(rid, source="ideal simulator"), cost=cost,
            servers=SIMULATOR_SERVERS[key], overhead_s=float(model["task_overhead_s"]),
            rep_delay_s=float(model["shot_s"]), one_qubit_s=0.0, two_qubit_s=0.0, readout_s=0.0,
            seconds_per_queued_job=per_queued, amplitude_s=AMPLITUDE_S, state_base=4 if key == "amazon/dm1" else 2,
        )
    profile = _braket_noise(resource, document)
    if family == "ionq":
        gate_times = document["provider"]["timing"]
        one, two, readout, rep = gate_times["1Q"], gate_times["2Q"], gate_times["readout"], gate_times["reset"]
    else:
        one, two, readout, rep = (SUPERCONDUCTING_S[k] for k in ("one_qubit", "two_qubit", "readout", "rep_delay"))
    return Device(
        resource=resource, noise=profile, cost=cost, servers=1, overhead_s=BRAKET_OVERHEAD_S, rep_delay_s=rep,
        one_qubit_s=one, two_qubit_s=two, readout_s=readout, seconds_per_queued_job=per_queued,
    )


@lru_cache(maxsize=1)
def pool() -> tuple[Device, ...]:
    """Every device of the benchmark, IBM first (by name), then Braket."""
    found = [d for name, b in sorted(ibm_backends().items()) if (d := ibm_device(name, b)) is not None]
    # Two fakes can mimic the same device (V1/V2 leftovers): keep the first of each id.
    seen: set[str] = set()
    unique = []
    for dev in found:
        if dev.id not in seen:
            seen.add(dev.id)
            unique.append(dev)
    unique += [braket_device(key) for key in BRAKET_DEVICES]
    return tuple(unique)


def estimated_fidelity(device: Device, summary) -> float:
    """The fidelity QDREAMER estimates for a circuit summary on `device` (its own function)."""
    from qtau.dreamer.terms import fidelity

    return fidelity(device.noise, summary)


def finite(value: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
