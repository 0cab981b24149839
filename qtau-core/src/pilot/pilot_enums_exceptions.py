"""Pilot-Quantum's `pilot.pilot_enums_exceptions`: ExecutionEngine and PilotAPIException."""

from __future__ import annotations

from enum import Enum

from qtau.engines import ExecutionEngine as QtauEngine
from qtau.errors import ConfigurationError


class ExecutionEngine(Enum):
    """Where tasks run. RAY and LOCAL are QTAU's engines; DASK is refused with a fix."""

    RAY = "ray"
    LOCAL = "local"
    DASK = "dask"


class PilotAPIException(ConfigurationError):
    """Pilot-Quantum's error for a misused service or pilot (a QTAU ConfigurationError)."""


def qtau_engine(engine: object) -> QtauEngine:
    """QTAU's engine for a Pilot-Quantum (or QTAU) engine value."""
    if isinstance(engine, ExecutionEngine):
        if engine is ExecutionEngine.DASK:
            raise PilotAPIException(
                "QTAU runs tasks on Ray or in-process, not on Dask", field="execution_engine", value="dask",
                fix="use ExecutionEngine.RAY (a Ray cluster) or ExecutionEngine.LOCAL",
            )
        engine = engine.value
    return QtauEngine.parse(engine)
