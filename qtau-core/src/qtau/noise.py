"""The `quantum.noise` setting every simulator plugin accepts, parsed once.

A pilot asks for noise with probabilities: `{"depolarizing_1q": p, "depolarizing_2q": p,
"readout": p}`. Each plugin builds its own SDK's noise model from them (Aer NoiseModel, Braket
NoiseModel, PennyLane channels), and the same numbers are the NoiseProfile QDREAMER ranks with, so
ranking needs no SDK import and always matches what runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qtau.errors import ConfigurationError
from qtau.scalars import plain
from qtau.types import NoiseProfile

NOISE_KEYS = ("depolarizing_1q", "depolarizing_2q", "readout")


def parse_noise(noise: Any, *, limit: float = 1.0) -> dict[str, float]:
    """Validated rates from a pilot's `quantum.noise`; empty when there is none.

    `limit` is the highest rate the plugin's noise channels accept (exclusive).
    """
    if not noise:
        return {}
    if not isinstance(noise, Mapping):
        raise ConfigurationError(
            "quantum.noise must be a mapping of error rates", field="quantum.noise", value=noise,
            fix="use e.g. {'depolarizing_1q': 0.001, 'depolarizing_2q': 0.01, 'readout': 0.02}",
        )
    out = {}
    for key, value in noise.items():
        value = plain(value)
        if key not in NOISE_KEYS:
            raise ConfigurationError(
                f"unknown noise setting {key!r}", field=f"quantum.noise.{key}", value=value,
                fix=f"use only {', '.join(NOISE_KEYS)}",
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < limit:
            raise ConfigurationError(
                f"noise rate {key} must be a probability in [0, {limit:g})", field=f"quantum.noise.{key}",
                value=value, fix="use a number such as 0.01",
            )
        out[key] = float(value)
    return out


def noise_profile(resource_id: str, noise: Mapping[str, float], source: str) -> NoiseProfile:
    """The NoiseProfile of a simulator running with `noise` (as returned by `parse_noise`)."""
    return NoiseProfile(
        resource_id=resource_id,
        one_qubit_error=noise.get("depolarizing_1q", 0.0),
        two_qubit_error=noise.get("depolarizing_2q", 0.0),
        readout_error=noise.get("readout", 0.0),
        source=source,
    )
