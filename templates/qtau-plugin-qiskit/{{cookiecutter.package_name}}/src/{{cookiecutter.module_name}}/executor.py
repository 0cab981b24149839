"""The executor: runs a batch of Qiskit circuits on a Qiskit BackendV2.

Replace `make_backend()` with your provider's backend. The contract it keeps:
- `run(jobs)` returns one Outcome per job, in order. Jobs of one call may ask for different shots
  (a burst of tasks is one call), so the batch runs as one `backend.run` per shot count.
- Counts keys have classical bit 0 rightmost (Qiskit's order already) and no spaces between
  registers; a circuit without measurements is measured whole, so its key has every qubit.
- A failure of the backend raises ExecutionError (QDREAMER fails over to the next resource); a
  circuit that cannot run anywhere would raise InvalidTaskError (the task ends at once).
- `run` is called from several threads at once on the LOCAL engine: BasicSimulator keeps its
  running state on the backend object, so runs take turns on a lock.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from qtau import LocalExecutor, Outcome
from qtau.errors import ExecutionError
from qtau.executor import CircuitJob


def make_backend():
    """The Qiskit BackendV2 to run on (imported here, where tasks run)."""
    from qiskit.providers.basic_provider import BasicSimulator

    return BasicSimulator()


def measured(circuit):
    """`circuit`, measured whole when it measures nothing (so every qubit has a bit)."""
    if any(inst.operation.name == "measure" for inst in circuit.data):
        return circuit
    return circuit.measure_all(inplace=False)


class QiskitBackendExecutor(LocalExecutor):
    def __init__(self, resource, config: Mapping[str, Any]) -> None:
        super().__init__(resource, config)
        self.backend = make_backend()
        self.seed = config.get("seed")
        self._turns = threading.Lock()

    def run(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        from qiskit import transpile

        circuits = transpile([measured(job.circuit) for job in jobs], self.backend, optimization_level=0)
        by_shots: dict[int, list[int]] = defaultdict(list)
        for i, job in enumerate(jobs):
            by_shots[job.shots].append(i)
        outcomes: list[Outcome | None] = [None] * len(jobs)
        for shots, indices in by_shots.items():
            options = {} if self.seed is None else {"seed_simulator": self.seed}
            try:
                with self._turns:
                    result = self.backend.run([circuits[i] for i in indices], shots=shots, **options).result()
            except Exception as err:
                raise ExecutionError(f"{self.resource.id} failed: {type(err).__name__}: {err}",
                                     fix="QDREAMER fails the task over to the next resource") from err
            if not result.success:
                raise ExecutionError(f"{self.resource.id} reported failure: {result.status}")
            for n, i in enumerate(indices):
                counts: dict[str, int] = {}
                for key, count in result.get_counts(n).items():
                    bits = key.replace(" ", "")
                    counts[bits] = counts.get(bits, 0) + count
                outcomes[i] = Outcome(counts=counts, raw=result.results[n])
        return outcomes  # type: ignore[return-value]
