"""PennyLane's optional device plugins: whether each is installed, and the extra that adds it.

Detection reads distributions and module specs, never importing a device plugin, so the catalog
(`qtau_pennylane.catalog`), the IBM fakes and the Rigetti checks can ask cheaply on the driver.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from importlib import metadata

from qtau.errors import ConfigurationError

#: Extra that installs each device plugin, and the module that proves it is there.
EXTRAS = {
    "qiskit": ("pennylane_qiskit", "qiskit"),
    "braket": ("braket.pennylane_plugin", "braket"),
    "rigetti": ("pennylane_rigetti", "forest"),
}


def install_hint(extra: str) -> str:
    return f"pip install 'qtau-pennylane[{extra}]'"


def has_module(module: str) -> bool:
    """Whether `module` can be imported, without importing it or its parent packages."""
    if module in sys.modules:
        return sys.modules[module] is not None
    top, _, rest = module.partition(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    if spec is None or not rest:
        return spec is not None
    # find_spec of a submodule would import its parent (`braket`): look on disk instead.
    relative = os.path.join(*rest.split("."))
    return any(
        os.path.isdir(os.path.join(loc, relative)) or os.path.isfile(os.path.join(loc, relative + ".py"))
        for loc in spec.submodule_search_locations or ()
    )


def has_distribution(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def require_extra(kind: str, device: str) -> None:
    """ConfigurationError naming the extra to install when `device`'s plugin is missing."""
    module, extra = EXTRAS[kind]
    if has_module(module):
        return
    raise ConfigurationError(
        f"the PennyLane device {device!r} needs {module.split('.')[0].replace('_', '-')}, which is not installed",
        field="quantum.device", value=device, fix=install_hint(extra),
    )


def gpu_visible() -> bool:
    """A cheap guess that an NVIDIA GPU is usable here (no CUDA import on the driver)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return os.path.exists("/dev/nvidiactl") or shutil.which("nvidia-smi") is not None
