"""The shot and memory limits of each PennyLane resource (`qtau.resource_limits`), stated when the
pilot is created so QDREAMER refuses a task that cannot fit before PennyLane allocates a state.

Every simulator here holds its state on this host: a complex128 state vector (2^n amplitudes), or
a density matrix (4^n) for `default.mixed` and Braket's `braket_dm`, plus the samples PennyLane
keeps as a shots x wires int64 array. lightning.gpu holds its state in the memory of the GPU it
runs on (`qtau.resource_limits.gpu_memory`); where that cannot be read, only its shot limit is
stated. lightning.kokkos counts against the host's
memory (a CPU build's; a CUDA build's GPU is smaller, so it may still fail at allocation).
`braket.aws.qubit` runs on AWS: its published shot limit, by device name, and no memory limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from qtau import resource_limits as limits
from qtau.types import Resource

#: Most shots one task may ask of an AWS device (GetDevice's `service.shotsRange`), by the last
#: segment of its ARN; qtau-braket reads the live number when it is installed and AWS is reached.
BRAKET_MAX_SHOTS = {
    "sv1": 100_000, "dm1": 100_000, "tn1": 1_000, "aria-1": 10_000, "aria-2": 10_000, "forte-1": 10_000,
    "forte-enterprise-1": 10_000, "garnet": 20_000, "emerald": 20_000, "ankaa-3": 100_000,
}
#: PennyLane keeps samples as int64, one per shot and wire.
SAMPLE_BYTES = 8


def _model(resource: Resource) -> str:
    meta = resource.metadata
    if meta["device"] == "default.mixed" or meta.get("backend") == "braket_dm":
        return limits.DENSITY_MATRIX
    return limits.STATEVECTOR


def with_limits(resource: Resource, config: Mapping[str, Any]) -> Resource:
    """`resource` with `max_shots` and, for a simulator on this host, its memory model and limit."""
    meta = dict(resource.metadata)
    if meta.get("arn"):
        meta.pop(limits.MAX_SHOTS, None)
        meta.update(limits.remote_limits(BRAKET_MAX_SHOTS.get(meta["arn"].rsplit("/", 1)[-1].lower())))
        return attrs.evolve(resource, metadata=meta)
    meta.update(limits.local_limits(config, _model(resource), bytes_per_sample=SAMPLE_BYTES,
                                    gpu=meta["device"] == "lightning.gpu"))
    return attrs.evolve(resource, metadata=meta)
