"""Pilot-Quantum's BaseExecutor: `execute_circuit(circuit_or_list, *args)` on QTAU.

Each executor converts its config into a Pilot-Quantum `quantum` section (`quantum_section`), which
`pilot.descriptions` turns into QTAU pilots of an in-process QTAU service owned by the executor.
A circuit, a function returning one, a PennyLane quantum function or a QNode runs there; a list
gives a list of Results. A failure raises its QtauError (Pilot-Quantum's executors raised too).
"""

from __future__ import annotations

import logging
from typing import Any

from qtau.errors import ConfigurationError, UnknownExecutorError
from qtau.service import PilotComputeService

from pilot.descriptions import members
from pilot.dreamer import QuantumTask

log = logging.getLogger("pilot.pcs_logger")


class BaseExecutor:
    """An executor named `name` with a Pilot-Quantum executor `config` (shots, backend, device...)."""

    def __init__(self, name: str, config: dict[str, Any] | None = None) -> None:
        self.name = name
        self.config = dict(config or {})
        self.shots = int(self.config.get("shots") or 1000)
        self.logger = log
        self._service: Any = None

    def quantum_section(self) -> dict[str, Any]:
        """The Pilot-Quantum `quantum` section this executor stands for."""
        raise NotImplementedError

    def _qtau(self) -> Any:
        if self._service is None:
            service = PilotComputeService()

            def known(executor: str) -> bool:
                try:
                    service.host.find_executor(executor)
                except UnknownExecutorError:
                    return False
                return True

            made = 0
            for member in members({"resource_type": "quantum", "quantum": self.quantum_section()}, known):
                try:
                    service.create_pilot(member.description)
                    made += 1
                except ConfigurationError:
                    if not (member.custom and member.custom.get("optional")):
                        raise
            if not made:
                raise ConfigurationError(f"executor {self.name!r} offers no resource", field="config",
                                         value=self.config, fix="check its backend or device")
            self._service = service
        return self._service

    def resources(self) -> list[Any]:
        """The QTAU resources this executor runs on."""
        return [r for p in self._qtau().get_pilots() for r in p.resources]

    def execute_circuit(self, circuit: Any, *args: Any, **kwargs: Any) -> Any:
        many = isinstance(circuit, (list, tuple))
        task = QuantumTask(circuit=list(circuit) if many else circuit, args=args, kwargs=kwargs, shots=self.shots)
        service = self._qtau()
        results = service.get_results(service.submit_quantum_tasks(task.to_qtau()))
        return results if many else results[0]

    def get_available_resources(self) -> dict[str, Any]:
        return {r.id: {"qubits": r.num_qubits, "kind": r.kind} for r in self.resources()}

    def get_queue_lengths(self) -> dict[str, float]:
        return {}

    def get_backend_status(self, backend_name: str) -> dict[str, Any]:
        return {"name": backend_name, "queue_length": 0.0, "status": "unknown"}

    def is_simulator(self) -> bool:
        return all(r.kind == "simulator" for r in self.resources())

    def is_available(self) -> bool:
        try:
            self.resources()
        except ConfigurationError:
            return False
        return True

    def calculate_execution_fidelity(self, circuit: Any, result: Any, expected_state: Any = None) -> float | None:
        return None

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None


#: The name Pilot-Quantum's architecture notes give the base class.
BaseQuantumExecutor = BaseExecutor
