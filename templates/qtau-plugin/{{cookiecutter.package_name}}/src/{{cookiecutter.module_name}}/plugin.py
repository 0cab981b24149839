"""Entry point of the `{{ cookiecutter.provider }}` plugin: hook implementations only.

Imports nothing but `qtau` (and this package's light modules) at module level: `qtau plugins`,
QDREAMER's ranking and `import qtau` must stay cheap. The simulator (or your SDK) is imported
inside `qtau_create_executor`, which runs where tasks run.
"""

from __future__ import annotations

from qtau import ExecutorInfo, Resource, hookimpl
from qtau.circuits import OPENQASM2, OPENQASM3
from qtau.errors import ConfigurationError
from qtau.types import ResourceStatus, free, ideal_noise

PROVIDER = "{{ cookiecutter.provider }}"
EXECUTOR = "{{ cookiecutter.executor }}"
MAX_QUBITS = {{ cookiecutter.max_qubits }}
OPTIONS = ("executor", "seed")


@hookimpl
def qtau_executors():
    return [ExecutorInfo(EXECUTOR, PROVIDER, "{{ cookiecutter.sdk_name }} state-vector simulator")]


@hookimpl
def qtau_resources(executor, config):
    if executor != EXECUTOR:
        return None
    unknown = sorted(set(config) - set(OPTIONS))
    if unknown:
        raise ConfigurationError(
            f"unknown option {unknown[0]!r} for {EXECUTOR}", field=f"quantum.{unknown[0]}", value=config[unknown[0]],
            fix=f"use only {', '.join(OPTIONS)}",
        )
    from {{ cookiecutter.module_name }}.qasm import SUPPORTED_GATES

    return [Resource(
        id=f"{PROVIDER}:statevector", provider=PROVIDER, executor=executor, kind="simulator",
        num_qubits=MAX_QUBITS, native_gates=SUPPORTED_GATES, transpiles=False,
        circuit_formats=(OPENQASM3, OPENQASM2),
        # QDREAMER's run-time estimate (seconds); see the plugin guide's metadata table.
        metadata={"seconds_per_task": 0.001, "seconds_per_shot": 2e-6},
    )]


@hookimpl
def qtau_create_executor(resource, config):
    if resource.provider != PROVIDER:
        return None
    from {{ cookiecutter.module_name }}.simulator import StatevectorExecutor

    return StatevectorExecutor(resource, config)


@hookimpl
def qtau_resource_status(resource, config):
    return ResourceStatus(resource.id, online=True) if resource.provider == PROVIDER else None


@hookimpl
def qtau_noise_profile(resource, config):
    return ideal_noise(resource.id) if resource.provider == PROVIDER else None


@hookimpl
def qtau_cost_estimate(resource, config, shots):
    return free(resource.id) if resource.provider == PROVIDER else None


@hookimpl
def qtau_circuit_summary(circuit, circuit_format):
    if circuit_format not in (OPENQASM2, OPENQASM3) or not isinstance(circuit, str):
        return None
    from {{ cookiecutter.module_name }}.qasm import parse

    try:
        return parse(circuit).summary()
    except ValueError:
        return None   # not a program this reader understands: another plugin may
