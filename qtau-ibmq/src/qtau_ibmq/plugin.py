"""Entry point of the `ibmq` plugin: hook implementations only.

Imports nothing but `qtau` and this package's SDK-free modules at module level; qiskit and
qiskit-ibm-runtime are imported inside the functions that reach IBM or touch circuits.
Executors: `ibmq_<backend>`, `ibmq_least_busy`, `ibmq_fake_<name>`, `ibmq_qasm_simulator`.
The `qiskit` circuit format (recognition, summaries, OpenQASM conversion) belongs to qtau-qiskit,
a dependency of this package.
"""

from __future__ import annotations

from qtau import ExecutorInfo, hookimpl

PROVIDER = "ibmq"


@hookimpl
def qtau_executors():
    return [ExecutorInfo(
        "ibmq_", PROVIDER, prefix=True,
        description="IBM Quantum Runtime: ibmq_<backend>, ibmq_least_busy, ibmq_fake_<name> (offline), "
        "ibmq_qasm_simulator (local Aer)",
    )]


@hookimpl
def qtau_resources(executor, config):
    if not isinstance(executor, str) or not executor.startswith("ibmq_"):
        return None
    from qtau_ibmq.backends import resources

    return resources(executor, config)


@hookimpl
def qtau_create_executor(resource, config):
    if resource.provider != PROVIDER:
        return None
    from qtau_ibmq.executor import create_executor

    return create_executor(resource, config)


@hookimpl
def qtau_resource_status(resource, config):
    if resource.provider != PROVIDER:
        return None
    from qtau_ibmq.reporting import status

    return status(resource, config)


@hookimpl
def qtau_noise_profile(resource, config):
    if resource.provider != PROVIDER:
        return None
    from qtau_ibmq.reporting import noise_profile

    return noise_profile(resource, config)


@hookimpl
def qtau_cost_estimate(resource, config, shots):
    if resource.provider != PROVIDER:
        return None
    from qtau_ibmq.pricing import estimate

    return estimate(resource, config, shots)


@hookimpl
def qtau_price_tables():
    from qtau_ibmq.pricing import price_table

    return [price_table()]
