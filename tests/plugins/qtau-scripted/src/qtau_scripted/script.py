"""Resources from a pilot's `quantum.resources` list, and the values scripted for each.

Reads plain config only (no SDK): listing resources and answering status, noise and cost hooks
stay cheap, as in a real plugin's entry point.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from qtau.errors import ConfigurationError
from qtau.types import CostEstimate, NoiseProfile, Resource, ResourceStatus

from qtau_scripted import state

PROVIDER = "scripted"
EXECUTOR = "scripted"
BEHAVIOURS = ("ok", "fail", "hang", "offline", "panic")
MAX_HANG_S = 30.0
#: Longest sleep `emulate_time` makes one run take.
MAX_EMULATED_S = 60.0
DEFAULTS: dict[str, Any] = {
    "qubits": 5,
    "kind": "qpu",
    "queue_wait_s": 0.0,
    "queue_depth": 0,
    "online": True,
    "one_qubit_error": 0.0,
    "two_qubit_error": 0.0,
    "readout_error": 0.0,
    "per_task": 0.0,
    "per_shot": 0.0,
    "currency": "USD",
    "behaviour": "ok",
    "hang_s": 5.0,
    "native_gates": (),
    "transpiles": True,
    "formats": ("qiskit",),
    "seconds_per_task": None,
    "seconds_per_shot": None,
    "report_error": None,
    # Seconds each executor run call sleeps before simulating (a busy local backend, for coalescing).
    "call_delay_s": 0.0,
    # A run call with a job of more shots than this raises InvalidTaskError (bad input found by the backend).
    "reject_shots_above": None,
    "emulate_time": False,
    # Reported as Resource.metadata["serial_in_process"] (the LOCAL engine then sends one chunk).
    "serial_in_process": False,
    # Remote resources (a RemoteExecutor over an in-process provider queue, for tracker tests):
    "remote": False,
    "job_delay_s": 0.0,
    "poll_fault": None,
    "cancel_fault": None,
    # Seconds each cancel call takes at the provider (an HTTP round trip).
    "cancel_delay_s": 0.0,
    "bad_ref": False,
    # fetch() answers one outcome more than the job had circuits (a plugin bug core must refuse).
    "extra_outcome": False,
    # Resource.supports_mid_circuit_measurement (BasicSimulator measures mid-circuit; cut pieces need it).
    "mid_circuit": False,
}
POLL_FAULTS = ("raise", "lost", "flaky", "gone")
CANCEL_FAULTS = ("refuse", "raise")
REPORTS = ("status", "noise", "cost")
NUMBERS = ("queue_wait_s", "queue_depth", "one_qubit_error", "two_qubit_error", "readout_error",
           "per_task", "per_shot", "hang_s", "seconds_per_task", "seconds_per_shot", "job_delay_s",
           "call_delay_s", "reject_shots_above", "cancel_delay_s")
PROBABILITIES = ("one_qubit_error", "two_qubit_error", "readout_error")


def check_values(values: Mapping[str, Any], field: str) -> None:
    """ConfigurationError naming the key, its value and the valid choices for any bad value."""
    for key, value in values.items():
        if key not in DEFAULTS:
            raise ConfigurationError(
                f"unknown scripted resource key {key!r}", field=f"{field}.{key}", value=value,
                fix=f"use only name, {', '.join(DEFAULTS)}",
            )
        if key in NUMBERS and value is not None:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigurationError(
                    f"{key} must be a non-negative number", field=f"{field}.{key}", value=value,
                    fix=f"use e.g. {key}=0",
                )
            if key in PROBABILITIES and value >= 1:
                raise ConfigurationError(
                    f"{key} is a probability below 1", field=f"{field}.{key}", value=value, fix="use e.g. 0.01",
                )
        if key == "behaviour" and value not in BEHAVIOURS:
            raise ConfigurationError(
                f"unknown behaviour {value!r}", field=f"{field}.behaviour", value=value,
                fix=f"use one of {', '.join(BEHAVIOURS)}",
            )
        if key == "report_error" and value is not None and value not in REPORTS:
            raise ConfigurationError(
                f"unknown report {value!r}", field=f"{field}.report_error", value=value,
                fix=f"use one of {', '.join(REPORTS)}, or None",
            )
        if key == "emulate_time" and not isinstance(value, bool):
            raise ConfigurationError(
                "emulate_time is true or false", field=f"{field}.emulate_time", value=value, fix="use True",
            )
        if key == "poll_fault" and value not in (None, *POLL_FAULTS):
            raise ConfigurationError(
                f"unknown poll_fault {value!r}", field=f"{field}.poll_fault", value=value,
                fix=f"use one of {', '.join(POLL_FAULTS)}, or None",
            )
        if key == "cancel_fault" and value not in (None, *CANCEL_FAULTS):
            raise ConfigurationError(
                f"unknown cancel_fault {value!r}", field=f"{field}.cancel_fault", value=value,
                fix=f"use one of {', '.join(CANCEL_FAULTS)}, or None",
            )
        if key == "kind" and value not in ("qpu", "simulator"):
            raise ConfigurationError(
                f"unknown kind {value!r}", field=f"{field}.kind", value=value, fix="use qpu or simulator",
            )
        if key == "qubits" and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ConfigurationError(
                "qubits must be a positive integer", field=f"{field}.qubits", value=value, fix="use e.g. 5",
            )


def resources(config: Mapping[str, Any]) -> list[Resource]:
    listed = config.get("resources")
    if not isinstance(listed, (list, tuple)) or not listed:
        raise ConfigurationError(
            "the scripted executor needs a list of resources", field="quantum.resources", value=listed,
            fix="add 'resources': [{'name': 'a', 'qubits': 5}]",
        )
    offered: list[Resource] = []
    seen: set[str] = set()
    for i, item in enumerate(listed):
        field = f"quantum.resources[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) or not item["name"]:
            raise ConfigurationError(
                "each scripted resource is a mapping with a name", field=field, value=item,
                fix="use {'name': 'a', 'qubits': 5}",
            )
        name = item["name"]
        if name in seen:
            raise ConfigurationError(
                f"two scripted resources are named {name!r}", field=f"{field}.name", value=name,
                fix="give every resource its own name",
            )
        seen.add(name)
        values = {k: v for k, v in item.items() if k != "name"}
        check_values(values, field)
        script = {**DEFAULTS, **values}
        metadata: dict[str, Any] = {"script": script}
        for key in ("seconds_per_task", "seconds_per_shot"):
            if script[key] is not None:
                metadata[key] = script[key]
        if script["serial_in_process"]:
            metadata["serial_in_process"] = True
        offered.append(
            Resource(
                id=f"{PROVIDER}:{name}", provider=PROVIDER, executor=EXECUTOR, kind=script["kind"],
                num_qubits=script["qubits"], native_gates=tuple(script["native_gates"]),
                circuit_formats=tuple(script["formats"]), transpiles=bool(script["transpiles"]),
                metadata=metadata, remote=bool(script["remote"]),
                supports_mid_circuit_measurement=bool(script["mid_circuit"]),
            )
        )
    return offered


def values(resource: Resource) -> dict[str, Any]:
    """The resource's scripted values with any run-time overrides from `state.script`."""
    return {**resource.metadata["script"], **state.overrides.get(resource.id, {})}


def _answer(resource: Resource, kind: str) -> dict[str, Any]:
    """Count the call and return the values, or fail as scripted (a provider API error)."""
    state.count_call(resource.id, kind)
    v = values(resource)
    if v["report_error"] == kind:
        raise RuntimeError(f"scripted {kind} API error for {resource.id}")
    return v


def status(resource: Resource) -> ResourceStatus:
    v = _answer(resource, "status")
    online = bool(v["online"]) and v["behaviour"] != "offline"
    return ResourceStatus(
        resource.id, online=online, queue_depth=int(v["queue_depth"]),
        estimated_wait_s=float(v["queue_wait_s"]), checked_at=time.time(),
        message="scripted" if online else "scripted offline",
    )


def noise(resource: Resource) -> NoiseProfile:
    v = _answer(resource, "noise")
    return NoiseProfile(
        resource.id, one_qubit_error=float(v["one_qubit_error"]), two_qubit_error=float(v["two_qubit_error"]),
        readout_error=float(v["readout_error"]), source="scripted",
    )


def cost(resource: Resource) -> CostEstimate:
    v = _answer(resource, "cost")
    return CostEstimate(
        resource.id, per_task=float(v["per_task"]), per_shot=float(v["per_shot"]),
        currency=str(v["currency"]), source="scripted", origin="provider",
    )
