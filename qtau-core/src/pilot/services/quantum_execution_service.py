"""Pilot-Quantum's QuantumExecutionService: run a task's circuits on a resource's executor.

Pilot-Quantum's workers used it after QDREAMER chose; on QTAU the service's own QDREAMER and
workers do that. It remains for code that ran circuits on a `QuantumResource` directly.
"""

from __future__ import annotations

import logging
from typing import Any

from pilot.executors.base_executor import BaseExecutor
from pilot.executors.executor_factory import QuantumExecutorFactory


class QuantumExecutionService:
    def __init__(self) -> None:
        self.logger = logging.getLogger("pilot.pcs_logger")
        self._executors: dict[str, BaseExecutor] = {}

    def execute_circuit(self, quantum_task: Any, resource: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("task_id", None)
        executor = self._get_executor(self._get_executor_type_from_resource(resource), resource)
        circuits = getattr(quantum_task, "circuits", None) or [quantum_task.circuit]
        return executor.execute_circuit(circuits if len(circuits) > 1 else circuits[0], *args, **kwargs)

    def _get_executor_type_from_resource(self, resource: Any) -> str:
        name = resource.name.lower()
        for kind in ("qiskit", "pennylane", "braket", "ibmq"):
            if kind in name:
                return kind
        return "qiskit"

    def _get_executor(self, executor_type: str, resource: Any, task_id: str = "unknown") -> BaseExecutor:
        key = f"{executor_type}_{resource.name}"
        if key not in self._executors:
            self._executors[key] = QuantumExecutorFactory.create_executor(
                executor_type, self._create_executor_config(executor_type, resource))
        return self._executors[key]

    def _create_executor_config(self, executor_type: str, resource: Any) -> dict[str, Any]:
        quantum_config = getattr(resource, "quantum_config", {}) or {}
        config: dict[str, Any] = {"shots": 1000}
        if executor_type == "qiskit" and quantum_config.get("backend"):
            config["backend"] = quantum_config["backend"]
        elif executor_type == "pennylane":
            config["device"] = quantum_config.get("device", "default.qubit")
            config["wires"] = resource.qubit_count
        elif executor_type == "braket":
            config["device_arn"] = resource.name
        elif executor_type == "ibmq":
            config["backend"] = resource.name
        return config

    def get_executor_info(self, executor_type: str) -> dict[str, Any]:
        return QuantumExecutorFactory.get_executor_info(executor_type)

    def get_supported_executors(self) -> list[str]:
        return QuantumExecutorFactory.get_supported_types()

    def clear_executors(self) -> None:
        for executor in self._executors.values():
            executor.close()
        self._executors.clear()
