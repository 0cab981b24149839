"""QTAU: run quantum circuits on any installed backend; QDREAMER picks the best one per task.

This module is the public API and nothing else. Heavy parts (the service, engines, QDREAMER)
load on first use, so `import qtau` imports no quantum SDK and no Ray.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pluggy

from qtau.backend import Backend
from qtau.errors import (
    AuthenticationError,
    BackendUnavailableError,
    BudgetExceededError,
    CancelRefusedError,
    CircuitConversionError,
    CircuitFunctionExitError,
    CircuitFunctionTimeoutError,
    CircuitWidthError,
    ConfigurationError,
    CurrencyError,
    ExecutionError,
    InvalidArgumentError,
    InvalidTaskError,
    JobLostError,
    JournalCorruptError,
    JournalError,
    JournalLockedError,
    JournalVersionError,
    MitigationError,
    NoSuitableResourceError,
    PluginError,
    QasmIncludeError,
    QasmLimitError,
    QtauError,
    TaskCancelledError,
    TaskTimeoutError,
    UnknownExecutorError,
)
from qtau.executor import CircuitJob, Executor, JobState, LocalExecutor, RemoteExecutor
from qtau.secrets import Secret
from qtau.types import (
    Attempt,
    CircuitSummary,
    Converter,
    CostEstimate,
    ExecutorInfo,
    NoiseProfile,
    Outcome,
    QuantumTask,
    Resource,
    ResourceStatus,
    Result,
    ResultPart,
    Timings,
)
from qtau.versions import core_version

#: Marks a plugin's hook implementations: `@qtau.hookimpl def qtau_executors(): ...`
hookimpl = pluggy.HookimplMarker("qtau")

_LAZY = {
    "PilotComputeService": "qtau.service",
    "PilotCompute": "qtau.service",
    "ExecutionEngine": "qtau.engines",
    "QDreamer": "qtau.dreamer",
    "PluginHost": "qtau.plugins",
    "TaskFailure": "qtau.payloads",
    "Quote": "qtau.dreamer.quote",
}

if TYPE_CHECKING:
    from qtau.dreamer import QDreamer
    from qtau.dreamer.quote import Quote
    from qtau.engines import ExecutionEngine
    from qtau.payloads import TaskFailure
    from qtau.plugins import PluginHost
    from qtau.service import PilotCompute, PilotComputeService


def __getattr__(name: str) -> Any:
    if name == "__version__":
        # Single-sourced: the installed distribution's metadata (built from the repository's VERSION).
        return core_version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qtau' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Attempt", "AuthenticationError", "Backend", "JobState", "RemoteExecutor", "BackendUnavailableError",
    "BudgetExceededError", "CircuitConversionError", "CircuitFunctionExitError", "CircuitWidthError", "QasmIncludeError", "QasmLimitError",
    "CircuitJob", "CircuitSummary", "ConfigurationError", "Converter", "CostEstimate", "CurrencyError",
    "ExecutionEngine", "ExecutionError", "Executor", "ExecutorInfo", "InvalidTaskError",
    "LocalExecutor", "NoSuitableResourceError", "NoiseProfile", "Outcome", "PilotCompute",
    "PilotComputeService", "PluginError", "PluginHost", "QDreamer", "QtauError", "QuantumTask", "Quote",
    "Resource", "ResourceStatus", "Result", "ResultPart", "Secret", "TaskCancelledError", "TaskFailure",
    "TaskTimeoutError", "Timings", "UnknownExecutorError", "hookimpl", "CancelRefusedError", "JobLostError",
    "CircuitFunctionTimeoutError", "InvalidArgumentError", "JournalError", "JournalCorruptError",
    "JournalLockedError", "JournalVersionError", "MitigationError",
]
