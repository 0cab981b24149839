"""Entry point of the `ibmq` plugin: hook implementations only.

Imports nothing but `qtau` and this package's SDK-free modules at module level; qiskit and
qiskit-ibm-runtime are imported inside the functions that reach IBM or touch circuits.
Executors: `ibmq_<backend>`, `ibmq_least_busy`, `ibmq_fake_<name>`, `ibmq_qasm_simulator`.
The `qiskit` circuit format (recognition, summaries, OpenQASM conversion) belongs to qtau-qiskit,
a dependency of this package.
"""

from __future__ import annotations

from qtau import Backend, hookimpl
from qtau.versions import installed_versions

PROVIDER = "ibmq"


class IbmqBackend(Backend):
    """IBM Quantum devices (remote: Runtime jobs) and offline fake backends (in-process)."""

    provider = PROVIDER
    executor_prefixes = ("ibmq_",)
    #: Imported one thread at a time before first use (see qtau.Backend.sdk_modules).
    sdk_modules = ("qiskit", "qiskit.transpiler", "qiskit_ibm_runtime", "qiskit_ibm_runtime.fake_provider")
    description = ("IBM Quantum Runtime: ibmq_<backend>, ibmq_least_busy, ibmq_fake_<name> (offline), "
                   "ibmq_qasm_simulator (local Aer)")

    def resources(self, executor, config):
        from qtau_ibmq.backends import resources

        return resources(executor, config)

    def executor(self, resource, config):
        from qtau_ibmq.executor import create_executor

        return create_executor(resource, config)

    def status(self, resource, config):
        from qtau_ibmq.reporting import status

        return status(resource, config)

    def noise(self, resource, config):
        from qtau_ibmq.reporting import noise_profile

        return noise_profile(resource, config)

    def cost(self, resource, config, shots):
        from qtau_ibmq.pricing import estimate

        return estimate(resource, config, shots)

    def price_tables(self):
        from qtau_ibmq.pricing import price_table

        return [price_table()]

    def offline_resources(self, executor, config):
        from qtau_ibmq.offline import resources

        return resources(executor, config)


@hookimpl
def qtau_backends():
    return [IbmqBackend()]


@hookimpl
def qtau_optimisation_levels(resource, config, circuit, circuit_format):
    """With `optimization_level="auto"`: each transpiler level's estimated fidelity of `circuit`
    on the device's calibration and the level its run will use (`qtau_ibmq.levels`)."""
    if resource.provider != PROVIDER or circuit_format != "qiskit":
        return None
    from qtau_ibmq.executor import level_estimates

    return level_estimates(resource, config, circuit)


@hookimpl
def qtau_versions():
    """Versions of the IBM runtime, Qiskit and Aer (which runs the fake backends), for `qtau doctor`."""
    return installed_versions("qiskit-ibm-runtime", "qiskit", "qiskit-aer")
