"""Pilot-Quantum's PennylaneExecutor: a PennyLane device through QTAU's `pennylane_*` executors."""

from __future__ import annotations

from typing import Any

from pilot.executors.base_executor import BaseExecutor


class PennylaneExecutor(BaseExecutor):
    """Config: `device` (default.qubit, lightning.qubit, qiskit.aer...), `wires`, `shots`.

    `wires` sizes only `_get_device()`; QTAU sizes the device it runs to each circuit.
    """

    def __init__(self, name: str, config: dict[str, Any] | None = None) -> None:
        super().__init__(name, config)
        self.device_name = self.config.get("device", "default.qubit")
        self.wires = self.config.get("wires", 2)
        self._device: Any = None

    def quantum_section(self) -> dict[str, Any]:
        return {"executor": "pennylane", "device": self.device_name}

    def _get_device(self) -> Any:
        if self._device is None:
            import pennylane as qml

            self._device = qml.device(self.device_name, wires=self.wires)
        return self._device

    def get_backend_info(self) -> dict[str, Any]:
        return {"name": self.device_name, "wires": self.wires, "shots": self.shots,
                "short_name": self.device_name, "device_name": self.device_name}

    def is_available(self) -> bool:
        import importlib.util

        return importlib.util.find_spec("pennylane") is not None and super().is_available()

    def get_available_resources(self) -> dict[str, Any]:
        return {"device_name": self.device_name, "wires": self.wires, "shots": self.shots}


#: The spelling Pilot-Quantum's changelog uses.
PennyLaneExecutor = PennylaneExecutor
