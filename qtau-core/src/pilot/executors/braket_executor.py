"""Pilot-Quantum's BraketExecutor: Amazon Braket through QTAU's `braket_*` executors."""

from __future__ import annotations

from typing import Any

from pilot.executors.base_executor import BaseExecutor


class BraketExecutor(BaseExecutor):
    """Config: `device_arn` (an AWS device), or none for the local Braket simulator."""

    def quantum_section(self) -> dict[str, Any]:
        arn = self.config.get("device_arn") or self.config.get("braket_device_arn")
        if arn and str(arn).startswith("arn:"):
            return {"executor": "braket_device_arn", "braket_device_arn": arn}
        return {"executor": "braket_local"}

    def is_simulator(self) -> bool:
        arn = str(self.config.get("device_arn") or "")
        return not arn.startswith("arn:") or "/quantum-simulator/" in arn
