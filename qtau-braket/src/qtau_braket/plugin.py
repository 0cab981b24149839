"""Entry point of the `braket` plugin: hook implementations only.

Imports nothing but `qtau` and this package's SDK-free modules at module level; the Braket SDK and
boto3 are imported inside the functions that run circuits, reach AWS or touch circuit objects.
Executors: `braket_local`, `braket_local_dm`, `braket_sv1`, `braket_dm1`, `braket_tn1`,
`braket_ionq`, `braket_rigetti`, `braket_iqm`, `braket_oqc`, `braket_aqt`, `braket_device_arn`.
"""

from __future__ import annotations

from qtau import Backend, hookimpl
from qtau.types import free
from qtau.versions import installed_versions

from qtau_braket import names

PROVIDER = "braket"
FORMATS = ("braket", "openqasm3")


def _local(resource) -> bool:
    return "arn" not in resource.metadata


class BraketBackend(Backend):
    """Braket's LocalSimulator (in-process) and AWS devices by ARN (remote: a provider queue)."""

    provider = PROVIDER
    executor_prefixes = ("braket_",)
    #: Imported one thread at a time before first use (see qtau.Backend.sdk_modules); a device
    #: on AWS also needs `braket.aws` (boto3), which local simulators do not (`sdk_modules_for`).
    sdk_modules = ("braket.circuits", "braket.circuits.noises", "braket.devices", "braket.default_simulator")
    description = "Amazon Braket: " + ", ".join(names.known_executors())

    def sdk_modules_for(self, resource):
        return (*self.sdk_modules, "braket.aws") if resource.remote else self.sdk_modules

    def resources(self, executor, config):
        if executor in names.LOCAL:
            from qtau_braket.local import resources

            return resources(executor, config)
        from qtau_braket.reporting import resources

        return resources(executor, config)

    def executor(self, resource, config):
        if _local(resource):
            from qtau_braket.local import LocalSimulatorExecutor

            return LocalSimulatorExecutor(resource, config)
        from qtau_braket.aws import create_executor

        return create_executor(resource, config)

    def status(self, resource, config):
        if _local(resource):
            from qtau_braket.local import status

            return status(resource)
        from qtau_braket.reporting import status

        return status(resource, config)

    def noise(self, resource, config):
        if _local(resource):
            from qtau_braket.local import noise_profile

            return noise_profile(resource)
        from qtau_braket.reporting import noise_profile

        return noise_profile(resource, config)

    def cost(self, resource, config, shots):
        if _local(resource):
            return free(resource.id)
        from qtau_braket.pricing import estimate

        return estimate(resource, config, shots)

    def price_tables(self):
        from qtau_braket.pricing import price_table

        return [price_table()]

    def offline_resources(self, executor, config):
        if executor in names.LOCAL:
            return None  # the local simulators need no credentials: quoted live
        from qtau_braket.offline import resources

        return resources(executor, config)


@hookimpl
def qtau_backends():
    return [BraketBackend()]


@hookimpl
def qtau_circuit_format(circuit):
    cls = type(circuit)
    if cls.__module__.startswith("braket.circuits") and any(c.__name__ == "Circuit" for c in cls.__mro__):
        return "braket"
    return None


@hookimpl
def qtau_circuit_summary(circuit, circuit_format):
    if circuit_format not in FORMATS:
        return None
    from qtau_braket.formats import summary

    return summary(circuit, circuit_format)


@hookimpl
def qtau_circuit_converters():
    from qtau_braket.formats import converters

    return converters(PROVIDER)


@hookimpl
def qtau_versions():
    """Versions of the Braket SDK, its local simulator and boto3, for `qtau doctor`."""
    return installed_versions("amazon-braket-sdk", "amazon-braket-default-simulator", "boto3")
