"""Cost of a task on IBM hardware, from the published per-second prices in `pricing.json`.

IBM bills quantum seconds. A task's estimated seconds are `task_overhead_s + shots * shot_s`
(`shot_s` is the backend's repetition delay when known); the estimate is split so QDREAMER can
price any shot count from one quote: `per_second * estimated_seconds` covers the fixed part of a
task and `per_shot` the part that grows with shots. Fake backends and the local simulator are free.

Override any value with the pilot's `quantum.pricing`:
    {"plan": "flex"}                     a plan from the table
    {"per_second": 1.2, "currency": "USD", "task_overhead_s": 1.5, "shot_s": 0.0003}
    {"seconds_per_queued_job": 60}       the queue model used for expected wait
    {"price_as_device": true}            price a fake backend like the device it mimics (quotes offline)

A task's billed seconds follow IBM's local estimate: about 2 s per sub-job (`task_overhead_s`)
plus shots x (rep_delay + circuit duration), with rep_delay and gate durations read from the
backend's Target (`Resource.metadata["gate_seconds"]`), so QDREAMER prices each circuit's length.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources as importlib_resources
from typing import Any

from qtau.errors import ConfigurationError
from qtau.scalars import plain
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
        if key == "price_as_device":
            if not isinstance(value, bool):
                raise ConfigurationError(
                    "pricing.price_as_device must be true or false", field="quantum.pricing.price_as_device",
                    value=value, fix="use true to price a fake backend like the device it mimics",
                )
            continue
        if key == "currency":
            out[key] = str(value)
            continue
        value = plain(value)
        if key not in NUMBERS:
            raise ConfigurationError(
                f"unknown pricing setting {key!r}", field=f"quantum.pricing.{key}", value=value,
                fix=f"use plan, currency, price_as_device, or one of {', '.join(NUMBERS)}",
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigurationError(
                f"pricing.{key} must be a non-negative number", field=f"quantum.pricing.{key}", value=value,
                fix="use a number such as 1.6",
            )
        out[key] = float(value)
    return out


def price_table() -> dict[str, str]:
    """The shipped table's name, source and date, for `qtau doctor`."""
    data = table()
    return {"name": "qtau-ibmq pricing.json", "source": data["source"], "as_of": data["as_of"]}


def usage_seconds(resource: Resource, config: Mapping[str, Any], shots: int, summary: Any = None) -> float:
    """IBM's local estimate of billed quantum seconds: task_overhead_s (about 2 s per sub-job) +
    shots x (rep_delay + circuit duration), durations from the backend's Target."""
    cost = _estimate(resource, config)
    if cost.per_second <= 0:
        return 0.0
    return cost.total(shots, summary=summary) / cost.per_second


def _estimate(resource: Resource, config: Mapping[str, Any]) -> CostEstimate:
    prices = settings(config)
    override = config.get("pricing") or {}
    shot_s = float(prices["shot_s"]) if "shot_s" in override else float(
        resource.metadata.get("rep_delay_s") or prices["shot_s"])
    rate = float(prices["per_second"])
    origin = "override" if "per_second" in override else "table"
    return CostEstimate(
        resource_id=resource.id,
        per_second=rate,
        estimated_seconds=float(prices["task_overhead_s"]),
        per_shot=rate * shot_s,
        currency=prices["currency"],
        gate_seconds=resource.metadata.get("gate_seconds") or {},
        origin=origin,
        as_of="" if origin == "override" else table()["as_of"],
        source=f"IBM {prices['plan']} plan at {rate:g} {prices['currency']}/s; "
        f"{prices['task_overhead_s']:g} s per task + ({shot_s:g} s rep_delay + circuit duration) per shot "
        f"(pricing.json, {table()['source']}, as of {table()['as_of']})",
    )


def estimate(resource: Resource, config: Mapping[str, Any], shots: int) -> CostEstimate:
    """Free for fakes and the simulator, unless `quantum.pricing.price_as_device` asks to rehearse
    what the device a fake mimics would cost."""
    override = config.get("pricing") or {}
    if resource.kind != "qpu" and not (isinstance(override, Mapping) and override.get("price_as_device")):
        return free(resource.id)
    return _estimate(resource, config)
