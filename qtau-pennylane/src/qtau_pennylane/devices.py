"""Building the PennyLane device of a resource for a given set of wires (without shots).

Shots travel on tapes (`tapes.py`), so one device per wire set serves every shot count. A device
plugin that is missing or cannot start (no GPU, no AWS credentials) is a QtauError saying what to
install or fix, never a bare SDK traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from qtau.errors import AuthenticationError, BackendUnavailableError, ConfigurationError, QtauError
from qtau.types import Resource

from qtau_pennylane.extras import install_hint, require_extra

#: Default bound on waiting for one AWS task (seconds); `quantum.poll_timeout_seconds` overrides.
AWS_POLL_TIMEOUT = 6 * 3600.0


@functools.cache
def device_modules(device: str) -> tuple[str, ...]:
    """The module PennyLane imports to make `device` (its `pennylane.plugins` entry point's), read
    from package metadata without importing anything; () for a device no installed package offers."""
    found = entry_points(group="pennylane.plugins", name=device)
    return tuple(ep.module for ep in found)


def _kwargs(resource: Resource, config: Mapping[str, Any]) -> dict[str, Any]:
    meta = resource.metadata
    device = meta["device"]
    if device == "qiskit.remote":
        from qtau_pennylane.fakes import fake_backend

        return {"backend": fake_backend(meta["backend"])}
    if device == "braket.local.qubit":
        return {"backend": meta.get("backend", "braket_sv")}
    if device == "braket.aws.qubit":
        return {
            "device_arn": meta["arn"],
            "poll_timeout_seconds": float(config.get("poll_timeout_seconds", AWS_POLL_TIMEOUT)),
        }
    if "seed" in config and device in ("default.qubit", "default.mixed", "lightning.qubit"):
        return {"seed": int(config["seed"])}
    return {}


def create_device(resource: Resource, config: Mapping[str, Any], wires: tuple) -> Any:
    device = resource.metadata["device"]
    if device.startswith("qiskit."):
        require_extra("qiskit", device)
    elif device.startswith("braket."):
        require_extra("braket", device)
    elif device.startswith("rigetti."):
        from qtau_pennylane.forest import create_device as rigetti_device

        return rigetti_device(device, list(wires), config)
    import pennylane as qml

    # Wires 0..n-1 are given as a count: lightning otherwise remaps every tape's wires through
    # its wire map before simulating (a map_wires per tape, the largest cost of small circuits).
    labels = tuple(wires)
    wire_arg = len(labels) if labels == tuple(range(len(labels))) else list(labels)
    try:
        return qml.device(device, wires=wire_arg, **_kwargs(resource, config))
    except QtauError:
        raise
    except Exception as err:
        raise _device_error(device, err) from err


def _device_error(device: str, err: Exception) -> QtauError:
    text = f"{type(err).__name__}: {err}"
    if device == "braket.aws.qubit":
        if type(err).__name__ in ("NoCredentialsError", "NoRegionError", "ClientError") and (
            "credential" in text.lower() or "region" in text.lower() or "AccessDenied" in text
        ):
            return AuthenticationError(
                f"AWS refused or lacks credentials for braket.aws.qubit: {type(err).__name__}",
                field="braket_device_arn", value=None,
                fix="configure AWS credentials and AWS_DEFAULT_REGION (boto3's usual chain)",
            )
        return BackendUnavailableError(
            f"braket.aws.qubit could not reach the device: {text}", field="braket_device_arn", value=None,
            fix="check the ARN, the region and the network, or use braket.local.qubit",
        )
    if device in ("lightning.gpu", "lightning.kokkos"):
        return BackendUnavailableError(
            f"{device} is installed but cannot start here: {text}", field="quantum.device", value=device,
            fix=f"use 'lightning.qubit', or {install_hint('lightning-gpu')} with a matching CUDA runtime",
        )
    if isinstance(err, (ImportError, ModuleNotFoundError)) or "not found" in text.lower():
        return ConfigurationError(
            f"the PennyLane device {device!r} is not available: {text}", field="quantum.device", value=device,
            fix="install the PennyLane plugin that provides it (see qtau-pennylane's extras)",
        )
    return BackendUnavailableError(
        f"the PennyLane device {device!r} failed to start: {text}", field="quantum.device", value=device,
        fix="check the device's options in the pilot's quantum config",
    )
