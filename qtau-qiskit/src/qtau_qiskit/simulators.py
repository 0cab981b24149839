"""Executors for Aer and BasicSimulator: a batch of jobs runs as one backend call per shot count."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from qtau.errors import ExecutionError
from qtau.executor import CircuitJob, LocalExecutor
from qtau.qasm3 import unboxed
from qtau.types import Outcome, Resource

from qtau_qiskit.composite import defines_itself, without_name_clashes
from qtau_qiskit.measure_all import measured_whole
from qtau_qiskit.settings import noise_settings


def build_noise_model(noise: Mapping[str, float]):
    """Depolarizing gate errors and symmetric readout error, as the pilot's `quantum.noise` says."""
    from qtau_qiskit.aer import NoiseModel, ReadoutError, depolarizing_error

    model = NoiseModel()
    one = ["x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "sxdg", "rx", "ry", "rz", "u", "p", "id"]
    two = ["cx", "cy", "cz", "swap", "ecr", "cp", "rzz", "rxx", "ryy", "iswap"]
    if noise.get("depolarizing_1q"):
        model.add_all_qubit_quantum_error(depolarizing_error(noise["depolarizing_1q"], 1), one)
    if noise.get("depolarizing_2q"):
        model.add_all_qubit_quantum_error(depolarizing_error(noise["depolarizing_2q"], 2), two)
    if noise.get("readout"):
        p = noise["readout"]
        model.add_all_qubit_readout_error(ReadoutError([[1 - p, p], [p, 1 - p]]))
    return model


def counts_in_common_order(counts: Mapping[str, int]) -> dict[str, int]:
    """Qiskit already puts bit 0 on the right; only the spaces between registers go."""
    out: dict[str, int] = {}
    for key, n in counts.items():
        bits = key.replace(" ", "")
        out[bits] = out.get(bits, 0) + int(n)
    return out


def counts_of(result, n: int) -> dict[str, int]:
    """Experiment `n`'s counts in QTAU's order, read from the backend's hexadecimal counts: what
    `counts_in_common_order(result.get_counts(n))` gives, without building Qiskit's `Counts` (which
    inserts the spaces between registers that QTAU then takes out again). Anything else (no
    `memory_slots` in the header, keys that are not hexadecimal) goes through `get_counts`."""
    experiment = result.results[n]
    raw = getattr(experiment.data, "counts", None)
    header = getattr(experiment, "header", None)
    slots = header.get("memory_slots") if isinstance(header, Mapping) else getattr(header, "memory_slots", None)
    if not isinstance(raw, Mapping) or not isinstance(slots, int) or slots < 1 or not all(
            isinstance(key, str) and key.startswith("0x") for key in raw):
        return counts_in_common_order(result.get_counts(n))
    out: dict[str, int] = {}
    for key, count in raw.items():
        bits = format(int(key, 16), f"0{slots}b")
        out[bits] = out.get(bits, 0) + int(count)
    return out


def with_measurements(circuit):
    """Circuits without measurements are measured whole (`measured_whole`), so every backend
    returns counts; and whether measurements were added."""
    if any(inst.operation.name == "measure" for inst in circuit.data):
        return circuit, False
    return measured_whole(circuit), True


#: The process's pass managers by what they depend on (`transpiler_of`), each with the lock its
#: runs take turns under.
_transpilers: dict[tuple, tuple[Any, threading.Lock]] = {}
_transpilers_lock = threading.Lock()


def transpiler_of(backend, target) -> tuple[Any, threading.Lock]:
    """The pass manager `transpile(circuit, backend, optimization_level=0)` would make, and the lock
    its runs take turns under (a pass manager's passes are objects one run at a time may use);
    `target` is the backend's, read once by the caller (Aer builds a new one on every read).

    `transpile` makes one on every call, and for AerSimulator that alone took 83 ms here (Aer's
    `target` is rebuilt each of the 158 times it is read), for a QFT of 8 qubits whose
    passes take 0.6 ms and whose run 3 ms: every circuit with a gate Aer lacks (QFTGate, a random
    circuit's c3sx) cost 85-100 ms a run, and QDREAMER rightly sent them to BasicSimulator, several
    times slower than Aer from 12 qubits up. So an executor asks for it when it is made, in the
    call that creates the executor, which QDREAMER's run-time model learns apart (`Attempt.cold`),
    not in the first call that needs it (a warm call: the simulator would look 20 times slower for
    such circuits than it is); and the process keeps one per backend and target, as a level-0
    pass manager depends on nothing else (the test suite made 32 for Aer's one target)."""
    from qiskit.transpiler import generate_preset_pass_manager

    coupling = target.build_coupling_map()  # None for Aer and BasicSimulator as QTAU makes them
    key = (type(backend).__name__, backend.name, target.num_qubits, tuple(sorted(target.operation_names)),
           None if coupling is None else tuple(coupling.get_edges()))
    with _transpilers_lock:
        kept = _transpilers.get(key)
        if kept is None:
            # From the target read once: `backend=` reads Aer's `target`, which Aer rebuilds on each
            # read, 158 times (72 ms); the same pass manager from one read takes 2 ms.
            kept = _transpilers[key] = (generate_preset_pass_manager(optimization_level=0, target=target),
                                        threading.Lock())
        return kept


class QiskitSimulatorExecutor(LocalExecutor):
    """Runs `qiskit` circuits on an Aer or BasicSimulator backend object made once per worker."""

    def __init__(self, resource: Resource, config: Mapping[str, Any], backend, run_options: dict) -> None:
        super().__init__(resource, config)
        self.backend = backend
        self.run_options = run_options
        target = backend.target  # read once: Aer builds a new one on every read
        self.supported = set(target.operation_names) | {"measure", "barrier", "reset"}
        # BasicSimulator keeps the running circuit's state on the backend object, so runs from
        # several threads (the LOCAL engine's batch chunks) must take turns; Aer's runs are separate jobs.
        self._turns = threading.Lock() if resource.metadata.get("backend") == "basic_simulator" else None
        self._pass_manager, self._transpiling = transpiler_of(backend, target)

    def _transpile(self, circuit):
        """`transpile(circuit, backend, optimization_level=0)` with the executor's pass manager;
        runs take turns: a pass manager's passes are objects one run at a time may use."""
        with self._transpiling:
            return self._pass_manager.run(circuit)

    def _native(self, circuit):
        names = set()
        own = False
        for inst in circuit.data:  # one pass: the names, and whether the circuit defines gates
            names.add(inst.operation.name)
            own = own or defines_itself(type(inst.operation))
        if own:  # only a gate the circuit defines can clash with a simulator's reserved name
            circuit = without_name_clashes(circuit, self.supported)
            names = {inst.operation.name for inst in circuit.data}
        if "box" in names:  # a compiler's scope, which these simulators refuse: its body runs
            circuit = unboxed(circuit)
            names = {inst.operation.name for inst in circuit.data}
        if names <= self.supported:
            return circuit
        # Only circuits with gates the simulator lacks pay for a transpile.
        return self._transpile(circuit)

    def run(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        prepared = []
        for job in jobs:
            circuit, added = with_measurements(job.circuit)
            prepared.append((self._native(circuit), added))
        by_shots: dict[int, list[int]] = defaultdict(list)
        for i, job in enumerate(jobs):
            by_shots[job.shots].append(i)
        outcomes: list[Outcome | None] = [None] * len(jobs)
        for shots, indices in by_shots.items():
            circuits = [prepared[i][0] for i in indices]
            if self._turns is None:
                result = self.backend.run(circuits, shots=shots, **self.run_options).result()
            else:
                with self._turns:
                    result = self.backend.run(circuits, shots=shots, **self.run_options).result()
            if not result.success:
                raise ExecutionError(f"{self.resource.id} reported failure: {result.status}")
            for n, i in enumerate(indices):
                outcomes[i] = Outcome(
                    counts=counts_of(result, n),
                    metadata={"measure_all_added": prepared[i][1], "backend": self.backend.name},
                    raw=result.results[n],
                )
        return outcomes  # type: ignore[return-value]


def all_cores_for_batches(aer_options: Mapping[str, Any]) -> int:
    """Aer's `max_parallel_experiments` when the pilot sets none: 0 (a batch's circuits run side by
    side on every core Aer may use) on the CPU, Aer's own default of 1 on a GPU.

    Aer runs every job of a process on one worker thread, so the LOCAL engine's batch chunks take
    turns inside Aer and only parallel experiments use a second core (Aer's default spends its
    threads within one experiment, which small circuits cannot use). Aer still decides how many run
    at once from the threads and memory it has (one at a time where a circuit needs the memory), and
    a seeded run returns the same counts either way.
    """
    return 1 if str(aer_options.get("device", "CPU")).upper() == "GPU" else 0


def create_executor(resource: Resource, config: Mapping[str, Any]) -> QiskitSimulatorExecutor:
    opts = dict(config.get("backend_options") or {})
    opts.update({k: config[k] for k in ("method", "seed_simulator") if k in config})
    run_options: dict[str, Any] = {}
    if resource.metadata.get("backend") == "basic_simulator":
        from qiskit.providers.basic_provider import BasicSimulator

        backend = BasicSimulator()
        if "seed_simulator" in opts:
            run_options["seed_simulator"] = opts["seed_simulator"]
        return QiskitSimulatorExecutor(resource, config, backend, run_options)
    from qtau_qiskit.aer import AerSimulator

    aer_options: dict[str, Any] = {"method": resource.metadata.get("method", "automatic")}
    noise = noise_settings(config)
    if noise:
        aer_options["noise_model"] = build_noise_model(noise)
        if aer_options["method"] == "automatic":
            aer_options["method"] = "density_matrix"
    if "seed_simulator" in opts:
        aer_options["seed_simulator"] = opts["seed_simulator"]
    for key in ("device", "precision", "max_parallel_threads", "max_parallel_experiments"):
        if key in opts:
            aer_options[key] = opts[key]
    aer_options.setdefault("max_parallel_experiments", all_cores_for_batches(aer_options))
    return QiskitSimulatorExecutor(resource, config, AerSimulator(**aer_options), run_options)
