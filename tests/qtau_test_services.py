"""Services the tests build over real plugins: a LOCAL service on a strict host, one pilot per executor."""

from __future__ import annotations

from qtau import ExecutionEngine, PilotComputeService
from qtau.plugins import PluginHost

#: Plugin name -> its entry-point module.
MODULES = {
    "qiskit": "qtau_qiskit.plugin",
    "braket": "qtau_braket.plugin",
    "pennylane": "qtau_pennylane.plugin",
    "ibmq": "qtau_ibmq.plugin",
}


def local_service(plugins: tuple[str, ...], executors: tuple[str, ...]) -> PilotComputeService:
    """A LOCAL service over a strict host of exactly `plugins`, with one pilot per executor."""
    host = PluginHost(strict=True)
    for name in plugins:
        host.register_module(name, MODULES[name])
    service = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=host)
    for executor in executors:
        service.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
    return service
