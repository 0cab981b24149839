"""Pilot-Quantum's QuantumResourceGenerator, answered by QTAU's backend plugins.

`get_quantum_resources(executor, config)` returns `{name: QuantumResource}` for what the executor
offers with that `quantum` config, converted the way `create_pilot` converts it
(`pilot.descriptions`), so the resources listed here are the ones a pilot gets. Error rates and
noise levels come from each resource's QTAU noise profile (fake backends: their calibration);
`quantum_resources` lists IBM's offline fake backends, Pilot-Quantum's default catalogue.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from qtau.errors import ConfigurationError, UnknownExecutorError
from qtau.gates import STANDARD_GATES
from qtau.pilots import backend_config
from qtau.plugins import default_host

from pilot.descriptions import members
from pilot.dreamer import QuantumResource

__all__ = ["QuantumResource", "QuantumResourceEncoder", "QuantumResourceGenerator", "pq_name", "resource_view"]

log = logging.getLogger("pilot.pcs_logger")


def pq_name(resource_id: str) -> str:
    """Pilot-Quantum style name of a QTAU resource id: `qiskit:aer_simulator` -> `qiskit_aer_simulator`."""
    provider, _, rest = resource_id.partition(":")
    if provider == "ibmq":
        provider, rest = "", rest
    name = f"{provider}_{rest}" if provider else rest
    return name.replace(".", "_").replace(":", "_").replace("@", "_").replace("/", "_")


def resource_view(resource: Any, config: Mapping[str, Any], host: Any, pilot_name: str | None = None,
                  custom: Mapping[str, Any] | None = None, prefix: str = "") -> QuantumResource:
    """A QTAU Resource as Pilot-Quantum's QuantumResource (error rate from its noise profile)."""
    noise = None
    try:
        noise = host.noise(resource, config)
    except Exception as err:  # a plugin that cannot say: the view shows no error rate
        log.info("no noise profile for %s: %s", resource.id, err)
    error_rate = noise_level = 0.0
    if noise is not None:
        error_rate = noise.two_qubit_error or noise.one_qubit_error
        noise_level = noise.readout_error
    name = (custom or {}).get("name") or pq_name(resource.id)
    if custom and "error_rate" in custom:
        error_rate, noise_level = custom["error_rate"], custom["noise_level"]
    gates = list(resource.native_gates) if resource.native_gates else sorted(STANDARD_GATES)
    return QuantumResource(name=f"{prefix}{name}", qubit_count=resource.num_qubits, gateset=gates,
                           error_rate=error_rate, noise_level=noise_level, quantum_config=dict(config),
                           pilot_name=pilot_name, original_name=name, resource=resource)


class QuantumResourceEncoder(json.JSONEncoder):
    def default(self, obj: Any) -> Any:
        if isinstance(obj, QuantumResource):
            return obj.to_dict()
        return super().default(obj)


class QuantumResourceGenerator:
    """Resources per executor, from the installed QTAU plugins."""

    def __init__(self, host: Any = None) -> None:
        self.host = host if host is not None else default_host()
        self._fakes: dict[str, QuantumResource] | None = None

    @property
    def quantum_resources(self) -> dict[str, QuantumResource]:
        """IBM's offline fake backends (Pilot-Quantum's catalogue), built on first use."""
        if self._fakes is None:
            self._fakes = self.get_quantum_resources("ibmq", {})
        return self._fakes

    def _known(self, executor: str) -> bool:
        try:
            self.host.find_executor(executor)
        except UnknownExecutorError:
            return False
        return True

    def get_quantum_resources(self, executor: str, config: Mapping[str, Any] | None = None) -> dict[str, QuantumResource]:
        quantum = {**dict(config or {}), "executor": executor}
        out: dict[str, QuantumResource] = {}
        for member in members({"resource_type": "quantum", "quantum": quantum}, self._known):
            qconfig = backend_config(member.description)
            try:
                offered = self.host.resources(qconfig["executor"], qconfig)
            except ConfigurationError:
                if member.custom and member.custom.get("optional"):
                    continue
                raise
            for res in offered:
                view = resource_view(res, qconfig, self.host, custom=member.custom)
                out[view.name] = view
        return out

    get_quantum_resources_for_executor = get_quantum_resources

    def get_filtered_quantum_resources(self, fidelity: float | None = None, qubit_count: int | None = None) -> list:
        """Fake backends with fidelity at most `fidelity` and at least `qubit_count` qubits."""
        return [r for r in self.quantum_resources.values()
                if (fidelity is None or r.fidelity <= fidelity) and (qubit_count is None or r.qubit_count >= qubit_count)]

    def save_quantum_resources(self, filename: str = "quantum_resources.json") -> None:
        with open(filename, "w") as f:
            json.dump(self.quantum_resources, f, cls=QuantumResourceEncoder, indent=4)
