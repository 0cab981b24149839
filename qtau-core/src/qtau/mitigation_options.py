"""What a task asks of error mitigation: `QuantumTask(mitigation=...)`, parsed once into a value.

Accepted forms: a technique name (`"none"`, `"auto"`, `"readout"`, `"trex"`, `"zne"`, and the
combinations `"zne+readout"`, `"zne+trex"`), or a dict naming the technique and its settings,
e.g. `{"technique": "zne", "scale_factors": [1, 3, 5], "fit": "linear", "folding": "local"}`.
`"auto"` lets QDREAMER choose the technique together with the resource (docs/mitigation.md).

This module knows only the settings; the techniques live in `qtau.mitigation`. It sits at the
bottom of QTAU's layers so `QuantumTask` can validate the field where the mistake is made.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from qtau.errors import MitigationError
from qtau.scalars import plain

#: Names a task may give; "auto" is resolved by QDREAMER before the task runs.
TECHNIQUES = ("none", "auto", "readout", "trex", "zne", "zne+readout", "zne+trex")
#: The concrete techniques (everything but "none" and "auto").
CONCRETE = TECHNIQUES[2:]
#: What "auto" chooses among: running unmitigated is a choice too (where mitigation only adds noise).
AUTO_CHOICES = ("none", *CONCRETE)
FITS = ("richardson", "linear")
FOLDINGS = ("global", "local")
SETTINGS = ("technique", "scale_factors", "fit", "folding", "twirls", "seed", "choices")
#: More scale factors than this make Richardson's weights (and the shot overhead) explode.
MAX_SCALE_FACTORS = 7
MAX_SCALE = 21
MAX_TWIRLS = 64


def _fix() -> str:
    return (f"pass mitigation= one of {', '.join(repr(t) for t in TECHNIQUES)}, or a dict such as "
            "{'technique': 'zne', 'scale_factors': [1, 3, 5], 'fit': 'richardson'}")


@attrs.frozen
class Mitigation:
    """A parsed mitigation setting. `technique` is one of TECHNIQUES; the rest are its settings.

    `scale_factors`: the noise scales ZNE runs at (odd integers from 1 fold whole circuits; other
    values fold part of it). `fit`: "richardson" (the polynomial through every point) or "linear"
    (least squares). `folding`: "global" (U (U^-1 U)^k) or "local" (each gate). `twirls`: random
    bit-flip layers TREX averages over; `seed` makes them reproducible. `choices`: the techniques
    "auto" may pick ("none" and every concrete one by default). `auto`: chosen by QDREAMER from
    "auto".
    """

    technique: str = "none"
    scale_factors: tuple[float, ...] = (1.0, 3.0, 5.0)
    fit: str = "richardson"
    folding: str = "global"
    twirls: int = 8
    seed: int | None = None
    choices: tuple[str, ...] = AUTO_CHOICES
    auto: bool = False

    @property
    def active(self) -> bool:
        """Whether anything is to be done (False for "none")."""
        return self.technique != "none"

    @property
    def zne(self) -> bool:
        return self.technique.startswith("zne")

    @property
    def readout(self) -> str | None:
        """The readout correction this technique applies: "readout", "trex" or None."""
        for name in ("readout", "trex"):
            if self.technique == name or self.technique.endswith("+" + name):
                return name
        return None

    def with_technique(self, technique: str) -> Mitigation:
        """The same settings with a concrete technique (what "auto" resolves to)."""
        return attrs.evolve(self, technique=_technique(technique), auto=self.technique == "auto" or self.auto)

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


NONE = Mitigation()


def _technique(value: Any) -> str:
    name = value.strip().lower() if isinstance(value, str) else value
    aliases = {"off": "none", "readout+zne": "zne+readout", "trex+zne": "zne+trex", "rem": "readout"}
    name = aliases.get(name, name)
    if name not in TECHNIQUES:
        raise MitigationError(f"unknown mitigation technique {value!r}", field="mitigation", value=value,
                              fix=_fix())
    return name


def _scales(value: Any) -> tuple[float, ...]:
    field = "mitigation.scale_factors"
    fix = "pass scale_factors=[1, 3, 5]: at least two distinct numbers from 1 (the circuit as written) upwards"
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise MitigationError("scale_factors must be a list of numbers", field=field, value=value, fix=fix)
    scales = tuple(plain(s) for s in value)
    ok = all(isinstance(s, (int, float)) and not isinstance(s, bool) and math.isfinite(s) and 1 <= s <= MAX_SCALE
             for s in scales)
    if (not ok or len(set(scales)) != len(scales) or not 2 <= len(scales) <= MAX_SCALE_FACTORS
            or min(scales) != 1):
        raise MitigationError(
            f"scale_factors must be 2 to {MAX_SCALE_FACTORS} distinct numbers from 1 (the circuit as "
            f"written, the unmitigated value) to {MAX_SCALE}",
            field=field, value=value, fix=fix)
    return tuple(sorted(float(s) for s in scales))


def _choice(value: Any, field: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise MitigationError(f"{field} must be one of {', '.join(allowed)}", field=field, value=value,
                              fix=f"pass one of {', '.join(repr(a) for a in allowed)}")
    return value


def _twirls(value: Any) -> int:
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TWIRLS:
        raise MitigationError(f"twirls must be an integer from 1 to {MAX_TWIRLS}", field="mitigation.twirls",
                              value=value, fix="pass twirls=8, for example")
    return value


def _choices(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    names = tuple(_technique(v) for v in value)
    if not names or any(n in ("auto",) for n in names):
        raise MitigationError("choices must name concrete techniques", field="mitigation.choices", value=value,
                              fix=f"pass choices from {', '.join(AUTO_CHOICES)}")
    return names


def parse_mitigation(value: Any) -> Mitigation:
    """`value` as a Mitigation, or MitigationError naming the setting, the value and the fix."""
    if isinstance(value, Mitigation):
        return value
    if value is None or value is False:
        return NONE
    if isinstance(value, str):
        technique = _technique(value)
        return NONE if technique == "none" else Mitigation(technique=technique)
    if not isinstance(value, Mapping):
        raise MitigationError(f"mitigation must be a technique name or a dict, not {type(value).__name__}",
                              field="mitigation", value=value, fix=_fix())
    for key in value:
        if key not in SETTINGS:
            raise MitigationError(f"unknown mitigation setting {key!r}", field=f"mitigation.{key}",
                                  value=value[key], fix=f"use only {', '.join(SETTINGS)}")
    out: dict[str, Any] = {"technique": _technique(value.get("technique", "zne"))}
    if "scale_factors" in value:
        out["scale_factors"] = _scales(value["scale_factors"])
    if "fit" in value:
        out["fit"] = _choice(value["fit"], "mitigation.fit", FITS)
    if "folding" in value:
        out["folding"] = _choice(value["folding"], "mitigation.folding", FOLDINGS)
    if "twirls" in value:
        out["twirls"] = _twirls(value["twirls"])
    if value.get("seed") is not None:
        seed = plain(value["seed"])
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise MitigationError("seed must be an integer", field="mitigation.seed", value=seed,
                                  fix="pass seed=7, or leave it out")
        out["seed"] = seed
    if "choices" in value:
        out["choices"] = _choices(value["choices"])
    return Mitigation(**out)
