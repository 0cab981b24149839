"""Cost of a Braket task from the published prices shipped in `prices.json`.

QPUs: a per-task fee plus a per-shot fee by device. On-demand simulators (SV1, DM1, TN1): a price
per minute, billed with a minimum per task; a task's seconds are estimated as
`max(minimum, task_overhead_s + shots * shot_s)`. Local simulators are free.

Refreshing from the AWS Price List is optional and bounded: only when the pilot sets
`braket_price_refresh: true` (or `braket_price_list_url`, or env `QTAU_BRAKET_PRICE_LIST_URL`), at
most once per process, with a short timeout and a size cap; any failure keeps the shipped table.
Config `pricing` overrides: `{"per_task": .., "per_shot": .., "per_minute": .., "currency": ..}`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources as importlib_resources
from typing import Any

from qtau.errors import ConfigurationError
from qtau.scalars import plain
from qtau.types import CostEstimate, Resource, free

from qtau_braket.names import parse_arn

log = logging.getLogger("qtau.braket.pricing")
REFRESH_TIMEOUT_S = 5.0
REFRESH_MAX_BYTES = 32 * 1024 * 1024
OVERRIDES = ("per_task", "per_shot", "per_minute")

_refreshed: dict[str, dict[str, dict[str, float]]] = {}
_refresh_lock = threading.Lock()


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    return json.loads(importlib_resources.files("qtau_braket").joinpath("prices.json").read_text())


def price_table() -> dict[str, str]:
    """The shipped table's name, source and date, for `qtau doctor`."""
    data = table()
    return {"name": "qtau-braket prices.json", "source": data["source"], "as_of": data["as_of"]}


def device_key(arn: str) -> str:
    ref = parse_arn(arn)
    return f"{ref.provider}/{ref.name.lower()}"


def parse_price_list(document: Mapping[str, Any], keys: list[str]) -> dict[str, dict[str, float]]:
    """Prices per device key found in an AWS Price List offer file (best effort, USD on-demand).

    A product belongs to a device when one of its attribute values names the device; its price
    dimension's unit says whether the price is per shot, per task or per minute.
    """
    products = document.get("products") or {}
    terms = (document.get("terms") or {}).get("OnDemand") or {}
    found: dict[str, dict[str, float]] = {}
    for sku, product in products.items():
        text = " ".join(str(v).lower() for v in (product.get("attributes") or {}).values())
        matches = [k for k in keys if k.split("/")[1] in text]
        if not matches:
            continue
        key = max(matches, key=len)
        for offer in (terms.get(sku) or {}).values():
            for dim in (offer.get("priceDimensions") or {}).values():
                unit = str(dim.get("unit", "")).lower()
                try:
                    price = float((dim.get("pricePerUnit") or {})["USD"])
                except (KeyError, TypeError, ValueError):
                    continue
                kind = "per_shot" if "shot" in unit else "per_task" if "task" in unit else (
                    "per_minute" if "min" in unit else None)
                if kind:
                    found.setdefault(key, {})[kind] = price
    return found


def refresh(url: str, timeout: float | None = None) -> dict[str, dict[str, float]]:
    """Prices from the price list at `url`, fetched once per process; {} when unreachable."""
    with _refresh_lock:
        if url in _refreshed:
            return _refreshed[url]
        data = table()
        keys = sorted({*data["qpu_per_shot"], *data["simulator_per_minute"]} - {k for k in data["qpu_per_shot"] if "/" not in k})
        try:
            with urllib.request.urlopen(url, timeout=timeout or REFRESH_TIMEOUT_S) as response:  # noqa: S310 (https or a test URL)
                body = response.read(REFRESH_MAX_BYTES + 1)
            if len(body) > REFRESH_MAX_BYTES:
                raise ValueError(f"price list larger than {REFRESH_MAX_BYTES} bytes")
            found = parse_price_list(json.loads(body), keys)
        except Exception as err:  # unreachable or unreadable: the shipped table stays in force
            log.info("Braket price list at %s not used: %s: %s", url, type(err).__name__, err)
            found = {}
        _refreshed[url] = found
        return found


def _refresh_url(config: Mapping[str, Any]) -> str | None:
    url = config.get("braket_price_list_url") or os.environ.get("QTAU_BRAKET_PRICE_LIST_URL")
    if url:
        return str(url)
    return table()["price_list_url"] if config.get("braket_price_refresh") else None


def _overrides(config: Mapping[str, Any]) -> dict[str, Any]:
    override = config.get("pricing") or {}
    if not isinstance(override, Mapping):
        raise ConfigurationError("quantum.pricing must be a mapping", field="quantum.pricing", value=override,
                                 fix="use e.g. {'per_task': 0.3, 'per_shot': 0.08}")
    for key, value in override.items():
        if key == "currency":
            continue
        value = plain(value)
        if key not in OVERRIDES or isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigurationError(
                f"bad pricing setting {key}={value!r}", field=f"quantum.pricing.{key}", value=value,
                fix=f"use non-negative numbers for {', '.join(OVERRIDES)}, and currency as text",
            )
    return {key: value if key == "currency" else plain(value) for key, value in override.items()}


def estimate(resource: Resource, config: Mapping[str, Any], shots: int) -> CostEstimate:
    if "arn" not in resource.metadata:
        return free(resource.id)
    data = table()
    key = device_key(resource.metadata["arn"])
    provider = key.split("/")[0]
    prices: dict[str, float] = {}
    if resource.kind == "simulator":
        if key in data["simulator_per_minute"]:
            prices["per_minute"] = data["simulator_per_minute"][key]
    else:
        prices["per_task"] = data["qpu_per_task"]
        shot = data["qpu_per_shot"].get(key, data["qpu_per_shot"].get(provider))
        if shot is not None:
            prices["per_shot"] = shot
    source = f"prices.json (Braket's published on-demand prices, {data['source']}, as of {data['as_of']})"
    origin, as_of = "table", data["as_of"]
    url = _refresh_url(config)
    if url:
        fresh = refresh(url).get(key)
        if fresh:
            prices.update(fresh)
            source = f"AWS Price List ({url})"
            origin, as_of = "provider", ""
    override = _overrides(config)
    if any(k in OVERRIDES for k in override):
        origin, as_of = "override", ""
    prices.update({k: float(v) for k, v in override.items() if k in OVERRIDES})
    currency = str(override.get("currency", data["currency"]))
    if "per_minute" in prices:
        model = data["simulator_model"]
        seconds = max(data["simulator_minimum_s"], model["task_overhead_s"] + shots * model["shot_s"])
        return CostEstimate(resource.id, per_second=prices["per_minute"] / 60.0, estimated_seconds=seconds,
                            per_task=prices.get("per_task", 0.0), per_shot=prices.get("per_shot", 0.0),
                            currency=currency, source=f"{source}; {prices['per_minute']:g} {currency}/min, "
                            f"minimum {data['simulator_minimum_s']:g} s", origin=origin, as_of=as_of)
    if not prices.get("per_shot") and resource.kind == "qpu" and "per_shot" not in prices:
        source += f"; no per-shot price known for {key} (give quantum.pricing.per_shot)"
    return CostEstimate(resource.id, per_task=prices.get("per_task", 0.0), per_shot=prices.get("per_shot", 0.0),
                        currency=currency, source=source, origin=origin, as_of=as_of)
