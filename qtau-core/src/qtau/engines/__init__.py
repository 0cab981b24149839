"""Execution engines: where tasks run. `local` (an in-process pool) and `ray` (any Ray cluster).

Engines move payloads to the functions of `qtau.engines.tasks` (the worker's, with hand-overs to
the remote-job tracker) and hand back futures (LOCAL) or Ray ObjectRefs (RAY). Each engine owns
what is specific to it: its tracker, its coalescer, its parallelism and how payloads travel.
They hold no QTAU policy: QDREAMER decides in the driver, workers execute.
"""

from __future__ import annotations

import enum

from qtau.engines.base import Engine
from qtau.engines.local import LocalEngine
from qtau.engines.ray import RayEngine
from qtau.errors import ConfigurationError


class ExecutionEngine(enum.Enum):
    """Where a PilotComputeService runs tasks (Pilot-Quantum compatible names)."""

    LOCAL = "local"
    RAY = "ray"

    @classmethod
    def parse(cls, value: object) -> ExecutionEngine:
        if isinstance(value, cls):
            return value
        for member in cls:
            if str(value).strip().lower() in {member.value, member.name.lower()}:
                return member
        raise ConfigurationError(
            f"unknown execution engine {value!r}", field="execution_engine", value=value,
            fix="use ExecutionEngine.LOCAL or ExecutionEngine.RAY ('local' or 'ray')",
        )


def create_engine(kind: ExecutionEngine, **options) -> Engine:
    if kind is ExecutionEngine.RAY:
        return RayEngine(**options)
    return LocalEngine(**options)
