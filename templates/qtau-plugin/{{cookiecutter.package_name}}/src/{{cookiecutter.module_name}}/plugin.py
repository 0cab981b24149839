"""Entry point of the `{{ cookiecutter.provider }}` plugin: its Backend, registered through `qtau_backends()`.

Imports nothing but `qtau` at module level: `qtau plugins`, QDREAMER's ranking and `import qtau`
must stay cheap. The simulator (or your SDK) is imported inside `executor()`, which runs where
tasks run. Core reads and summarises OpenQASM itself, so this backend needs no format hooks.
"""

from __future__ import annotations

from qtau import Backend, Resource, hookimpl
from qtau.circuits import OPENQASM2, OPENQASM3
from qtau.errors import ConfigurationError
from qtau.types import ResourceStatus, free, ideal_noise

OPTIONS = ("executor", "seed")
#: Gates the reference simulator applies (canonical QTAU names, see qtau.gates).
NATIVE_GATES = ("id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "p", "cx", "cz", "swap",
                "measure", "barrier")


class {{ cookiecutter.provider.title().replace('_', '') }}Backend(Backend):
    """{{ cookiecutter.sdk_name }}: one state-vector simulator resource."""

    provider = "{{ cookiecutter.provider }}"
    executor_names = ("{{ cookiecutter.executor }}",)
    description = "{{ cookiecutter.sdk_name }} state-vector simulator"
    max_qubits = {{ cookiecutter.max_qubits }}

    def resources(self, executor, config):
        unknown = sorted(set(config) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(
                f"unknown option {unknown[0]!r} for {executor}", field=f"quantum.{unknown[0]}",
                value=config[unknown[0]], fix=f"use only {', '.join(OPTIONS)}",
            )
        return [Resource(
            id=f"{self.provider}:statevector", provider=self.provider, executor=executor, kind="simulator",
            num_qubits=self.max_qubits, native_gates=NATIVE_GATES, transpiles=False,
            circuit_formats=(OPENQASM3, OPENQASM2),
            # QDREAMER's run-time estimate in seconds (the plugin guide lists the keys it reads).
            metadata={"seconds_per_task": 0.001, "seconds_per_shot": 2e-6},
        )]

    def executor(self, resource, config):
        from {{ cookiecutter.module_name }}.simulator import StatevectorExecutor

        return StatevectorExecutor(resource, config)

    def status(self, resource, config):
        return ResourceStatus(resource.id, online=True)

    def noise(self, resource, config):
        return ideal_noise(resource.id)

    def cost(self, resource, config, shots):
        return free(resource.id)


@hookimpl
def qtau_backends():
    return [{{ cookiecutter.provider.title().replace('_', '') }}Backend()]
