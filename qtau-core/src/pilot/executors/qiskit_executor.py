"""Pilot-Quantum's QiskitExecutor: Qiskit Aer (or BasicSimulator) through QTAU's `qiskit_local`."""

from __future__ import annotations

from typing import Any

from pilot.executors.base_executor import BaseExecutor


class QiskitExecutor(BaseExecutor):
    """Config: `backend` (qasm_simulator, statevector_simulator, basicaer...), `shots`, `backend_options`."""

    def __init__(self, name: str, config: dict[str, Any] | None = None) -> None:
        super().__init__(name, config)
        self.backend_options = dict(self.config.get("backend_options") or {})

    def quantum_section(self) -> dict[str, Any]:
        section: dict[str, Any] = {"executor": "qiskit_local"}
        backend = self.config.get("backend")
        if backend and not str(backend).startswith("qiskit_aer"):
            section["backend"] = backend
        if self.backend_options:
            section["backend_options"] = self.backend_options
        return section

    def is_simulator(self) -> bool:
        return True
