"""Every hook a QTAU plugin can implement.

Plugins implement them with `@qtau.hookimpl` in their entry-point module (group `qtau`); pluggy
calls them with keyword arguments, and an impl may accept fewer arguments than the spec.

- Backends: `qtau_backends` returns the plugin's `qtau.Backend` objects. Everything about a
  resource (its executor, status, noise, cost) is asked of the Backend whose `provider` matches
  `resource.provider`; plugins never check ownership.
- Circuit formats stay hooks, because they are answered by object, not by provider.
- v1 hooks (per-provider hooks answering None for what is not theirs) still load through an
  adapter that emits a DeprecationWarning naming the plugin; they go in a later minor release.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from qtau.backend import Backend
    from qtau.executor import Executor
    from qtau.optimisation_levels import LevelEstimates
    from qtau.types import (
        CircuitSummary,
        Converter,
        CostEstimate,
        ExecutorInfo,
        NoiseProfile,
        Resource,
        ResourceStatus,
    )

hookspec = pluggy.HookspecMarker("qtau")


# 1. Backends ----------------------------------------------------------------------------------


@hookspec
def qtau_backends() -> Sequence[Backend]:
    """This plugin's Backend objects, one per provider. Every plugin's answer is collected."""


@hookspec
def qtau_versions() -> Mapping[str, str]:
    """`{package: version}` of the SDKs this plugin runs on, shown by `qtau doctor`. Read from
    package metadata (`qtau.versions.installed_versions`), never by importing the SDK. Collected."""


# 2. Circuit formats ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def qtau_circuit_format(circuit: object) -> str | None:
    """The format name of `circuit` (`qiskit`, `braket`, `pennylane_qnode`, `pennylane_tape`...).

    Core recognises OpenQASM text (`openqasm2`, `openqasm3`) itself. Return None when the object
    is not of a format you know; never import an SDK just to say no. First answer wins.
    """


@hookspec
def qtau_circuit_converters() -> Sequence[Converter]:
    """Edges of the conversion graph this plugin offers (to and from its own SDK's format).

    Every plugin's answer is collected; core finds the cheapest path.
    """


@hookspec(firstresult=True)
def qtau_circuit_summary(circuit: object, circuit_format: str) -> CircuitSummary | None:
    """Width, gate counts and measurement shape of `circuit`, given its format.

    Return None for formats you do not own. Count a composite gate as the gates of its
    definition; keep only the names of gates without one. A format with classical bits says how
    many (`classical_bits`) and which a measurement writes (`measured_bits`): results read per
    measurement elsewhere are put back at those bits. Core summarises OpenQASM 2/3 text itself
    when no plugin answers. First answer wins.
    """


@hookspec(firstresult=True)
def qtau_optimisation_levels(
    resource: Resource, config: Mapping[str, Any], circuit: object, circuit_format: str,
) -> LevelEstimates | None:
    """Optional: the estimated fidelity of `circuit` (in `circuit_format`, one of the resource's
    `circuit_formats`, converted as a worker would) at each optimisation level of your transpiler
    on `resource` (one of yours, with its pilot's `config`), and the level it would run at.

    Called by QDREAMER in the driver when it ranks a task's shape on a resource that passes every
    other check (once per task shape and snapshot of provider reports, and by `explain()`), only for
    resources of a plugin that implements it. Return None when you do not weigh levels there
    (another provider's resource, a fixed level, a format you do not read). The chosen level's
    estimate replaces the noise profile's in the ranking and in error mitigation's predictions;
    `explain()` shows every level. Cache what you transpile, so the run reuses it. A raise is
    logged as a warning and the resource is ranked as without this hook. First answer wins.
    """


@hookspec(firstresult=True)
def qtau_circuit_width(circuit: object, circuit_format: str) -> int | None:
    """The number of qubits of `circuit`, given its format: optional, a cheap read for the worker.

    A worker needs only the width of a task's circuit (to check the task's `num_qubits` and to pad
    the counts' keys), not its gate counts: answer when your SDK's object knows its width without
    walking its gates; return None for formats you do not own, and core falls back to
    `qtau_circuit_summary`. First answer wins.
    """


@hookspec
def qtau_compact_forms() -> Mapping[str, Callable[[Any], tuple[Callable[..., Any], tuple] | None]]:
    """Optional: faster exact forms of this plugin's SDK objects for the journal and for Ray's
    payloads, by the full name of their class (`module.QualName`; the exact class, not its
    subclasses). Each is a function of the object returning `(rebuild, args)` (`rebuild` importable
    by name where tasks run, `rebuild(*args)` equal to the object) or None to let pickle write it.
    The journal pickles every acknowledged task on the submitting thread, and RAY every payload in
    the driver, where an SDK's own pickling of a small circuit costs more than running it; the
    functions run there, so they must be fast and import nothing new. Every answer is merged.
    """


# 3. Deprecated v1 hooks (adapter: qtau.plugins_v1) ---------------------------------------------


@hookspec
def qtau_executors() -> Sequence[ExecutorInfo]:
    """Deprecated (v1): executor names this plugin serves. Use `Backend.executor_names`."""


@hookspec(firstresult=True)
def qtau_resources(executor: str, config: Mapping[str, Any]) -> Sequence[Resource] | None:
    """Deprecated (v1): resources for a pilot of `executor`. Use `Backend.resources`."""


@hookspec(firstresult=True)
def qtau_create_executor(resource: Resource, config: Mapping[str, Any]) -> Executor | None:
    """Deprecated (v1): an executor for `resource`. Use `Backend.executor` or `Backend.run`."""


@hookspec(firstresult=True)
def qtau_resource_status(resource: Resource, config: Mapping[str, Any]) -> ResourceStatus | None:
    """Deprecated (v1): status of `resource`. Use `Backend.status`."""


@hookspec(firstresult=True)
def qtau_noise_profile(resource: Resource, config: Mapping[str, Any]) -> NoiseProfile | None:
    """Deprecated (v1): noise of `resource`. Use `Backend.noise`."""


@hookspec(firstresult=True)
def qtau_cost_estimate(resource: Resource, config: Mapping[str, Any], shots: int) -> CostEstimate | None:
    """Deprecated (v1): price of a task on `resource`. Use `Backend.cost`."""


#: The v1 per-provider hooks the adapter serves.
V1_HOOKS = ("qtau_executors", "qtau_resources", "qtau_create_executor", "qtau_resource_status",
            "qtau_noise_profile", "qtau_cost_estimate")
