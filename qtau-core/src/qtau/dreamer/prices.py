"""Prices people can trust: user overrides from a pilot description, and the age of shipped tables.

    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_ionq"},
                      "prices": {"braket:arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1":
                                 {"per_task": 0.3, "per_shot": 0.05}}})

An override replaces the named parts of a resource's price (the rest keeps the provider's answer)
and marks it `origin="override"`, so quotes say where each price comes from. Naming a resource
the pilot does not offer is an error listing those it does, raised by `create_pilot`.

Backends that ship a price table list it in `Backend.price_tables()` with its name, source and `as_of`
date; `qtau doctor` warns about tables older than `MAX_TABLE_AGE_DAYS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from qtau.errors import ConfigurationError
from qtau.money import check_amount, check_currency
from qtau.types import CostEstimate, Resource

#: Price parts an override may set; per_minute is per_second x 60.
PARTS = ("per_task", "per_shot", "per_second", "per_minute")
MAX_TABLE_AGE_DAYS = 180


def parse_overrides(raw: Any, resources: Sequence[Resource], field: str = "prices") -> dict[str, dict[str, Any]]:
    """Validated overrides by resource id: `{rid: {"per_shot": 0.01, "currency": "USD"}}`."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigurationError(
            "prices must map resource ids to price parts", field=field, value=raw,
            fix="use e.g. {'scripted:a': {'per_shot': 0.001}}",
        )
    known = {r.id for r in resources}
    out: dict[str, dict[str, Any]] = {}
    for rid, parts in raw.items():
        if rid not in known:
            raise ConfigurationError(
                f"a price override names {rid!r}, which this pilot does not offer", field=f"{field}.{rid}",
                value=rid, fix=f"use one of this pilot's resources: {', '.join(sorted(known))}",
            )
        if not isinstance(parts, Mapping) or not parts:
            raise ConfigurationError(
                "a price override maps price parts to amounts", field=f"{field}.{rid}", value=parts,
                fix=f"use some of {', '.join(PARTS)} and currency, e.g. {{'per_shot': 0.001}}",
            )
        parsed: dict[str, Any] = {}
        for key, value in parts.items():
            where = f"{field}.{rid}.{key}"
            if key == "currency":
                parsed[key] = check_currency(value, where)
            elif key in PARTS:
                parsed[key] = check_amount(value, where)
            else:
                raise ConfigurationError(
                    f"unknown price part {key!r}", field=where, value=value,
                    fix=f"use {', '.join(PARTS)} or currency",
                )
        out[rid] = parsed
    return out


def apply_override(estimate: CostEstimate | None, resource_id: str, override: Mapping[str, Any]) -> CostEstimate:
    """The provider's estimate with the overridden parts replaced, marked as a user override."""
    base = estimate or CostEstimate(resource_id)
    changes = {k: v for k, v in override.items() if k in ("per_task", "per_shot", "per_second", "currency")}
    if "per_minute" in override:
        changes["per_second"] = override["per_minute"] / 60.0
    parts = ", ".join(f"{k}={v}" for k, v in override.items())
    return attrs.evolve(base, **changes, origin="override", as_of="",
                        source=f"pilot description override ({parts})"
                        + (f"; rest from {base.source}" if base.source else ""))


def table_age_days(as_of: str, today: dt.date | None = None) -> int | None:
    """Days since an ISO date (`2025-11-30`), None when it is not one."""
    try:
        when = dt.date.fromisoformat(str(as_of))
    except ValueError:
        return None
    return ((today or dt.date.today()) - when).days


def stale_tables(tables: Sequence[Mapping[str, Any]], today: dt.date | None = None,
                 max_age_days: int = MAX_TABLE_AGE_DAYS) -> list[str]:
    """A warning line for each price table older than `max_age_days` or without a date."""
    warnings = []
    for table in tables:
        name = table.get("name", "?")
        age = table_age_days(table.get("as_of", ""), today)
        if age is None:
            warnings.append(f"price table {name} has no as_of date; its prices may be stale")
        elif age > max_age_days:
            warnings.append(
                f"price table {name} is {age} days old (as of {table['as_of']}, source {table.get('source', '?')}); "
                f"check the provider's page and override prices in the pilot description where they changed"
            )
    return warnings
