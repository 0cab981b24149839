"""Entry point of the `pennylane` plugin: hook implementations only.

Imports nothing but `qtau` (and this package's PennyLane-free modules) at module level; PennyLane
is imported inside the functions that build tapes, devices or convert circuits.
"""

from __future__ import annotations

from qtau import ExecutorInfo, hookimpl

from qtau_pennylane import catalog, formats, reporting

PROVIDER = catalog.PROVIDER


@hookimpl
def qtau_executors():
    return [ExecutorInfo(name, PROVIDER, catalog.DESCRIPTIONS[name]) for name in catalog.EXECUTORS]


@hookimpl
def qtau_resources(executor, config):
    if executor not in catalog.EXECUTORS:
        return None
    return catalog.resources(executor, config)


@hookimpl
def qtau_create_executor(resource, config):
    if resource.provider != PROVIDER:
        return None
    from qtau_pennylane.executor import create_executor

    return create_executor(resource, config)


@hookimpl
def qtau_resource_status(resource, config):
    if resource.provider != PROVIDER:
        return None
    return reporting.status(resource, config)


@hookimpl
def qtau_noise_profile(resource):
    if resource.provider != PROVIDER:
        return None
    from qtau_pennylane.noise import noise_profile

    return noise_profile(resource)


@hookimpl
def qtau_cost_estimate(resource, shots):
    if resource.provider != PROVIDER:
        return None
    return reporting.cost(resource, shots)


@hookimpl
def qtau_circuit_format(circuit):
    return formats.circuit_format(circuit)


@hookimpl
def qtau_circuit_summary(circuit, circuit_format):
    if circuit_format not in ("pennylane_qnode", "pennylane_tape"):
        return None
    return formats.summary(circuit, circuit_format)


@hookimpl
def qtau_circuit_converters():
    return formats.converters(PROVIDER)
