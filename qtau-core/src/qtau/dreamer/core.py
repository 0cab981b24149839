"""QDREAMER: chooses a resource for each task among every pilot's resources, and says why.

Decisions are made in the driver, once per task, with the user's configuration; workers only
execute the ranked placements they are given (the tail of the ranking is the failover order).
In-flight work per resource feeds expected wait, so a burst spreads over equally good resources.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import attrs

from qtau.circuits import Circuits
from qtau.dreamer.cache import ProviderCache
from qtau.dreamer.config import DreamerConfig, weights_for
from qtau.dreamer.ranking import Candidate, Row, rank
from qtau.errors import InvalidTaskError, NoSuitableResourceError, PluginError
from qtau.plugins import PluginHost
from qtau.types import Attempt, CircuitSummary, QuantumTask, Resource
from qtau.worker import Placement

#: Shots at which cost estimates are fetched; totals for other shot counts come from the rates.
REFERENCE_SHOTS = 1000


@attrs.frozen
class Explanation:
    """The ranked table QDREAMER built for a task: data, printable with `str()`."""

    task_id: str
    policy: dict[str, float]
    rows: tuple[Row, ...]
    circuit_format: str | None = None

    @property
    def chosen(self) -> Row | None:
        return self.rows[0] if self.rows and self.rows[0].feasible else None

    def to_dicts(self) -> list[dict[str, Any]]:
        return [attrs.asdict(r) for r in self.rows]

    def __str__(self) -> str:
        head = ("rank", "resource", "feasible", "fidelity", "wait_s", "cost", "in_flight", "score", "path / reason")
        lines = [tuple(head)]
        for i, r in enumerate(self.rows, 1):
            lines.append((
                str(i), r.resource_id, "yes" if r.feasible else "no", f"{r.fidelity:.4f}", f"{r.wait_s:.3g}",
                f"{r.cost:.4g} {r.currency}", str(r.in_flight), f"{r.score:.4f}",
                " -> ".join(r.path) if r.feasible else r.reason,
            ))
        widths = [max(len(row[c]) for row in lines) for c in range(len(head))]
        policy = ", ".join(f"{k}={v:.2f}" for k, v in self.policy.items())
        out = [f"QDREAMER ranking for task {self.task_id} (weights: {policy})"]
        for row in lines:
            out.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        return "\n".join(out)


class QDreamer:
    """Ranks resources, caches provider reports, tracks in-flight work and recent failures."""

    def __init__(self, host: PluginHost, circuits: Circuits, config: DreamerConfig | None = None) -> None:
        self.host = host
        self.circuits = circuits
        self.config = config or DreamerConfig()
        self.cache = ProviderCache(self.config.cache_ttl_seconds)
        self._pool: dict[str, tuple[Resource, dict[str, Any]]] = {}
        self._in_flight: dict[str, int] = {}
        self._failed_at: dict[str, float] = {}
        self._summaries: OrderedDict[int, tuple[Any, CircuitSummary, str | None]] = OrderedDict()
        self._paths: dict[tuple[str, tuple[str, ...]], tuple[str, ...] | None] = {}
        self._lock = threading.Lock()
        self.decisions = 0

    # -- candidates ------------------------------------------------------------------------------

    def add_resources(self, resources: list[Resource], config: Mapping[str, Any]) -> None:
        with self._lock:
            for res in resources:
                self._pool[res.id] = (res, dict(config))
                self._in_flight.setdefault(res.id, 0)

    def remove_resources(self, resource_ids: list[str]) -> None:
        with self._lock:
            for rid in resource_ids:
                self._pool.pop(rid, None)

    @property
    def resources(self) -> list[Resource]:
        return [res for res, _ in self._pool.values()]

    def _report(self, res: Resource, config: dict, kind: str) -> Any:
        hook = {"status": "qtau_resource_status", "noise": "qtau_noise_profile", "cost": "qtau_cost_estimate"}[kind]

        def fetch() -> Any:
            kwargs: dict[str, Any] = {"resource": res, "config": config}
            if kind == "cost":
                kwargs["shots"] = REFERENCE_SHOTS
            return self.host.first(hook, owner=res.provider, **kwargs)

        return fetch

    def _fetchers(self) -> dict[tuple[str, str], Any]:
        return {
            (rid, kind): self._report(res, cfg, kind)
            for rid, (res, cfg) in list(self._pool.items())
            for kind in ("status", "noise", "cost")
        }

    def _candidates(self, fmt: str | None) -> list[Candidate]:
        now = time.monotonic()
        cooldown = self.config.failure_cooldown_seconds
        found = []
        for rid, (res, cfg) in list(self._pool.items()):
            reports = []
            for kind in ("status", "noise", "cost"):
                try:
                    reports.append(self.cache.get(rid, kind, self._report(res, cfg, kind)))
                except PluginError as err:
                    if kind != "status":
                        raise
                    from qtau.types import ResourceStatus

                    reports.append(ResourceStatus(rid, online=False, message=f"status check failed: {err}"))
            failed = self._failed_at.get(rid)
            penalty = self.config.failure_penalty if failed is not None and now - failed < cooldown else 1.0
            found.append(Candidate(res, *reports, self._in_flight.get(rid, 0), penalty, self._path(fmt, res)))
        return found

    def _path(self, fmt: str | None, res: Resource) -> tuple[str, ...] | None:
        if fmt is None:
            # A circuit function: its format is known only once it runs on the worker.
            return ("(circuit function)",) if res.circuit_formats else None
        key = (fmt, res.circuit_formats)
        if key not in self._paths:
            self._paths[key] = self.circuits.path_names(fmt, res.circuit_formats)
        return self._paths[key]

    # -- circuits --------------------------------------------------------------------------------

    def summarize(self, task: QuantumTask) -> tuple[CircuitSummary, str | None]:
        """Width and gate counts for scoring; read from the circuit when it is an object we know."""
        circuit = task.circuit
        with self._lock:
            hit = self._summaries.get(id(circuit))
            if hit is not None and hit[0] is circuit:
                return hit[1], hit[2]
        fmt = task.circuit_format
        if fmt is None:
            if isinstance(circuit, str):
                fmt = self.circuits.detect(circuit)
            else:
                fmt = self.host.first("qtau_circuit_format", circuit=circuit)
                if fmt is None and not callable(circuit):
                    self.circuits.detect(circuit)  # raises the unsupported-circuit error
        summary = self.circuits.summary(circuit, fmt) if fmt else None
        if summary is None:
            if task.num_qubits is None:
                raise InvalidTaskError(
                    "QDREAMER cannot read the width of this circuit", field="num_qubits", value=None,
                    fix="pass num_qubits (and gate_set) in the QuantumTask when the circuit is a function",
                )
            summary = CircuitSummary(
                num_qubits=task.num_qubits, gate_counts={g: task.num_qubits for g in task.gate_set},
                num_measured=task.num_qubits,
            )
        with self._lock:
            self._summaries[id(circuit)] = (circuit, summary, fmt)
            if len(self._summaries) > 512:
                self._summaries.popitem(last=False)
        return summary, fmt

    # -- decisions -------------------------------------------------------------------------------

    def weights(self, task: QuantumTask) -> dict[str, float]:
        return weights_for(task.policy, self.config.weights, "policy")

    def rank(self, task: QuantumTask) -> list[Row]:
        summary, fmt = self.summarize(task)
        return rank(task, summary, self._candidates(fmt), self.weights(task))

    def explain(self, task: QuantumTask) -> Explanation:
        """The ranked table for `task` with every term, without submitting it."""
        summary, fmt = self.summarize(task)
        rows = rank(task, summary, self._candidates(fmt), self.weights(task))
        return Explanation(task.task_id, self.weights(task), tuple(rows), fmt)

    def place(self, task: QuantumTask) -> tuple[Placement, ...]:
        """Feasible resources best first, at most `max_attempts` of them (the failover order)."""
        rows = self.rank(task)
        feasible = [r for r in rows if r.feasible]
        if not feasible:
            if not rows:
                raise NoSuitableResourceError(
                    "no resources: create a pilot with a quantum executor first", rejections={},
                    fix="call create_pilot({'resource_type': 'quantum', 'quantum': {'executor': 'qiskit_local'}})",
                )
            raise NoSuitableResourceError(
                f"no resource can run task {task.task_id}; every candidate was rejected:",
                rejections={r.resource_id: r.reason for r in rows},
                fix="relax the task's constraints, or add a pilot whose resources fit",
            )
        self.decisions += 1
        out = []
        for row in feasible[: self.config.max_attempts]:
            res, cfg = self._pool[row.resource_id]
            out.append(Placement(res, cfg, row.cost, row.currency))
        return tuple(out)

    # -- accounting ------------------------------------------------------------------------------

    def task_started(self, resource_id: str, n: int = 1) -> None:
        with self._lock:
            self._in_flight[resource_id] = self._in_flight.get(resource_id, 0) + n

    def task_finished(self, resource_id: str, attempts: tuple[Attempt, ...] = ()) -> None:
        now = time.monotonic()
        with self._lock:
            self._in_flight[resource_id] = max(self._in_flight.get(resource_id, 0) - 1, 0)
            for attempt in attempts:
                if not attempt.ok:
                    self._failed_at[attempt.resource_id] = now

    def record_failures(self, attempts: tuple[Attempt, ...]) -> None:
        """Start the cool-down of every resource that failed an attempt (seen in a Result or error)."""
        now = time.monotonic()
        with self._lock:
            for attempt in attempts:
                if not attempt.ok:
                    self._failed_at[attempt.resource_id] = now

    def in_flight(self) -> dict[str, int]:
        with self._lock:
            return dict(self._in_flight)

    # -- cache API (Pilot-Quantum names) ---------------------------------------------------------

    def get_cache_info(self) -> dict[str, Any]:
        info = self.cache.info()
        info["decisions"] = self.decisions
        info["in_flight"] = self.in_flight()
        return info

    def clear_cache(self) -> None:
        self.cache.clear()

    def start_background_monitoring(self, interval_seconds: float = 60) -> None:
        if not isinstance(interval_seconds, (int, float)) or interval_seconds <= 0:
            from qtau.errors import ConfigurationError

            raise ConfigurationError(
                "the monitoring interval must be a positive number of seconds", field="interval_seconds",
                value=interval_seconds, fix="pass interval_seconds=60, for example",
            )
        self.cache.start_monitoring(float(interval_seconds), self._fetchers)

    def stop_background_monitoring(self) -> None:
        self.cache.stop_monitoring()
