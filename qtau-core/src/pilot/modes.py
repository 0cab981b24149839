"""Pilot-Quantum's QDREAMER settings as QTAU optimisation modes and weights.

Pilot-Quantum chose resources in three ways over its history: strategies (`DreamerStrategyType`,
PR #19), optimisation modes (`{"optimization_mode": ...}`, commit f267af9, with `multi_objective`,
`fidelity_first`, `queue_first`) and load-balancing weights (`{"load_balancing":
{"fidelity_weight": a, "queue_weight": b}}`). Each becomes a QTAU `initialize_dreamer` config:

- LEAST_ERROR_RATE -> `high_fidelity`; LEAST_BUSY -> `high_speed`;
- ROUND_ROBIN -> weights on expected wait only: QTAU counts in-flight tasks in the wait, so equal
  resources take turns (QTAU's load balancing), while a resource that cannot run a task is
  still never chosen (Pilot-Quantum's round robin did not check);
- `multi_objective` -> `balanced`, `fidelity_first` -> `high_fidelity`, `queue_first` -> `high_speed`;
- load-balancing weights -> QTAU weights over fidelity and speed.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from qtau.dreamer.config import PRESETS
from qtau.errors import ConfigurationError


class DreamerStrategyType(Enum):
    LEAST_ERROR_RATE = "least_error_rate"
    ROUND_ROBIN = "round_robin"
    LEAST_BUSY = "least_busy"


STRATEGY_MODES: dict[DreamerStrategyType, dict[str, Any]] = {
    DreamerStrategyType.LEAST_ERROR_RATE: {"optimization_mode": "high_fidelity"},
    DreamerStrategyType.LEAST_BUSY: {"optimization_mode": "high_speed"},
    DreamerStrategyType.ROUND_ROBIN: {"weights": {"speed": 1.0}},
}
MODE_ALIASES = {"multi_objective": "balanced", "fidelity_first": "high_fidelity", "queue_first": "high_speed"}
LOAD_BALANCING_KEYS = {"fidelity_weight": "fidelity", "queue_weight": "speed", "cost_weight": "cost"}


def _load_balancing(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value or set(value) - set(LOAD_BALANCING_KEYS):
        raise ConfigurationError(
            "load_balancing maps fidelity_weight, queue_weight (and cost_weight) to numbers",
            field="load_balancing", value=value, fix="pass {'fidelity_weight': 0.5, 'queue_weight': 0.5}",
        )
    return {LOAD_BALANCING_KEYS[k]: v for k, v in value.items()}


def dreamer_config(setting: Any) -> dict[str, Any] | None:
    """A QTAU `initialize_dreamer` config from any Pilot-Quantum setting (None stays None)."""
    if setting is None:
        return None
    if isinstance(setting, DreamerStrategyType):
        return dict(STRATEGY_MODES[setting])
    if isinstance(setting, str):
        try:
            return dict(STRATEGY_MODES[DreamerStrategyType(setting)])
        except ValueError:
            return {"optimization_mode": MODE_ALIASES.get(setting, setting)}
    if isinstance(setting, Mapping):
        config = dict(setting)
        if "load_balancing" in config:
            weights = _load_balancing(config.pop("load_balancing"))
            if "weights" in config or "optimization_mode" in config:
                raise ConfigurationError(
                    "load_balancing and optimization_mode/weights both choose the weights",
                    field="load_balancing", value=weights, fix="keep one of them",
                )
            config["weights"] = weights
        mode = config.get("optimization_mode")
        if isinstance(mode, str):
            config["optimization_mode"] = MODE_ALIASES.get(mode, mode)
        return config
    raise ConfigurationError(
        "initialize_dreamer takes a DreamerStrategyType or a config dict", field="qdreamer_config",
        value=setting, fix="pass DreamerStrategyType.ROUND_ROBIN or {'optimization_mode': 'high_fidelity'}",
    )


def selector_weights(mode: Any) -> dict[str, float]:
    """Weights of fidelity and speed (queue use) for Pilot-Quantum's standalone selector."""
    if isinstance(mode, Mapping) and "load_balancing" in mode:
        raw = _load_balancing(mode["load_balancing"])
        total = sum(float(v) for v in raw.values()) or 1.0
        return {"fidelity": float(raw.get("fidelity", 0.0)) / total, "speed": float(raw.get("speed", 0.0)) / total}
    name = MODE_ALIASES.get(mode, mode)
    if name not in PRESETS:
        raise ConfigurationError(
            f"unknown optimization mode {mode!r}", field="optimization_mode", value=mode,
            fix=f"use one of {', '.join([*PRESETS, *MODE_ALIASES])}",
        )
    return PRESETS[name]
