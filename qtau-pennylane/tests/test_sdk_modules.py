"""What the PennyLane plugin names for core to import one thread at a time before a resource's
first executor (`qtau.sdk_imports`): PennyLane itself, plus the package of the resource's device,
read from PennyLane's own `pennylane.plugins` entry points (so qiskit.aer's pennylane-qiskit is
imported under the lock only by those who use it)."""

import importlib.util

from qtau.plugins import PluginHost
from qtau_pennylane.devices import device_modules


def test_a_device_is_named_by_the_package_pennylane_imports_for_it():
    assert device_modules("lightning.qubit") == ("pennylane_lightning.lightning_qubit",)
    assert device_modules("default.qubit") == ("pennylane.devices",)
    assert device_modules("no.such.device") == ()


def test_each_resource_names_pennylane_and_its_own_devices_package():
    host = PluginHost(strict=True)
    host.register_module("pennylane", "qtau_pennylane.plugin")
    backend = host.backend("pennylane")
    [lightning] = host.resources("pennylane_lightning", {})
    assert backend.sdk_modules_for(lightning) == ("pennylane", "pennylane_lightning.lightning_qubit")
    for res in host.resources("pennylane_default", {}):
        named = backend.sdk_modules_for(res)
        assert named[0] == "pennylane" and all(importlib.util.find_spec(m) for m in named)
        assert not any(m.startswith(("pennylane_qiskit", "braket")) for m in named), named
