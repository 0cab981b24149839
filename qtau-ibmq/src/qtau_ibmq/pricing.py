"""Cost of a task on IBM hardware, from the published per-second prices in `pricing.json`.

IBM bills quantum seconds. A task's estimated seconds are `task_overhead_s + shots * shot_s`
(`shot_s` is the backend's repetition delay when known); the estimate is split so QDREAMER can
price any shot count from one quote: `per_second * estimated_seconds` covers the fixed part of a
task and `per_shot` the part that grows with shots. Fake backends and the local simulator are free.

Override any value with the pilot's `quantum.pricing`:
    {"plan": "flex"}                     a plan from the table
    {"per_second": 1.2, "currency": "USD", "task_overhead_s": 1.5, "shot_s": 0.0003}
    {"seconds_per_queued_job": 60}       the queue model used for expected wait
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources as importlib_resources
from typing import Any

from qtau.errors import ConfigurationError
from qtau.types import CostEstimate, Resource, free

NUMBERS = ("per_second", "task_overhead_s", "shot_s", "seconds_per_queued_job")


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    return json.loads(importlib_resources.files("qtau_ibmq").joinpath("pricing.json").read_text())


def settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The effective prices and models: the table's default plan, then the pilot's overrides."""
    data = table()
    override = config.get("pricing") or {}
    if not isinstance(override, Mapping):
        raise ConfigurationError(
            "quantum.pricing must be a mapping", field="quantum.pricing", value=override,
            fix="use e.g. {'plan': 'flex'} or {'per_second': 1.2}",
        )
    plan = override.get("plan", data["default_plan"])
    if plan not in data["plans"]:
        raise ConfigurationError(
            f"unknown IBM pricing plan {plan!r}", field="quantum.pricing.plan", value=plan,
            fix=f"use one of {', '.join(sorted(data['plans']))}, or give per_second directly",
        )
    out = {"plan": plan, "currency": data["currency"], "per_second": data["plans"][plan]["per_second"]}
    out.update({k: v for k, v in data["usage_model"].items() if not k.startswith("_")})
    out.update({k: v for k, v in data["queue_model"].items() if not k.startswith("_")})
    for key, value in override.items():
        if key == "plan":
            continue
        if key == "currency":
            out[key] = str(value)
            continue
        if key not in NUMBERS:
            raise ConfigurationError(
                f"unknown pricing setting {key!r}", field=f"quantum.pricing.{key}", value=value,
                fix=f"use plan, currency, or one of {', '.join(NUMBERS)}",
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigurationError(
                f"pricing.{key} must be a non-negative number", field=f"quantum.pricing.{key}", value=value,
                fix="use a number such as 1.6",
            )
        out[key] = float(value)
    return out


def estimate(resource: Resource, config: Mapping[str, Any], shots: int) -> CostEstimate:
    if resource.kind != "qpu":
        return free(resource.id)
    prices = settings(config)
    override = config.get("pricing") or {}
    shot_s = float(prices["shot_s"]) if "shot_s" in override else float(
        resource.metadata.get("rep_delay_s") or prices["shot_s"])
    rate = float(prices["per_second"])
    return CostEstimate(
        resource_id=resource.id,
        per_second=rate,
        estimated_seconds=float(prices["task_overhead_s"]),
        per_shot=rate * shot_s,
        currency=prices["currency"],
        source=f"IBM {prices['plan']} plan at {rate:g} {prices['currency']}/s; "
        f"{prices['task_overhead_s']:g} s per task + {shot_s:g} s per shot (pricing.json)",
    )
