"""Every hook a QTAU plugin can implement, in four families.

Plugins implement them with `@qtau.hookimpl` in their entry-point module (group `qtau`) and are
called with keyword arguments. Reporting, execution and circuit-summary hooks are routed to the
plugin that owns the resource or format (its `provider`); a plugin answers None for anything it
does not own. A plugin may implement any subset; an impl may accept fewer arguments than the spec.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from qtau.executor import Executor
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


# 1. Discovery ---------------------------------------------------------------------------------


@hookspec
def qtau_executors() -> Sequence[ExecutorInfo]:
    """Executor names this plugin serves (`qiskit_local`; or a prefix such as `braket_`).

    Every plugin's answer is collected. Return an empty sequence to serve none.
    """


@hookspec(firstresult=True)
def qtau_resources(executor: str, config: Mapping[str, Any]) -> Sequence[Resource] | None:
    """Resources a pilot whose `quantum.executor` is `executor` gets, given its `quantum` config.

    `config` is the pilot's `quantum` section plus credentials (as `qtau.Secret`). Return None
    when the executor is not yours; raise a `QtauError` (ConfigurationError, AuthenticationError,
    BackendUnavailableError) when it is yours but cannot be served. First answer wins.
    """


# 2. Execution ---------------------------------------------------------------------------------


@hookspec(firstresult=True)
def qtau_create_executor(resource: Resource, config: Mapping[str, Any]) -> Executor | None:
    """An `qtau.Executor` that runs circuits on `resource`. Called on workers, once per resource.

    Return None when the resource is not yours. First answer wins.
    """


# 3. Reporting: these feed QDREAMER ------------------------------------------------------------


@hookspec(firstresult=True)
def qtau_resource_status(resource: Resource, config: Mapping[str, Any]) -> ResourceStatus | None:
    """Whether `resource` is online, its provider queue depth and estimated wait.

    None means "not mine" (QDREAMER then assumes online with an empty queue). First answer wins.
    """


@hookspec(firstresult=True)
def qtau_noise_profile(resource: Resource, config: Mapping[str, Any]) -> NoiseProfile | None:
    """Gate and readout errors, T1/T2 of `resource`, summarised robustly.

    None means "not mine" (QDREAMER then treats the resource as noiseless). First answer wins.
    """


@hookspec(firstresult=True)
def qtau_cost_estimate(resource: Resource, config: Mapping[str, Any], shots: int) -> CostEstimate | None:
    """Price of one task of `shots` shots on `resource`; zero for local simulators.

    None means "not mine" (QDREAMER then assumes free). First answer wins.
    """


@hookspec
def qtau_price_tables() -> Sequence[Mapping[str, str]]:
    """Price tables this plugin ships: each `{"name", "source", "as_of"}` (`as_of` an ISO date).

    Every plugin's answer is collected; `qtau doctor` warns about tables older than 180 days.
    Return an empty sequence when the plugin ships none.
    """


# 4. Circuit formats ---------------------------------------------------------------------------


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

    Return None for formats you do not own. First answer wins.
    """
