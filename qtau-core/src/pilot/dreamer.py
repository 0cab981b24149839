"""`from pilot.dreamer import QuantumTask` keeps working (Pilot-Quantum compatibility)."""

from qtau.dreamer import QDreamer as Q_DREAMER
from qtau.types import QuantumTask

__all__ = ["Q_DREAMER", "QuantumTask"]
