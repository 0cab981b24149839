"""Entry point of the `pennylane` plugin: hook implementations only.

Imports nothing but `qtau` (and this package's PennyLane-free modules) at module level; PennyLane
is imported inside the functions that build tapes, devices or convert circuits.
"""

from __future__ import annotations

from qtau import Backend, ExecutorInfo, hookimpl
from qtau.versions import installed_versions

from qtau_pennylane import catalog, devices, formats, reporting

PROVIDER = catalog.PROVIDER


class PennyLaneBackend(Backend):
    """PennyLane devices: default.qubit/mixed, lightning.*, qiskit.*, braket.*, rigetti.*."""

    provider = PROVIDER
    executor_names = tuple(catalog.EXECUTORS)
    #: Imported one thread at a time before first use (see qtau.Backend.sdk_modules), with the
    #: package of each resource's device (`sdk_modules_for`).
    sdk_modules = ("pennylane",)
    description = "PennyLane devices"

    def sdk_modules_for(self, resource):
        return (*self.sdk_modules, *devices.device_modules(resource.metadata.get("device", "")))

    def executors(self):
        return [ExecutorInfo(name, PROVIDER, catalog.DESCRIPTIONS[name]) for name in catalog.EXECUTORS]

    def resources(self, executor, config):
        return catalog.resources(executor, config)

    def executor(self, resource, config):
        from qtau_pennylane.executor import create_executor

        return create_executor(resource, config)

    def status(self, resource, config):
        return reporting.status(resource, config)

    def noise(self, resource, config):
        from qtau_pennylane.noise import noise_profile

        return noise_profile(resource)

    def cost(self, resource, config, shots):
        return reporting.cost(resource, shots)


@hookimpl
def qtau_backends():
    return [PennyLaneBackend()]


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


@hookimpl
def qtau_versions():
    """Versions of PennyLane, lightning and the optional device plugins (qiskit.*, braket.*), for `qtau doctor`."""
    return installed_versions("pennylane", "pennylane-lightning", "pennylane-qiskit", "amazon-braket-pennylane-plugin")
