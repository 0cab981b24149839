"""Helpers for tests and benchmarks that drive QDREAMER through the scripted plugin.

Hosts load plugins through their entry points (as users' installs do), never `register_module`.
"""

from __future__ import annotations

import time
from typing import Any

from qtau.circuits import Circuits
from qtau.dreamer import DreamerConfig, QDreamer
from qtau.plugins import PluginHost


def host(*names: str) -> PluginHost:
    """A strict host with the named installed plugins (default: scripted and qiskit)."""
    allow = set(names or ("scripted", "qiskit"))
    built = PluginHost(strict=True)
    built.load_entry_points(allow=allow)
    missing = allow - set(built.names)
    if missing:
        raise RuntimeError(
            f"plugins {sorted(missing)} are not installed: pip install --no-deps -e tests/plugins/qtau-scripted"
        )
    return built


def resource(name: str, **values: Any) -> dict[str, Any]:
    return {"name": name, **values}


def pilot(*resources: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A pilot description for the scripted executor offering `resources`."""
    return {"resource_type": "quantum", "quantum": {"executor": "scripted", "resources": list(resources)}, **extra}


def hand_clock_dreamer(service: Any, plugins: PluginHost, mode: str = "high_speed") -> tuple[Any, list[float]]:
    """A QDreamer over `service`'s resources whose clock is `now[0]`, set by the test; (dreamer, now)."""
    now = [0.0]
    dreamer = QDreamer(plugins, Circuits(plugins), DreamerConfig.parse({"optimization_mode": mode}),
                       clock=lambda: now[0])
    for res in service.qdreamer.resources:
        dreamer.add_resources([res], service.qdreamer.resource_config(res.id)[1])
    return dreamer, now


def wait_idle(service: Any, timeout: float = 30.0) -> dict[str, int]:
    """Wait until QDREAMER counts no task in flight (done-callbacks run just after results)."""
    deadline = time.monotonic() + timeout
    while any(service.qdreamer.in_flight().values()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return service.qdreamer.in_flight()
