"""What the `qiskit_local` executor offers, read from a pilot's `quantum` config without Qiskit.

Config keys (all optional):
- `backend`: `aer_simulator` or `basic_simulator` to offer only one of them.
- `method` (or `backend_options.method`): Aer method, e.g. `statevector`, `density_matrix`.
- `noise`: `{"depolarizing_1q": p, "depolarizing_2q": p, "readout": p}` builds an Aer noise model;
  the same numbers give QDREAMER its noise profile, so ranking needs no Qiskit import.
- `seed_simulator`: a fixed seed (an integer) for reproducible counts.
- `backend_options`: a mapping of further Aer options.

Every value is checked here, when the pilot is created, not at the first task; a key that looks
like a misspelling of one of these gets a "did you mean". Each resource states its limits
(`qtau.resource_limits`): `max_shots` (Aer reserves memory per shot, and 10^12 shots end in
`std::bad_alloc`) and the memory its method needs against the memory the host (or the pilot's
`memory`) has, so QDREAMER refuses a task that cannot fit before Aer allocates.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from qtau import resource_limits, validation
from qtau.errors import ConfigurationError
from qtau.noise import noise_profile as noise_profile_from
from qtau.noise import parse_noise
from qtau.types import NoiseProfile, Resource, ResourceStatus, ideal_noise

AER_METHODS = ("automatic", "statevector", "density_matrix", "stabilizer", "matrix_product_state")
BACKENDS = ("aer_simulator", "basic_simulator")
# Widths that fit in this class of machine's memory (statevector: 2^n * 16 bytes).
WIDTH = {"statevector": 30, "automatic": 30, "density_matrix": 15, "stabilizer": 1000, "matrix_product_state": 100}
BASIC_WIDTH = 24
FORMATS = ("qiskit",)
KEYS = ("executor", "backend", "method", "noise", "seed_simulator", "backend_options")
#: Most shots one task may ask of a local simulator (memory and time grow with shots).
MAX_SHOTS = resource_limits.LOCAL_MAX_SHOTS
#: How each Aer method's memory grows with width. `automatic` counts as a statevector (what Aer
#: picks for a non-Clifford circuit; ask for `stabilizer` to run a wide Clifford circuit), and
#: with noise Aer runs a density matrix (`create_executor`). A matrix product state's memory
#: depends on the entanglement the circuit builds: only its width limit applies.
MEMORY_MODELS = {
    "automatic": resource_limits.STATEVECTOR, "statevector": resource_limits.STATEVECTOR,
    "density_matrix": resource_limits.DENSITY_MATRIX, "stabilizer": resource_limits.STABILIZER,
    "matrix_product_state": resource_limits.UNBOUNDED,
}


def aer_limits(config: Mapping[str, Any], method: str, noise: Mapping[str, float]) -> dict[str, Any]:
    """`max_shots` and the memory an Aer run of `method` (single or double precision) needs, against
    the host's memory, or the GPU's with `backend_options={"device": "GPU"}`."""
    model = MEMORY_MODELS[method]
    if noise and method == "automatic":
        model = resource_limits.DENSITY_MATRIX
    opts = _options(config)
    single = str(opts.get("precision", "double")) == "single"
    return resource_limits.local_limits(config, model, max_shots=MAX_SHOTS, bytes_per_amplitude=8 if single else 16,
                                        gpu=str(opts.get("device", "CPU")).upper() == "GPU")


def _options(config: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(validation.mapping_or_none(config.get("backend_options"), "quantum.backend_options",
                                             "{'method': 'statevector'}") or {})
    for key in ("method", "noise", "backend", "seed_simulator"):
        if key in config:
            merged[key] = config[key]
    return merged


def noise_settings(config: Mapping[str, Any]) -> dict[str, float]:
    return parse_noise(_options(config).get("noise"))


def resources(config: Mapping[str, Any]) -> list[Resource]:
    validation.reject_misspelled_keys(config, KEYS, "quantum")
    opts = _options(config)
    validation.reject_misspelled_keys(opts, KEYS, "quantum.backend_options")
    validation.optional_int(opts.get("seed_simulator"), "quantum.seed_simulator", 42)
    method = str(opts.get("method", "automatic"))
    if method not in AER_METHODS:
        raise ConfigurationError(
            f"unknown Aer method {method!r}", field="quantum.method", value=method,
            fix=f"use one of {', '.join(AER_METHODS)}",
        )
    backend = opts.get("backend")
    if backend is not None and backend not in BACKENDS:
        raise ConfigurationError(
            f"unknown qiskit_local backend {backend!r}", field="quantum.backend", value=backend,
            fix=f"use one of {', '.join(BACKENDS)}, or leave it out for both",
        )
    noise = noise_settings(config)
    offered = []
    if backend in (None, "aer_simulator"):
        suffix = "_noisy" if noise else ("" if method == "automatic" else f"_{method}")
        offered.append(
            Resource(
                id=f"qiskit:aer_simulator{suffix}", provider="qiskit", executor="qiskit_local",
                kind="simulator", num_qubits=WIDTH[method], circuit_formats=FORMATS,
                supports_mid_circuit_measurement=True,
                # A call's fixed cost in small tasks' runs (QDREAMER's rho prior): Bell circuits
                # through QTAU took 2.25 ms alone and 0.7 ms each in bursts (session 21, 2 cores).
                metadata={"backend": "aer_simulator", "method": method, "noise": noise,
                          "call_overhead_tasks": 2.0, **aer_limits(config, method, noise)},
            )
        )
    if backend in (None, "basic_simulator") and not noise:
        offered.append(
            Resource(
                id="qiskit:basic_simulator", provider="qiskit", executor="qiskit_local",
                kind="simulator", num_qubits=BASIC_WIDTH, circuit_formats=FORMATS,
                supports_mid_circuit_measurement=True,
                # A pure-Python simulator: QDREAMER should prefer Aer and spill over only under load.
                # Its calls cost little beyond their circuits (Bell circuits: 1.4 ms alone, 1.0 ms
                # each in bursts), so a burst is not cheaper per task than one task alone.
                # It measures mid-circuit but runs no control flow (`if_else`, loops): its
                # transpiler refuses them, so QDREAMER keeps such circuits off it.
                metadata={"backend": "basic_simulator", "seconds_per_task": 0.005, "seconds_per_shot": 2e-5,
                          "call_overhead_tasks": 0.3, "classical_control": False,
                          **resource_limits.local_limits(config, resource_limits.STATEVECTOR, max_shots=MAX_SHOTS)},
            )
        )
    return offered


def status(resource: Resource) -> ResourceStatus:
    return ResourceStatus(resource.id, online=True, checked_at=time.time(), message="local simulator")


def noise_profile(resource: Resource, config: Mapping[str, Any]) -> NoiseProfile:
    noise = resource.metadata.get("noise") or {}
    if not noise:
        return ideal_noise(resource.id)
    return noise_profile_from(resource.id, noise, "Aer noise model from the pilot's quantum.noise")
