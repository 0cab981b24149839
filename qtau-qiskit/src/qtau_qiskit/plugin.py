"""Entry point of the `qiskit` plugin: its Backend and the `qiskit` circuit-format hooks.

Imports nothing but `qtau` at module level; Qiskit is imported inside the functions that run
circuits or touch circuit objects, so listing plugins stays cheap.
"""

from __future__ import annotations

from qtau import Backend, hookimpl
from qtau.types import free
from qtau.versions import installed_versions

from qtau_qiskit import settings

PROVIDER = "qiskit"


class QiskitBackend(Backend):
    """Aer (statevector, density matrix, noise from `quantum.noise`) and BasicSimulator."""

    provider = PROVIDER
    executor_names = ("qiskit_local",)
    #: Imported one thread at a time before first use (see qtau.Backend.sdk_modules). Aer through
    #: `qtau_qiskit.aer`, never as `qiskit_aer`: its OpenMP runtime reads the wait policy once, when
    #: first loaded, and loaded directly its threads spin beside QTAU's (see that module).
    sdk_modules = ("qiskit", "qiskit.transpiler.passes", "qiskit.primitives", "qiskit.providers.basic_provider",
                   "qtau_qiskit.aer")
    description = "Qiskit Aer and BasicSimulator on this machine"

    def resources(self, executor, config):
        return settings.resources(config)

    def executor(self, resource, config):
        from qtau_qiskit.simulators import create_executor

        return create_executor(resource, config)

    def status(self, resource, config):
        return settings.status(resource)

    def noise(self, resource, config):
        return settings.noise_profile(resource, config)

    def cost(self, resource, config, shots):
        return free(resource.id)


@hookimpl
def qtau_backends():
    return [QiskitBackend()]


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
def qtau_circuit_width(circuit, circuit_format):
    """A Qiskit circuit's width, read from the object (the worker's check; no gate walk)."""
    return circuit.num_qubits if circuit_format == "qiskit" else None


@hookimpl
def qtau_compact_forms():
    """Qiskit circuits of standard gates in the journal as plain tuples (qtau_qiskit.compact)."""
    return {"qiskit.circuit.quantumcircuit.QuantumCircuit": _compact_circuit}


def _compact_circuit(circuit):
    from qtau_qiskit.compact import compact

    return compact(circuit)


@hookimpl
def qtau_circuit_converters():
    from qtau_qiskit.formats import converters

    return converters(PROVIDER)


@hookimpl
def qtau_versions():
    """Versions of Qiskit, Aer and the OpenQASM 3 importer, for `qtau doctor`."""
    return installed_versions("qiskit", "qiskit-aer", "qiskit-qasm3-import")
