"""AWS devices as QTAU resources, and their status and noise, read through GetDevice.

A resource's qubit count, gates and connectivity come from the device's capabilities. Gates are
the device's `supportedOperations` (what Braket accepts and compiles), in canonical spelling;
`nativeGateSet` is kept in metadata. On-demand simulators accept `ctrl @` modifiers, so they
reach every standard gate (`transpiles=True`); QPUs accept only their supported operations.

Status is online when the device is ONLINE and inside an execution window; the queue depth is
normal plus priority quantum tasks, with the split in the message. Noise comes from the
standardized calibration data (medians of per-qubit RB and readout fidelities, two-qubit gate
fidelities, T1/T2) or from IonQ's provider fidelities; fidelities outside [0, 1] are flagged.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from typing import Any

from qtau.errors import ConfigurationError, QtauError
from qtau.resource_limits import remote_limits
from qtau.types import NoiseProfile, Resource, ResourceStatus, ideal_noise

from qtau_braket import names
from qtau_braket import session as sessions
from qtau_braket.gate_names import canonical
from qtau_braket.settings import settings_for

OPENQASM = "braket.ir.openqasm.program"
FORMATS = ("braket",)
SECONDS_PER_QUEUED_TASK = {"simulator": 5.0, "qpu": 60.0}


def timing_metadata(props: Any, simulator: bool, arn: str = "") -> dict[str, Any]:
    """What QDREAMER's run-time estimate reads (`qtau.dreamer.terms.run_seconds`): for on-demand
    simulators the run-time model of prices.json (a fixed part per task, a part per shot, and for
    SV1 and DM1 a part per gate and amplitude of the simulated state, so a 16-qubit circuit is not
    sent to DM1, a 4^16-amplitude density matrix, as if it were as quick as SV1); for a QPU whose
    provider publishes gate times (IonQ's `provider.timing`), the duration of its gates and
    readout (`gate_seconds`) and its reset between shots."""
    if simulator:
        from qtau_braket import pricing

        model = pricing.table()["simulator_model"]
        meta = {"seconds_per_task": float(model["task_overhead_s"]), "seconds_per_shot": float(model["shot_s"])}
        base = model.get("state_base", {}).get(pricing.device_key(arn)) if arn else None
        if base:
            meta.update(state_base=int(base), seconds_per_amplitude_gate=float(model["amplitude_gate_s"]))
        return meta
    provider = getattr(props, "provider", None)
    timing = getattr(provider, "timing", None) or {}
    gates = {kind: float(timing[key]) for key, kind in (("1Q", "1q"), ("2Q", "2q"), ("readout", "measure"))
             if isinstance(timing.get(key), (int, float))}
    if not gates:
        return {}
    meta: dict[str, Any] = {"gate_seconds": gates}
    if isinstance(timing.get("reset"), (int, float)):
        meta["seconds_per_shot"] = float(timing["reset"])
    return meta


def _settings(resource_or_ref, config: Mapping[str, Any]):
    region = resource_or_ref.metadata["region"] if isinstance(resource_or_ref, Resource) else None
    if region is None:
        region = names.region_for(resource_or_ref, config)
    return settings_for(config, region)


def resources(executor: str, config: Mapping[str, Any]) -> list[Resource]:
    ref = names.device_for(executor, config)
    region = names.region_for(ref, config)
    settings = settings_for(config, region)
    dev = sessions.device(ref, settings)
    props = dev.properties
    action = props.action.get(OPENQASM) if hasattr(props, "action") else None
    if action is None:
        raise ConfigurationError(
            f"{ref.arn} does not take gate-model OpenQASM programs", field="braket_device_arn", value=ref.arn,
            fix="QTAU runs gate-model circuits; pick a gate-model device (not annealing or analog)",
        )
    simulator = ref.simulator or str(dev.type).endswith("SIMULATOR")
    paradigm = props.paradigm
    ops = [canonical(op) for op in action.supportedOperations if op.lower() != "gphase"]
    coupling = None
    connectivity = getattr(paradigm, "connectivity", None)
    if connectivity is not None and not connectivity.fullyConnected and connectivity.connectivityGraph:
        coupling = [(int(a), int(b)) for a, targets in connectivity.connectivityGraph.items() for b in targets]
    windows = [f"{w.executionDay.value if hasattr(w.executionDay, 'value') else w.executionDay} "
               f"{w.windowStartHour}-{w.windowEndHour} UTC" for w in props.service.executionWindows]
    return [Resource(
        id=names.resource_id(ref.arn), provider="braket", executor=executor,
        kind="simulator" if simulator else "qpu", num_qubits=int(paradigm.qubitCount),
        native_gates=ops, circuit_formats=FORMATS, transpiles=simulator, coupling_map=coupling,
        metadata={
            "arn": ref.arn, "region": region, "device_name": dev.name, "provider_name": dev.provider_name,
            "device_provider": ref.provider, "native_gate_set": list(getattr(paradigm, "nativeGateSet", []) or []),
            "execution_windows": windows, "shots_range": list(props.service.shotsRange),
            **remote_limits(props.service.shotsRange[1]),
            **timing_metadata(props, simulator, ref.arn),
        },
        remote=True,
    )]


def _queue(dev: Any) -> tuple[int, int]:
    from braket.aws.queue_information import QueueType

    tasks = dev.queue_depth().quantum_tasks or {}

    def number(value: Any) -> int:
        text = str(value or "0").lstrip(">")
        return int(text) if text.isdigit() else 0

    return number(tasks.get(QueueType.NORMAL)), number(tasks.get(QueueType.PRIORITY))


def status(resource: Resource, config: Mapping[str, Any]) -> ResourceStatus:
    from qtau_braket.aws import check_available

    settings = _settings(resource, config)
    ref = names.parse_arn(resource.metadata["arn"])
    try:
        dev = sessions.device(ref, settings, max_age=0.0)
        check_available(dev, resource.id)
    except QtauError as err:
        return ResourceStatus(resource.id, online=False, message=str(err).split(" Fix:")[0], checked_at=time.time())
    try:
        normal, priority = _queue(dev)
    except Exception as err:
        raise sessions.classify(err, f"reading the queue of {ref.arn}", settings) from None
    per = float(config.get("seconds_per_queued_task", SECONDS_PER_QUEUED_TASK[resource.kind]))
    return ResourceStatus(
        resource.id, online=True, queue_depth=normal + priority, estimated_wait_s=(normal + priority) * per,
        message=f"{dev.status}; queue: {normal} normal, {priority} priority tasks", checked_at=time.time(),
    )


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _fidelities(props: Any) -> tuple[dict[str, list[float]], list[float], list[float], list[str]]:
    """Per-kind fidelities from standardized calibration data (any schema version), and T1/T2 in us."""
    std = getattr(props, "standardized", None)
    found: dict[str, list[float]] = {"1q": [], "readout": [], "2q": []}
    t1: list[float] = []
    t2: list[float] = []
    flags: list[str] = []
    if std is None:
        return found, t1, t2, flags
    data = std.dict() if hasattr(std, "dict") else dict(std)
    scale = {"s": 1e6, "ms": 1e3, "us": 1.0, "ns": 1e-3}
    for qubit in (data.get("oneQubitProperties") or {}).values():
        for fid in qubit.get("oneQubitFidelity") or []:
            kind = str((fid.get("fidelityType") or {}).get("name", "")).upper()
            value = fid.get("fidelity")
            if value is None or not 0.0 < value <= 1.0:
                flags.append(f"ignored 1q fidelity {value!r}")
                continue
            found["readout" if "READOUT" in kind else "1q"].append(float(value))
        for key, sink in (("T1", t1), ("T2", t2)):
            entry = qubit.get(key) or {}
            if entry.get("value") is not None:
                sink.append(float(entry["value"]) * scale.get(str(entry.get("unit", "us")).lower(), 1.0))
    for pair in (data.get("twoQubitProperties") or {}).values():
        for fid in pair.get("twoQubitGateFidelity") or []:
            value = fid.get("fidelity")
            if value is None or not 0.0 < value <= 1.0:
                flags.append(f"ignored 2q fidelity {value!r}")
                continue
            found["2q"].append(float(value))
    return found, t1, t2, flags


def noise_profile(resource: Resource, config: Mapping[str, Any]) -> NoiseProfile:
    if resource.kind == "simulator":
        return ideal_noise(resource.id)
    ref = names.parse_arn(resource.metadata["arn"])
    props = sessions.device(ref, _settings(resource, config)).properties
    found, t1, t2, flags = _fidelities(props)
    source = "Braket standardized calibration data (medians)"
    provider = getattr(props, "provider", None)
    fidelity = getattr(provider, "fidelity", None) if provider is not None else None
    if fidelity and not any(found.values()):
        # IonQ publishes mean fidelities per gate class instead of per-qubit calibration.
        for key, kind in (("1Q", "1q"), ("2Q", "2q"), ("spam", "readout")):
            mean = (fidelity.get(key) or {}).get("mean")
            if mean is not None:
                found[kind].append(float(mean))
        timing = getattr(provider, "timing", None) or {}
        t1 += [float(timing["T1"]) * 1e6] if "T1" in timing else []
        t2 += [float(timing["T2"]) * 1e6] if "T2" in timing else []
        source = "IonQ provider fidelities (means)"
    if not any(found.values()):
        flags.append("device publishes no fidelities")
    error = {k: (1.0 - m if (m := _median(v)) is not None else 0.0) for k, v in found.items()}
    return NoiseProfile(
        resource_id=resource.id, one_qubit_error=error["1q"], two_qubit_error=error["2q"],
        readout_error=error["readout"], t1_us=_median(t1), t2_us=_median(t2), flags=tuple(flags), source=source,
    )
