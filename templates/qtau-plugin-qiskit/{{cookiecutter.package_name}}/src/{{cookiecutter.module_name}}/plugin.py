"""Entry point of the `{{ cookiecutter.provider }}` plugin: a Backend wrapping a Qiskit BackendV2.

Imports nothing but `qtau` at module level: `qtau plugins`, QDREAMER's ranking and `import qtau`
must stay cheap. Qiskit is imported inside the executor, which runs where tasks run. The `qiskit`
circuit format (recognising a QuantumCircuit, converting OpenQASM to one) is qtau-qiskit's, so this
plugin implements no format hooks.
"""

from __future__ import annotations

from qtau import Backend, Resource, hookimpl
from qtau.errors import ConfigurationError
from qtau.types import ResourceStatus, free, ideal_noise
from qtau.versions import installed_versions

OPTIONS = ("executor", "seed")
#: Gates the backend runs without transpiling (canonical QTAU names, see qtau.gates). With
#: `transpiles=True` QDREAMER also accepts every standard gate, as the executor transpiles.
NATIVE_GATES = ("id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "p", "u", "cx", "cz",
                "swap", "ccx", "measure", "reset", "barrier")


class {{ cookiecutter.provider.title().replace('_', '') }}Backend(Backend):
    """{{ cookiecutter.sdk_name }}: one resource, a Qiskit BackendV2 run in-process."""

    provider = "{{ cookiecutter.provider }}"
    executor_names = ("{{ cookiecutter.executor }}",)
    description = "{{ cookiecutter.sdk_name }} (a Qiskit BackendV2)"
    #: Imported one thread at a time before the executor's first use (add your SDK's modules).
    sdk_modules = ("qiskit",)
    max_qubits = {{ cookiecutter.max_qubits }}

    def resources(self, executor, config):
        # Validate here: create_pilot calls this, so a bad option fails before any task runs.
        unknown = sorted(set(config) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(
                f"unknown option {unknown[0]!r} for {executor}", field=f"quantum.{unknown[0]}",
                value=config[unknown[0]], fix=f"use only {', '.join(OPTIONS)}",
            )
        seed = config.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigurationError("seed must be an integer", field="quantum.seed", value=seed,
                                     fix="use e.g. 'seed': 7, or leave it out")
        return [Resource(
            id=f"{self.provider}:simulator", provider=self.provider, executor=executor, kind="simulator",
            num_qubits=self.max_qubits, native_gates=NATIVE_GATES, transpiles=True,
            circuit_formats=("qiskit",),
            # A device lists its connectivity as (control, target) pairs; None: all-to-all.
            coupling_map=None,
            # Measurement before the end of the circuit (and gates conditioned on it) run here.
            supports_mid_circuit_measurement=True,
            metadata={"seconds_per_task": 0.005, "seconds_per_shot": 2e-5, "max_shots": 1_000_000},
        )]

    def executor(self, resource, config):
        from {{ cookiecutter.module_name }}.executor import QiskitBackendExecutor

        return QiskitBackendExecutor(resource, config)

    def status(self, resource, config):
        return ResourceStatus(resource.id, online=True)

    def noise(self, resource, config):
        return ideal_noise(resource.id)

    def cost(self, resource, config, shots):
        return free(resource.id)


@hookimpl
def qtau_backends():
    return [{{ cookiecutter.provider.title().replace('_', '') }}Backend()]


@hookimpl
def qtau_versions():
    """The SDK versions `qtau doctor` shows, from package metadata (imports no SDK)."""
    return installed_versions("qiskit")
