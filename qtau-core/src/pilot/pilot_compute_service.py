"""`from pilot.pilot_compute_service import PilotComputeService, ExecutionEngine` keeps working."""

from qtau.engines import ExecutionEngine
from qtau.service import PilotCompute, PilotComputeService

__all__ = ["ExecutionEngine", "PilotCompute", "PilotComputeService"]
