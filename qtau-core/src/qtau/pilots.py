"""Pilots: a validated pilot description, the config its Backend sees, and the resources it offers.

Pilot-Quantum descriptions (`resource_type`, `quantum.executor`, credentials such as
`ibmqx_token`, `working_directory`, `dreamer_enabled`...) are checked here, where the mistake is
made, so `create_pilot` fails early and says what to write instead.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from qtau import validation
from qtau.dreamer import QDreamer
from qtau.dreamer.budget import parse_budget
from qtau.dreamer.prices import parse_overrides
from qtau.errors import ConfigurationError
from qtau.plugins import PluginHost
from qtau.render_html import pilot_html
from qtau.scalars import plain
from qtau.secrets import MASK, Secret, secret_or_none
from qtau.types import Resource

#: Top-level description keys that describe the pilot itself rather than its backend.
PILOT_KEYS = frozenset({
    "resource_type", "quantum", "working_directory", "type", "resource", "number_of_nodes",
    "cores_per_node", "gpus_per_node", "queue", "walltime", "project", "name", "dreamer_enabled",
    "ray_address", "conda_environment", "scheduler_script_commands", "budget", "prices",
})
RESOURCE_TYPES = ("quantum",)
#: `quantum` section keys QTAU itself reads (plugins check their own).
CORE_QUANTUM_KEYS = ("executor", "noise", "backend_options", "max_qubits")


def is_secret_key(key: str) -> bool:
    key = key.lower()
    return key.endswith("token") or "secret" in key or "password" in key or key.endswith("access_key_id")


def redacted_description(description: Mapping[str, Any]) -> dict[str, Any]:
    """The description with every credential value (top level and `quantum`) replaced by the mask,
    so the copy a PilotCompute keeps reaches no pickle, repr or log in plain text."""
    out: dict[str, Any] = {}
    for key, value in description.items():
        if isinstance(key, str) and is_secret_key(key) and value not in (None, ""):
            out[key] = MASK
        elif key == "quantum" and isinstance(value, Mapping):
            out[key] = redacted_description(value)
        else:
            out[key] = value
    return out


def backend_config(description: Mapping[str, Any]) -> dict[str, Any]:
    """What the Backend sees: the `quantum` section plus credentials and other backend keys."""
    config = dict(description["quantum"])
    config.pop("max_qubits", None)  # QTAU's cap on the pilot's resources (`cap_width`), not the backend's
    for key, value in description.items():
        if key not in PILOT_KEYS and key not in config:
            config[key] = value
    for key in list(config):
        if is_secret_key(key):
            config[key] = secret_or_none(config[key])
    return config


def check_description(desc: Any) -> str:
    """The executor a pilot description names, or a ConfigurationError saying what is wrong."""
    if not isinstance(desc, Mapping):
        raise ConfigurationError(
            "a pilot description must be a dict", field="pilot_compute_description", value=type(desc).__name__,
            fix="pass {'resource_type': 'quantum', 'quantum': {'executor': 'qiskit_local'}}",
        )
    rtype = desc.get("resource_type", "quantum" if "quantum" in desc else None)
    if rtype not in RESOURCE_TYPES:
        raise ConfigurationError(
            f"unsupported resource_type {rtype!r}", field="resource_type", value=rtype,
            fix="use resource_type 'quantum' with a 'quantum': {'executor': ...} section",
        )
    quantum = desc.get("quantum")
    if not isinstance(quantum, Mapping) or not quantum.get("executor"):
        raise ConfigurationError(
            "a quantum pilot needs a 'quantum' section naming its executor", field="quantum.executor",
            value=None if not isinstance(quantum, Mapping) else quantum.get("executor"),
            fix="add 'quantum': {'executor': 'qiskit_local'} (or another installed executor)",
        )
    validation.reject_misspelled_keys(desc, PILOT_KEYS)
    validation.reject_misspelled_keys(quantum, CORE_QUANTUM_KEYS, "quantum")
    executor = quantum["executor"]
    if not isinstance(executor, str):
        raise ConfigurationError(
            "quantum.executor must be a string", field="quantum.executor", value=executor,
            fix="name an executor such as 'qiskit_local'",
        )
    return executor


def same_settings(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two pilots' backend configs are equal (a config whose values cannot be compared,
    e.g. arrays, counts as different: twins are only claimed where they are certain)."""
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - a value's own __eq__ may raise (numpy arrays)
        return False


def distinct_ids(resources: Iterable[Resource], taken: set[str], pilot: str,
                 twins: Iterable[Resource] = ()) -> list[Resource]:
    """Resources of a new pilot, renamed `<id>@<pilot>` where another pilot already offers the id:
    two pilots on one simulator with different configs (noise) are different resources.

    A renamed resource keeps the id its plugin offered (`metadata["offered_as"]`). Where a pilot
    of the same executor and config already offers it (`twins`: that pilot's resources), it is that
    resource's twin (`metadata["twin_of"]`, the first of the twins): the same simulator with the
    same settings, so QDREAMER starts its run-time estimate from the twin's observations and
    a split may always share shots between them (see dreamer/split_rules.py)."""
    roots = {r.metadata.get("offered_as", r.id): r.metadata.get("twin_of", r.id) for r in twins}
    out = []
    for res in resources:
        if res.id in taken:
            meta = {**res.metadata, "offered_as": res.id}
            if res.id in roots:
                meta["twin_of"] = roots[res.id]
            res = attrs.evolve(res, id=f"{res.id}@{pilot}", metadata=meta)
        out.append(res)
    return out


@attrs.define(eq=False)
class PilotCompute:
    """A pilot: one backend executor and the resources it offers to QDREAMER."""

    name: str
    executor: str
    resources: list[Resource]
    description: dict[str, Any] = attrs.field(repr=False, converter=redacted_description)
    config: dict[str, Any] = attrs.field(repr=False)
    state: str = "RUNNING"
    created_at: float = attrs.field(factory=time.time)

    def get_state(self) -> str:
        return self.state

    def __reduce__(self):
        # A pickled pilot is a record for the caller, not a credential store: its config's
        # Secrets travel as None (the running service keeps the live pilot and its backend).
        config = {k: (None if isinstance(v, Secret) else v) for k, v in self.config.items()}
        return (_rebuild_pilot, (self.name, self.executor, self.resources, self.description, config,
                                 self.state, self.created_at))

    def get_details(self) -> dict[str, Any]:
        return {"name": self.name, "executor": self.executor, "state": self.state,
                "resources": [r.id for r in self.resources]}

    def _repr_html_(self) -> str:
        return pilot_html(self)

    @property
    def dreamer_enabled(self) -> bool:
        return bool(self.description.get("dreamer_enabled", True))


def _rebuild_pilot(name, executor, resources, description, config, state, created_at) -> PilotCompute:
    return PilotCompute(name, executor, resources, description, config, state, created_at)


def cap_width(resources: list[Resource], max_qubits: Any) -> list[Resource]:
    """The resources with at most `max_qubits` qubits each (`quantum.max_qubits`): how a user
    emulates a fleet of small devices with simulators, and how a circuit wider than every capped
    resource gets cut (docs/cutting.md). A coupling map keeps only its edges inside the cap."""
    max_qubits = plain(max_qubits)
    if max_qubits is None:
        return resources
    if isinstance(max_qubits, bool) or not isinstance(max_qubits, int) or max_qubits < 1:
        raise ConfigurationError(
            "quantum.max_qubits must be a positive whole number of qubits", field="quantum.max_qubits",
            value=max_qubits, fix="pass e.g. 'max_qubits': 5, or leave it out",
        )
    capped = []
    for res in resources:
        if res.num_qubits <= max_qubits:
            capped.append(res)
            continue
        edges = None if res.coupling_map is None else tuple(
            (a, b) for a, b in res.coupling_map if a < max_qubits and b < max_qubits)
        capped.append(attrs.evolve(res, num_qubits=max_qubits, coupling_map=edges))
    return capped


def offered_resources(host: PluginHost, desc: Mapping[str, Any]) -> tuple[str, dict[str, Any], list[Resource]]:
    """A checked description's executor, its backend config and the resources its Backend offers
    (ConfigurationError when it offers none)."""
    executor = check_description(desc)
    config = backend_config(desc)
    offered = cap_width(host.resources(executor, config), desc["quantum"].get("max_qubits"))
    if not offered:
        info = host.find_executor(executor)
        raise ConfigurationError(
            f"executor {executor!r} offered no resources with this configuration", field="quantum",
            value=executor, fix=f"check the options of {executor!r} in the plugin {info.provider!r} docs",
        )
    return executor, config, offered


class Pilots(dict[str, PilotCompute]):
    """A service's pilots by name. A new pilot's resources get ids no other pilot has, and enter
    QDREAMER's budgets and (unless `dreamer_enabled` is false) its ranking."""

    def __init__(self) -> None:
        super().__init__()
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, desc: Mapping[str, Any], executor: str, config: dict[str, Any],
            offered: list[Resource], dreamer: QDreamer) -> PilotCompute:
        name = str(desc.get("name") or f"pilot-{next(self._counter)}-{uuid.uuid4().hex[:6]}")
        with self._lock:
            if name in self:
                raise ConfigurationError(
                    f"a pilot named {name!r} already exists", field="name", value=name,
                    fix="give each pilot its own name, or leave name out",
                )
            taken = {r.id for p in self.values() for r in p.resources}
            twins = [r for p in self.values() if p.executor == executor and same_settings(p.config, config)
                     for r in p.resources]
            resources = distinct_ids(offered, taken, name, twins)
            prices = parse_overrides(desc.get("prices"), resources)
            budget = parse_budget(desc.get("budget"))
            pilot = PilotCompute(name, executor, resources, dict(desc), config)
            self[name] = pilot
        dreamer.budgets.add_pilot(name, budget, [r.id for r in pilot.resources])
        if pilot.dreamer_enabled:
            dreamer.add_resources(pilot.resources, config, pilot.name, prices)
        return pilot

    def resources(self) -> dict[str, Resource]:
        """The resources of running pilots, by id."""
        return {r.id: r for p in self.values() if p.state == "RUNNING" for r in p.resources}

    def carry_over(self, old: QDreamer, new: QDreamer) -> QDreamer:
        """`new` (a reconfigured QDREAMER) given what outlives `old`: its budgets (money spent and
        reserved stays counted), the running pilots' resources, and the tasks in flight (they still
        count towards expected wait)."""
        old.stop_background_monitoring()
        new.budgets = old.budgets
        new.budgets.set_service(new.config.budget)
        for pilot in self.values():
            if pilot.state == "RUNNING" and pilot.dreamer_enabled:
                new.add_resources(pilot.resources, pilot.config, pilot.name,
                                  parse_overrides(pilot.description.get("prices"), pilot.resources))
        for rid, n in old.in_flight().items():
            if n:
                new.task_started(rid, n)
        return new
