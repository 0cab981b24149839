"""Rigetti through PennyLane-Rigetti (`pennylane_forest`): the real path, and a clear error elsewhere.

pennylane-rigetti drives Rigetti's QVM and quilc servers through pyQuil. pyQuil needs numpy < 2,
which PennyLane 0.45 cannot sit beside, so on a current stack the plugin is simply absent; where an
older stack has it, the servers must also be running (`qvm -S`, `quilc -S`). Both are checked before
a resource is offered, and each failure says what to install or start, and that Rigetti QPUs are
also reachable through Amazon Braket (executor `braket_rigetti` of qtau-braket).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from qtau.errors import BackendUnavailableError, ConfigurationError

from qtau_pennylane.extras import has_module, install_hint

QVM_URL = "http://127.0.0.1:5000"
QUILC_URL = "tcp://127.0.0.1:5555"
ALTERNATIVE = "or run Rigetti devices through Amazon Braket instead: executor 'braket_rigetti' (pip install qtau-braket)"
# Devices that need the QVM server (wavefunction simulators talk to it too, except the numpy one).
NEEDS_QVM = frozenset({"rigetti.qvm", "rigetti.wavefunction"})
NEEDS_QUILC = frozenset({"rigetti.qvm"})


def server_urls(config: Mapping[str, Any]) -> tuple[str, str]:
    qvm = config.get("qvm_url") or os.environ.get("QCS_SETTINGS_APPLICATIONS_QVM_URL") or QVM_URL
    quilc = config.get("quilc_url") or os.environ.get("QCS_SETTINGS_APPLICATIONS_QUILC_URL") or QUILC_URL
    return str(qvm), str(quilc)


def _reachable(url: str, timeout: float = 1.0) -> bool:
    parsed = urlparse(url)
    if not parsed.hostname or not parsed.port:
        return False
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout):
            return True
    except OSError:
        return False


def check_available(device: str, config: Mapping[str, Any]) -> None:
    """Raise ConfigurationError (plugin missing) or BackendUnavailableError (servers down)."""
    if not has_module("pennylane_rigetti"):
        raise ConfigurationError(
            f"pennylane_forest needs pennylane-rigetti (for {device}), which is not installed; its pyQuil "
            "requires numpy < 2, which cannot be installed beside PennyLane 0.45",
            field="quantum.executor", value="pennylane_forest",
            fix=f"on an older PennyLane stack with numpy < 2: {install_hint('forest')}, then start "
            f"`qvm -S` and `quilc -S`; {ALTERNATIVE}",
        )
    qvm, quilc = server_urls(config)
    down = []
    if device in NEEDS_QVM and not _reachable(qvm):
        down.append(f"qvm at {qvm} (start `qvm -S`)")
    if device in NEEDS_QUILC and not _reachable(quilc):
        down.append(f"quilc at {quilc} (start `quilc -S`)")
    if down:
        raise BackendUnavailableError(
            f"{device} needs Rigetti's servers, not reachable: {'; '.join(down)}",
            field="quantum.device", value=device,
            fix=f"start them (or set quantum.qvm_url / quantum.quilc_url); {ALTERNATIVE}",
        )


def create_device(device: str, wires, config: Mapping[str, Any]):
    """A pennylane-rigetti device; shots come from each tape, not from the device."""
    import pennylane as qml

    check_available(device, config)
    if device == "rigetti.qvm":
        qvm, quilc = server_urls(config)
        os.environ.setdefault("QCS_SETTINGS_APPLICATIONS_QVM_URL", qvm)
        os.environ.setdefault("QCS_SETTINGS_APPLICATIONS_QUILC_URL", quilc)
        return qml.device(device, device=f"{len(wires)}q-qvm", wires=wires,
                          noisy=bool(config.get("noisy", False)),
                          compiler_timeout=float(config.get("compiler_timeout", 60)),
                          execution_timeout=float(config.get("execution_timeout", 60)))
    return qml.device(device, wires=wires)
