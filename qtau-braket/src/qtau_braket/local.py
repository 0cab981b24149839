"""`braket_local` and `braket_local_dm`: Braket's LocalSimulator in this process.

Config keys (optional):
- `noise` (braket_local_dm only): `{"depolarizing_1q": p, "depolarizing_2q": p, "readout": p}`,
  applied as a Braket NoiseModel; the same numbers are the resource's noise profile.
- `max_parallel`: above 1, a batch goes through `LocalSimulator.run_batch`, which runs the
  circuits in a multiprocessing pool. Off by default: forking a pool costs ~0.1 s per process,
  far more than a small circuit takes, and forking a threaded worker is fragile.

Both run OpenQASM 3 programs with mid-circuit measurement, conditions on measured bits and resets
after use as programs (`qtau_braket.programs`), so they declare mid-circuit measurement; a noisy
braket_local_dm does not (Braket's NoiseModel applies to Circuits only).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from qtau.errors import CircuitConversionError, ConfigurationError, ExecutionError, InvalidTaskError
from qtau.executor import CircuitJob, LocalExecutor
from qtau.noise import noise_profile as noise_profile_from
from qtau.noise import parse_noise
from qtau.resource_limits import DENSITY_MATRIX, STATEVECTOR, local_limits
from qtau.scalars import plain
from qtau.types import NoiseProfile, Outcome, Resource, ResourceStatus, ideal_noise

from qtau_braket import names

FORMATS = ("braket",)
#: The gates Braket's local simulators run (`supportedOperations` of their OpenQASM action, both
#: simulators, amazon-braket-default-simulator 1.41), as Braket spells them; a test checks them
#: against the installed simulator.
SIMULATOR_GATES = (
    "ccnot", "cnot", "cphaseshift", "cphaseshift00", "cphaseshift01", "cphaseshift10", "cswap", "cv", "cy",
    "cz", "ecr", "gpi", "gpi2", "h", "i", "iswap", "ms", "phaseshift", "prx", "pswap", "rx", "ry", "rz", "s",
    "si", "swap", "t", "ti", "unitary", "v", "vi", "x", "xx", "xy", "y", "yy", "z", "zz", "U", "GPhase",
)
#: Controls the Circuit API's `control=` may add that the local resources declare: each controlled
#: gate runs as the unitary of its control and target qubits (`qtau_braket.controls`), so any
#: number of controls runs; QDREAMER needs names, and these many cover what circuits use.
MAX_DECLARED_CONTROLS = 3


def native_gates() -> tuple[str, ...]:
    """What QDREAMER may place on the local simulators beyond the standard gates, by the names the
    Braket summary gives (`gate_names.canonical`): the simulators' own gates (gpi, ms, xy, gphase...),
    each with up to MAX_DECLARED_CONTROLS controls, `unitary`, and verbatim boxes' markers (the
    simulators run a verbatim box's gates as they are)."""
    from qtau_braket.gate_names import canonical

    names = {canonical(g, k) for g in SIMULATOR_GATES for k in range(MAX_DECLARED_CONTROLS + 1)}
    return ("unitary", "startverbatimbox", "endverbatimbox", *sorted(names - {"unitary"}))
#: Braket's simulators run numba kernels; numba's default `workqueue` threading layer aborts the
#: whole process when two threads launch parallel kernels at once, so simulations take turns.
#: Each one is already parallel inside.
_SIMULATION_LOCK = threading.Lock()


def resources(executor: str, config: Mapping[str, Any]) -> list[Resource]:
    backend = names.LOCAL[executor]
    # Braket's depolarizing and bit-flip channels take probabilities below 3/4.
    noise = parse_noise(config.get("noise"), limit=0.75)
    if noise and backend != "braket_dm":
        raise ConfigurationError(
            "noise needs the density-matrix simulator", field="quantum.noise", value=noise,
            fix="use executor braket_local_dm for noisy simulation, or drop quantum.noise",
        )
    suffix = "_noisy" if noise else ""
    return [Resource(
        id=names.resource_id(f"local_{backend.split('_')[1]}{suffix}"), provider="braket", executor=executor,
        kind="simulator", num_qubits=names.LOCAL_WIDTH[backend], circuit_formats=FORMATS,
        # OpenQASM 3 that needs it runs as a program (qtau_braket.programs), without a noise model.
        supports_mid_circuit_measurement=not noise,
        # Braket's `unitary` instruction (a matrix, with no definition in gates) runs as it is here,
        # and so do the simulators' own gates, controlled gates and verbatim boxes (`native_gates`).
        native_gates=native_gates(),
        # Braket's simulators hold complex128 states and a shots x qubits integer array of samples.
        # ~10 ms a task: the OpenQASM round trip and the SDK's Python simulator on a small circuit
        # (measured; QDREAMER's learned run times correct it on each machine).
        # Each circuit pays its own round trip, so a batch costs its tasks' sum (Bell circuits:
        # 9.3 ms alone, 8.8-9 ms each in batches): the call's fixed cost is a small share of one.
        metadata={"backend": backend, "noise": noise, "seconds_per_task": 0.01, "call_overhead_tasks": 0.05,
                  **local_limits(config, STATEVECTOR if backend == "braket_sv" else DENSITY_MATRIX,
                                 bytes_per_sample=8)},
    )]


def status(resource: Resource) -> ResourceStatus:
    return ResourceStatus(resource.id, online=True, checked_at=time.time(), message="local simulator")


def noise_profile(resource: Resource) -> NoiseProfile:
    noise = resource.metadata.get("noise") or {}
    if not noise:
        return ideal_noise(resource.id)
    return noise_profile_from(resource.id, noise, "Braket NoiseModel from the pilot's quantum.noise")


def build_noise_model(noise: Mapping[str, float]):
    from braket.circuits.noise_model import GateCriteria, MeasureCriteria, NoiseModel
    from braket.circuits.noises import BitFlip, Depolarizing, TwoQubitDepolarizing

    model = NoiseModel()
    if noise.get("depolarizing_1q"):
        model.add_noise(Depolarizing(noise["depolarizing_1q"]), GateCriteria(qubits=None, gates=None))
    if noise.get("depolarizing_2q"):
        from braket.circuits import gates

        two = [gates.CNot, gates.CZ, gates.CY, gates.Swap, gates.ISwap, gates.CPhaseShift, gates.XX,
               gates.YY, gates.ZZ, gates.ECR]
        model.add_noise(TwoQubitDepolarizing(noise["depolarizing_2q"]), GateCriteria(gates=two))
    if noise.get("readout"):
        model.add_noise(BitFlip(noise["readout"]), MeasureCriteria())
    return model


class LocalSimulatorExecutor(LocalExecutor):
    """Runs Braket circuits on one LocalSimulator made once per worker."""

    def __init__(self, resource: Resource, config: Mapping[str, Any]) -> None:
        super().__init__(resource, config)
        from braket.devices import LocalSimulator

        self.backend = resource.metadata.get("backend", "braket_sv")
        self.noise = dict(resource.metadata.get("noise") or {})
        model = build_noise_model(self.noise) if self.noise else None
        self.device = LocalSimulator(self.backend, noise_model=model)
        parallel = plain(config.get("max_parallel", 1))
        if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
            raise ConfigurationError("max_parallel must be a positive integer", field="quantum.max_parallel",
                                     value=parallel, fix="use 1 (in-process, the default) or the number of cores")
        self.max_parallel = parallel
        #: The simulator that runs BraketPrograms (`qtau_braket.programs.program_simulator`), made on first use.
        self._program_device = None

    def _program(self, job: CircuitJob):
        """A BraketProgram's job checked for this simulator (`qtau_braket.programs`)."""
        program = job.circuit
        if self.noise:
            raise CircuitConversionError(
                f"the program needs {', '.join(program.needs)}, which Braket's simulator runs only as a "
                f"program, and {self.resource.id}'s noise model applies only to Braket Circuits",
                field="quantum.noise", value=self.noise,
                fix="run it on braket_local or braket_local_dm without quantum.noise, or on Qiskit Aer with noise",
            )
        self._check_width(program.qubit_count)
        return program

    def _check_width(self, qubits: int) -> None:
        width = names.LOCAL_WIDTH[self.backend]
        if qubits > width:
            raise InvalidTaskError(
                f"the circuit needs {qubits} qubits but {self.backend} simulates at most {width}",
                field="num_qubits", value=qubits, fix="use fewer qubits, or braket_sv1 on AWS",
            )

    def _prepare(self, job: CircuitJob):
        from qtau_braket.controls import explicit_controls
        from qtau_braket.programs import BraketProgram

        if isinstance(job.circuit, BraketProgram):
            return self._program(job)
        circuit = explicit_controls(job.circuit)  # controlled gates: see qtau_braket.controls
        self._check_width(circuit.qubit_count)
        explicit = any(ins.operator.name == "Measure" for ins in circuit.instructions)
        if self.noise.get("readout") and not explicit:
            # Readout noise attaches to measure instructions, so make the implicit measure-all explicit.
            circuit = circuit.copy().measure(sorted(int(q) for q in circuit.qubits))
        return circuit

    def _run_one(self, circuit, shots: int):
        from qtau_braket.programs import BraketProgram

        if not isinstance(circuit, BraketProgram):
            return self.device.run(circuit, shots=shots).result()
        from braket.ir.openqasm import Program

        if self._program_device is None:
            from qtau_braket.programs import program_simulator

            self._program_device = program_simulator(self.backend)
        return self._program_device.run(Program(source=circuit.source), shots=shots).result()

    def run(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        from qtau_braket.outcomes import outcome, program_outcome
        from qtau_braket.programs import BraketProgram

        circuits = [self._prepare(job) for job in jobs]
        programs = any(isinstance(c, BraketProgram) for c in circuits)
        try:
            with _SIMULATION_LOCK:
                if self.max_parallel > 1 and len(jobs) > 1 and len({j.shots for j in jobs}) == 1 and not programs:
                    batch = self.device.run_batch(circuits, shots=jobs[0].shots, max_parallel=self.max_parallel)
                    results = batch.results()
                else:
                    results = [self._run_one(c, j.shots) for c, j in zip(circuits, jobs, strict=True)]
        except Exception as err:
            raise ExecutionError(
                f"{self.resource.id} could not run the circuit: {type(err).__name__}: {err}",
                fix="check the circuit's gates are supported by Braket's local simulator",
            ) from err
        return [program_outcome(r, job.circuit, backend=self.backend) if isinstance(job.circuit, BraketProgram)
                else outcome(r, job.circuit, backend=self.backend) for r, job in zip(results, jobs, strict=True)]
