"""Execution engines: where tasks run. `local` (an in-process pool) and `ray` (any Ray cluster).

Engines move payloads to `qtau.worker` functions and hand back futures (LOCAL) or Ray ObjectRefs
(RAY). They hold no QTAU policy: QDREAMER decides in the driver, workers execute.
"""

from __future__ import annotations

import enum


class ExecutionEngine(enum.Enum):
    """Where a PilotComputeService runs tasks (Pilot-Quantum compatible names)."""

    LOCAL = "local"
    RAY = "ray"

    @classmethod
    def parse(cls, value: object) -> ExecutionEngine:
        from qtau.errors import ConfigurationError

        if isinstance(value, cls):
            return value
        for member in cls:
            if str(value).strip().lower() in {member.value, member.name.lower()}:
                return member
        raise ConfigurationError(
            f"unknown execution engine {value!r}", field="execution_engine", value=value,
            fix="use ExecutionEngine.LOCAL or ExecutionEngine.RAY ('local' or 'ray')",
        )


def create_engine(kind: ExecutionEngine, **options):
    if kind is ExecutionEngine.RAY:
        from qtau.engines.ray import RayEngine

        return RayEngine(**options)
    from qtau.engines.local import LocalEngine

    return LocalEngine(**options)
