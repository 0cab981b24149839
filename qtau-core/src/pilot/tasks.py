"""Converting Pilot-Quantum tasks into `qtau.QuantumTask`s at the edge.

- A list of circuits (`circuits=[...]` or `circuit=[qc, qc]`) becomes one QTAU task per circuit;
  the service hands back one handle whose result is the list of their Results.
- A callable that is not a QNode runs through `CircuitFunction` on the worker: if it returns a
  circuit, that circuit runs; if it is a PennyLane quantum function (it returns measurements, as
  `def bell(): qml.Hadamard(0); ...; return qml.probs(...)`), it is recorded into a tape. Without
  `num_qubits` the function is called once at submission instead, so QDREAMER can read the width.
- `gate_set` keeps the user's list on the Pilot-Quantum task; QTAU gets it normalised.
- `resource_config`: Pilot-Quantum's `num_qpus`/`num_gpus`/`memory`/`num_cpus` go to QTAU where
  `qtau.types.RESOURCE_CONFIG_KEYS` accepts them and are left out where it does not yet (a QTAU
  version that takes them receives them unchanged); other keys reach QTAU, which names a bad one.
"""

from __future__ import annotations

import warnings
from typing import Any

import attrs
from qtau.errors import InvalidTaskError
from qtau.types import RESOURCE_CONFIG_KEYS
from qtau.types import QuantumTask as QtauTask

#: Pilot-Quantum's resource request keys (Ray resources of the task).
SEED_RESOURCE_KEYS = ("num_qpus", "num_gpus", "memory", "num_cpus")
#: QTAU task options a Pilot-Quantum task may carry through (`QuantumTask(..., shots=...)`).
QTAU_OPTIONS = ("shots", "policy", "resource", "max_cost", "min_fidelity", "deadline", "timeout",
                "circuit_format", "split")


def is_qnode(obj: Any) -> bool:
    return hasattr(obj, "device") and hasattr(obj, "func")


def _is_measurement(value: Any) -> bool:
    items = value if isinstance(value, (tuple, list)) and value else (value,)
    return all(type(v).__module__.startswith("pennylane.measurements") for v in items)


@attrs.frozen
class CircuitFunction:
    """A Pilot-Quantum circuit function, called on the worker with the task's args.

    It returns what the function returns, except for a PennyLane quantum function (the function
    returned measurements rather than a circuit): that one is recorded into a PennyLane tape, which
    QTAU runs on any resource it converts to.
    """

    func: Any

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.func(*args, **kwargs)
        if _is_measurement(out):
            import pennylane as qml

            return qml.tape.make_qscript(self.func)(*args, **kwargs)
        return out


def qtau_resource_config(config: Any) -> dict[str, Any]:
    """Pilot-Quantum's resource_config as QTAU reads it. `num_qpus` above 1 (Pilot-Quantum's own
    first example asks 2 for a Bell circuit) is read as "at most that many": a QTAU task runs on
    one quantum resource, so it becomes 1, with one warning naming `split=True` for spreading a
    task's shots over several resources."""
    out = {}
    for key, value in dict(config or {}).items():
        if key in SEED_RESOURCE_KEYS and (key not in RESOURCE_CONFIG_KEYS or value is None):
            continue
        if key == "num_qpus" and isinstance(value, int) and not isinstance(value, bool) and value > 1:
            _warn_num_qpus(value)
            value = 1
        out[key] = value
    return out


def _warn_num_qpus(value: int) -> None:
    if not _warned_num_qpus:
        _warned_num_qpus.append(value)
        warnings.warn(f"resource_config num_qpus={value}: QTAU runs a task on one quantum resource, so it "
                      f"is read as at most {value} and the task uses 1; pass split=True to a qtau.QuantumTask "
                      "to spread its shots over several resources", UserWarning, stacklevel=4)


_warned_num_qpus: list[int] = []


def to_qtau_tasks(task: Any) -> list[QtauTask]:
    """One `qtau.QuantumTask` per circuit of a Pilot-Quantum task."""
    options = {k: v for k, v in getattr(task, "options", {}).items() if k in QTAU_OPTIONS}
    extra = set(getattr(task, "options", {})) - set(QTAU_OPTIONS)
    if extra:
        raise InvalidTaskError(
            f"QuantumTask has unknown arguments {sorted(extra)}", field="QuantumTask", value=sorted(extra),
            fix=f"QuantumTask takes circuit(s), num_qubits, gate_set, resource_config, args, kwargs and "
                f"{', '.join(QTAU_OPTIONS)}",
        )
    kwargs = {k: v for k, v in task.kwargs.items() if k != "task_id"}
    config = qtau_resource_config(task.resource_config)
    out = []
    for circuit in task.circuits:
        if callable(circuit) and not is_qnode(circuit) and not isinstance(circuit, CircuitFunction):
            circuit = CircuitFunction(circuit)
            if not task.num_qubits:
                # QDREAMER needs the width: Pilot-Quantum tasks without num_qubits are built now.
                circuit = circuit(*task.args, **kwargs)
        out.append(QtauTask(circuit=circuit, num_qubits=task.num_qubits or None, gate_set=task.gate_set,
                            resource_config=config, args=task.args, kwargs=kwargs, **options))
    return out
