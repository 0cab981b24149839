"""Pilot-Quantum's QuantumExecutorFactory: executor classes by type name."""

from __future__ import annotations

from typing import Any

from qtau.errors import ConfigurationError

from pilot.executors.base_executor import BaseExecutor
from pilot.executors.braket_executor import BraketExecutor
from pilot.executors.ibmq_executor import IBMQExecutor
from pilot.executors.pennylane_executor import PennylaneExecutor
from pilot.executors.qiskit_executor import QiskitExecutor

EXECUTOR_REGISTRY: dict[str, type[BaseExecutor]] = {
    "qiskit": QiskitExecutor, "pennylane": PennylaneExecutor, "braket": BraketExecutor, "ibmq": IBMQExecutor,
}


class UnsupportedExecutorError(ConfigurationError, ValueError):
    """An executor type the factory does not know (a ValueError, as in Pilot-Quantum)."""


class QuantumExecutorFactory:
    @classmethod
    def create_executor(cls, executor_type: str, config: dict[str, Any] | None = None) -> BaseExecutor:
        if not cls.is_supported(executor_type):
            raise UnsupportedExecutorError(
                f"Unsupported executor type: {executor_type!r}", field="executor_type", value=executor_type,
                fix=f"use one of {', '.join(EXECUTOR_REGISTRY)}",
            )
        return EXECUTOR_REGISTRY[executor_type](executor_type, config)

    @classmethod
    def is_supported(cls, executor_type: str) -> bool:
        return executor_type in EXECUTOR_REGISTRY

    @classmethod
    def get_supported_types(cls) -> list[str]:
        return list(EXECUTOR_REGISTRY)

    @classmethod
    def get_executor_info(cls, executor_type: str) -> dict[str, Any]:
        if not cls.is_supported(executor_type):
            return {"supported": False, "error": f"Executor type {executor_type!r} not supported"}
        executor_class = EXECUTOR_REGISTRY[executor_type]
        return {"supported": True, "class_name": executor_class.__name__,
                "description": executor_class.__doc__ or "", "error": None}

    @classmethod
    def get_all_executor_info(cls) -> dict[str, dict[str, Any]]:
        return {t: cls.get_executor_info(t) for t in EXECUTOR_REGISTRY}


def create_executor(executor_type: str, config: dict[str, Any] | None = None) -> BaseExecutor:
    return QuantumExecutorFactory.create_executor(executor_type, config)


def is_executor_supported(executor_type: str) -> bool:
    return QuantumExecutorFactory.is_supported(executor_type)


def get_supported_executors() -> list[str]:
    return QuantumExecutorFactory.get_supported_types()
