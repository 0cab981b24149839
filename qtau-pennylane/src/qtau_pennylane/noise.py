"""Noise for `default.mixed` from the pilot's `quantum.noise`, and every resource's noise profile.

Channels are inserted into each tape explicitly (no noise-model DSL): after every gate a
`DepolarizingChannel` on each of its wires (rate `depolarizing_1q` for one-qubit gates,
`depolarizing_2q` for wider ones, applied per wire: a simple approximation of two-qubit
depolarizing noise), and a `BitFlip` of rate `readout` on every wire before the measurements.
The same numbers are QDREAMER's noise profile, so ranking needs no PennyLane import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qtau.noise import noise_profile as noise_profile_from
from qtau.types import NoiseProfile, Resource, ideal_noise


def noisy_tape(tape: Any, noise: Mapping[str, float], wires: tuple) -> Any:
    import pennylane as qml

    p1, p2, ro = (noise.get(k, 0.0) for k in ("depolarizing_1q", "depolarizing_2q", "readout"))
    ops = []
    for op in tape.operations:
        ops.append(op)
        rate = p2 if len(op.wires) >= 2 else p1
        if rate and not isinstance(op, qml.measurements.MidMeasureMP):
            ops.extend(qml.DepolarizingChannel(rate, wires=w) for w in op.wires)
    if ro:
        ops.extend(qml.BitFlip(ro, wires=w) for w in wires)
    return tape.copy(operations=ops)


def noise_profile(resource: Resource) -> NoiseProfile | None:
    """Pilot noise for default.mixed, calibration snapshots for IBM fakes, ideal for simulators.

    None for cloud QPUs, whose calibration this plugin does not fetch (QDREAMER treats it as unknown).
    """
    meta = resource.metadata
    noise = meta.get("noise") or {}
    if noise:
        return noise_profile_from(resource.id, noise, "default.mixed channels from the pilot's quantum.noise")
    if meta.get("device") == "qiskit.remote":
        from qtau_pennylane.fakes import fake_noise

        return fake_noise(meta["backend"], resource.id)
    if resource.kind == "qpu":
        return None
    return ideal_noise(resource.id)
