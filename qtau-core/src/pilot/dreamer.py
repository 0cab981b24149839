"""Pilot-Quantum's `pilot.dreamer` names, on QTAU (both QDREAMER-era lineages).

`QuantumTask` takes either lineage's arguments: `QuantumTask(circuit, num_qubits, gate_set,
resource_config)` (commit f267af9) or `QuantumTask(circuits=[...], resource_config, args, kwargs)`
(PR #19). It is a Pilot-Quantum object; `pilot.pilot_compute_service.PilotComputeService` converts
it into `qtau.QuantumTask`s when it is submitted, so QTAU's own task keeps its stricter contract.

The selection classes (`Q_DREAMER`, the strategies, `OptimizedResourceSelector`) work on
`QuantumResource` objects a user builds, as in Pilot-Quantum; they use QTAU's gate names and
QTAU's optimisation-mode weights. Inside a service, the strategies become QTAU modes
(`DreamerStrategyType` -> `optimization_mode`, see `pilot.modes`). `get_cut_plan` answers from
`qtau.cut_plan`. Nothing here imports a quantum SDK.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from enum import Enum
from typing import Any

from qtau.cut_plan import get_cut_plan, get_cuts
from qtau.errors import ConfigurationError
from qtau.gates import normalize_gates

from pilot.modes import DreamerStrategyType, selector_weights
from pilot.tasks import to_qtau_tasks

log = logging.getLogger("pilot.pcs_logger")

__all__ = [
    "Coupling", "DreamerStrategyType", "LeastBusyStrategy", "LeastErrorRateStrategy",
    "OptimizedResourceSelector", "Q_DREAMER", "QuantumResource", "QuantumTask", "RoundRobinStrategy",
    "StrategySelector", "Task", "TaskType", "get_cut_plan", "get_cuts",
]


class TaskType(Enum):
    CLASSICAL = "classical"
    QUANTUM = "quantum"
    HYBRID = "hybrid"


class Coupling(Enum):
    TIGHT = "tight"
    MEDIUM = "medium"
    LOOSE = "loose"


class InvalidStrategyError(ConfigurationError, ValueError):
    """A QDREAMER strategy that is not a DreamerStrategyType (a ValueError, as in Pilot-Quantum)."""


class Task:
    """A task of some TaskType with a resource request; `task_id` comes from kwargs or is new."""

    def __init__(self, type: TaskType, resource_config: dict | None = None, args: tuple | None = None,
                 kwargs: dict | None = None) -> None:
        self.type = type
        self.resource_config = dict(resource_config or {})
        self.task_id = (kwargs or {}).get("task_id") or str(uuid.uuid4())
        self.args = tuple(args or ())
        self.kwargs = dict(kwargs or {})


class QuantumTask(Task):
    """Pilot-Quantum's quantum task: one circuit (or a function returning one), or a list of them.

    `circuit` may be a circuit, a function returning one, a PennyLane quantum function (not a
    QNode; it is made into a tape on the worker) or a list of circuits. QTAU options (`shots`,
    `policy`, `resource`, `max_cost`, `min_fidelity`, `deadline`, `timeout`) pass through.
    """

    def __init__(self, circuit: Any = None, num_qubits: Any = None, gate_set: Any = None,
                 resource_config: Any = None, args: Any = None, kwargs: Any = None, *,
                 circuits: Any = None, **options: Any) -> None:
        if isinstance(num_qubits, Mapping) and circuits is None:
            # PR #19 positional order: QuantumTask(circuits, resource_config, args, kwargs).
            circuits, circuit = circuit, None
            num_qubits, gate_set, resource_config, args, kwargs = None, None, num_qubits, gate_set, resource_config
        if circuits is not None and circuit is not None:
            raise ConfigurationError(
                "pass circuit or circuits, not both", field="circuits", value=type(circuits).__name__,
                fix="QuantumTask(circuits=[qc1, qc2]) or QuantumTask(circuit=qc)",
            )
        super().__init__(TaskType.QUANTUM, resource_config, args, kwargs)
        given = circuits if circuits is not None else circuit
        self.circuit = given
        self._circuits = list(given) if isinstance(given, (list, tuple)) else [given]
        self.num_qubits = num_qubits
        self.gate_set = list(gate_set) if gate_set is not None else []
        self.options = options

    @property
    def circuits(self) -> list[Any]:
        return self._circuits

    def get_circuit(self) -> Any:
        return self.circuit

    def to_qtau(self) -> list[Any]:
        """One `qtau.QuantumTask` per circuit (what the service submits)."""
        return to_qtau_tasks(self)


class QuantumResource:
    """A quantum resource as Pilot-Quantum describes it. Inside a service, `resource` is the
    QTAU Resource it stands for (its attributes, such as `num_qubits` and `kind`, read through)."""

    def __init__(self, name: str, qubit_count: int, gateset: list[str] | None = None, error_rate: float | None = 0.0,
                 noise_level: float | None = 0.0, quantum_config: dict | None = None, pilot_name: str | None = None,
                 original_name: str | None = None, pending_jobs: int = 0, resource: Any = None) -> None:
        self.name = name
        self.qubit_count = qubit_count
        self.available_qubits = qubit_count
        self.gateset = list(gateset or [])
        self.error_rate = error_rate
        self.noise_level = noise_level
        self.quantum_config = dict(quantum_config or {})
        self.pilot_name = pilot_name
        self.original_name = original_name or name
        self.pending_jobs = pending_jobs
        self.resource = resource

    @property
    def resource_id(self) -> str | None:
        return None if self.resource is None else self.resource.id

    def __getattr__(self, name: str) -> Any:
        # QTAU code reads Resource attributes (num_qubits, kind, id...) off the same objects.
        resource = self.__dict__.get("resource")
        if resource is not None and not name.startswith("_"):
            return getattr(resource, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def fidelity(self) -> float:
        """1 - error_rate (1.0 where the error rate is unknown)."""
        if self.error_rate is None or self.error_rate == float("inf"):
            return 1.0
        return 1.0 - self.error_rate

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "qubit_count": self.qubit_count, "gateset": self.gateset,
                "error_rate": self.error_rate, "noise_level": self.noise_level,
                "quantum_config": self.quantum_config}

    def __repr__(self) -> str:
        return (f"QuantumResource(name={self.name}, qubit_count={self.qubit_count}, gateset={self.gateset}, "
                f"error_rate={self.error_rate}, noise_level={self.noise_level})")


def _as_dict(resources: Any) -> dict[str, QuantumResource]:
    if isinstance(resources, Mapping):
        return dict(resources)
    return {r.name: r for r in resources or ()}


class StrategySelector:
    """Base of the strategies: `select_resource(task, resources)` -> a resource or None."""

    def __init__(self, strategy_type: DreamerStrategyType | None = None) -> None:
        self.strategy_type = strategy_type
        self.resources: list[QuantumResource] = []

    def select_resource(self, task: Any, resources: Any) -> QuantumResource | None:
        raise NotImplementedError("a strategy implements select_resource")


class RoundRobinStrategy(StrategySelector):
    """Each call takes the next resource in turn."""

    def __init__(self) -> None:
        super().__init__(DreamerStrategyType.ROUND_ROBIN)
        self.current_index = 0

    def select_resource(self, task: Any, resources: Any) -> QuantumResource | None:
        found = list(_as_dict(resources).values())
        if not found:
            return None
        chosen = found[self.current_index % len(found)]
        self.current_index += 1
        return chosen


class LeastErrorRateStrategy(StrategySelector):
    """The resource with the lowest error rate."""

    def __init__(self) -> None:
        super().__init__(DreamerStrategyType.LEAST_ERROR_RATE)

    def select_resource(self, task: Any, resources: Any) -> QuantumResource | None:
        found = list(_as_dict(resources).values())
        return min(found, key=lambda r: float("inf") if r.error_rate is None else r.error_rate) if found else None


class LeastBusyStrategy(StrategySelector):
    """The resource with the fewest pending jobs (the first of equals)."""

    def __init__(self) -> None:
        super().__init__(DreamerStrategyType.LEAST_BUSY)

    def select_resource(self, task: Any, resources: Any) -> QuantumResource | None:
        found = list(_as_dict(resources).values())
        return min(found, key=lambda r: getattr(r, "pending_jobs", 0) or 0) if found else None


class OptimizedResourceSelector:
    """Pilot-Quantum's optimiser: filter by qubits and gates, then minimise the weighted sum of
    (1 - fidelity) and queue use with QTAU's weights for the mode (`multi_objective` is balanced)."""

    def __init__(self, optimization_mode: str = "multi_objective") -> None:
        self.optimization_mode = optimization_mode
        self.weights = selector_weights(optimization_mode)
        self.logger = log

    def _check_gate_compatibility(self, task_gates: Any, resource_gates: Any) -> bool:
        return set(normalize_gates(task_gates or ())) <= set(normalize_gates(resource_gates or ()))

    def _filter_suitable_resources(self, task: Any, resources: Any) -> dict[str, QuantumResource]:
        need = getattr(task, "num_qubits", None) or 0
        return {name: r for name, r in _as_dict(resources).items()
                if (r.qubit_count or 0) >= need and self._check_gate_compatibility(getattr(task, "gate_set", ()), r.gateset)}

    def optimize_resource_selection(self, task: Any, resources: Any, queue_dynamics: Mapping[str, float] | None = None,
                                    task_id: str = "unknown") -> QuantumResource | None:
        suitable = self._filter_suitable_resources(task, resources)
        if not suitable:
            self.logger.warning("[TASK:%s] no suitable resource for %s qubits, gates %s", task_id,
                                getattr(task, "num_qubits", None), getattr(task, "gate_set", None))
            return None
        queues = queue_dynamics or {}

        def cost(item: tuple[str, QuantumResource]) -> float:
            name, r = item
            return self.weights["fidelity"] * (1.0 - r.fidelity) + self.weights["speed"] * float(queues.get(name, 0.0))

        name, chosen = min(suitable.items(), key=cost)
        self.logger.info("[TASK:%s] selected %s (fidelity %.3f)", task_id, name, chosen.fidelity)
        return chosen


class Q_DREAMER:  # noqa: N801 - Pilot-Quantum's name
    """Pilot-Quantum's QDREAMER over user-built resources, in either lineage's argument order:
    `Q_DREAMER(resources, DreamerStrategyType.X)` or `Q_DREAMER({"optimization_mode": ...}, resources)`.

    A service's own QDREAMER is QTAU's (`pcs.qdreamer`); this class ranks resources you pass it.
    """

    def __init__(self, first: Any = None, second: Any = None, simulation: bool = True,
                 cache_ttl_seconds: float = 30) -> None:
        if isinstance(second, DreamerStrategyType) or isinstance(first, DreamerStrategyType):
            resources, strategy = (second, first) if isinstance(first, DreamerStrategyType) else (first, second)
            self.quantum_resources, self.strategy_type, self.qdreamer_config = resources, strategy, {}
        elif isinstance(first, Mapping) and ({"optimization_mode", "load_balancing"} & set(first) or not first):
            self.qdreamer_config, self.quantum_resources = dict(first), second if second is not None else {}
            self.strategy_type = None
        else:
            self.quantum_resources = first if first is not None else {}
            self.qdreamer_config = dict(second or {}) if isinstance(second, Mapping) else {}
            self.strategy_type = DreamerStrategyType.LEAST_ERROR_RATE if not self.qdreamer_config else None
        self.simulation = simulation
        self.cache_ttl_seconds = cache_ttl_seconds
        self.optimizer = OptimizedResourceSelector(self._mode())
        self.strategy_selector = self.get_strategy() if self.strategy_type is not None else self.optimizer

    def _mode(self) -> Any:
        if "load_balancing" in self.qdreamer_config:
            return {"load_balancing": self.qdreamer_config["load_balancing"]}
        return self.qdreamer_config.get("optimization_mode", "multi_objective")

    @property
    def config(self) -> dict[str, Any]:
        return {"qdreamer_config": self.qdreamer_config, "optimization_mode": self.optimizer.optimization_mode,
                "simulation": self.simulation, "cache_ttl_seconds": self.cache_ttl_seconds}

    def get_strategy(self) -> StrategySelector:
        strategies = {DreamerStrategyType.LEAST_ERROR_RATE: LeastErrorRateStrategy,
                      DreamerStrategyType.ROUND_ROBIN: RoundRobinStrategy,
                      DreamerStrategyType.LEAST_BUSY: LeastBusyStrategy}
        if self.strategy_type not in strategies:
            raise InvalidStrategyError(
                f"invalid strategy type {self.strategy_type!r}", field="strategy_type", value=self.strategy_type,
                fix=f"use one of {', '.join('DreamerStrategyType.' + s.name for s in DreamerStrategyType)}",
            )
        return strategies[self.strategy_type]()

    def get_best_resource(self, quantum_task: Any, task_id: str = "unknown") -> QuantumResource | None:
        if self.strategy_type is not None:
            best = self.strategy_selector.select_resource(quantum_task, self.quantum_resources)
        else:
            best = self.optimizer.optimize_resource_selection(quantum_task, self.quantum_resources, None, task_id)
        if best is not None:
            print(f"Best resource selected: {best.name}")
        return best

    def get_cut_plan_for_task(self, quantum_task: Any, max_overhead: float | None = None,
                              active_only: bool = True) -> dict[str, Any]:
        resources = list(_as_dict(self.quantum_resources).values())
        circuits = getattr(quantum_task, "circuits", None) or [getattr(quantum_task, "circuit", None)]
        if not resources or circuits[0] is None:
            raise ConfigurationError(
                "a cut plan for a task needs resources and a circuit", field="quantum_task", value=None,
                fix="give Q_DREAMER resources and the task a circuit",
            )
        return get_cut_plan(circuits[0], len(resources), [r.qubit_count for r in resources],
                            max_overhead, active_only)

    def stop_monitoring(self) -> None:
        """Nothing to stop: this QDREAMER keeps no background thread."""
