"""Entry point of the `qiskit` plugin: hook implementations only.

Imports nothing but `qtau` at module level; Qiskit is imported inside the functions that run
circuits or touch circuit objects, so listing plugins stays cheap.
"""

from __future__ import annotations

from qtau import ExecutorInfo, hookimpl
from qtau.types import free

from qtau_qiskit import settings

PROVIDER = "qiskit"


@hookimpl
def qtau_executors():
    return [ExecutorInfo("qiskit_local", PROVIDER, "Qiskit Aer and BasicSimulator on this machine")]


@hookimpl
def qtau_resources(executor, config):
    if executor != "qiskit_local":
        return None
    return settings.resources(config)


@hookimpl
def qtau_create_executor(resource, config):
    if resource.provider != PROVIDER:
        return None
    from qtau_qiskit.simulators import create_executor

    return create_executor(resource, config)


@hookimpl
def qtau_resource_status(resource):
    if resource.provider != PROVIDER:
        return None
    return settings.status(resource)


@hookimpl
def qtau_noise_profile(resource, config):
    if resource.provider != PROVIDER:
        return None
    return settings.noise_profile(resource, config)


@hookimpl
def qtau_cost_estimate(resource):
    if resource.provider != PROVIDER:
        return None
    return free(resource.id)


@hookimpl
def qtau_circuit_format(circuit):
    cls = type(circuit)
    if cls.__module__.startswith("qiskit.") and any(c.__name__ == "QuantumCircuit" for c in cls.__mro__):
        return "qiskit"
    return None


@hookimpl
def qtau_circuit_summary(circuit, circuit_format):
    if circuit_format not in ("qiskit", "openqasm2", "openqasm3"):
        return None
    from qtau_qiskit.formats import summary

    return summary(circuit, circuit_format)


@hookimpl
def qtau_circuit_converters():
    from qtau_qiskit.formats import converters

    return converters(PROVIDER)
