"""A task's circuit, made ready for one resource: the single step between a task and its job.

`prepare(task, resource)` resolves the circuit (calling a circuit factory inside the task's
timeout), reads its width, checks it against the task's `num_qubits` and converts it into a format
the resource accepts. Workers and the remote-job tracker call it once per attempt; everything it
needs from the plugins goes through the one `Circuits` of the task's plugin host.
"""

from __future__ import annotations

import threading
from typing import Any

import attrs

from qtau.circuits import Circuits
from qtau.errors import (
    CircuitFunctionExitError,
    CircuitFunctionTimeoutError,
    CircuitWidthError,
    InvalidTaskError,
    QtauError,
)
from qtau.executor import CircuitJob
from qtau.plugins import PluginHost
from qtau.secrets import redact
from qtau.threads import CallTimedOut, call_with_timeout
from qtau.types import QuantumTask, Resource

_circuits: dict[int, Circuits] = {}
_lock = threading.Lock()


@attrs.frozen(eq=False)
class Prepared:
    """A task's job for one resource, and the conversion path of formats that produced it."""

    job: CircuitJob
    path: tuple[str, ...]


def circuits_for(host: PluginHost) -> Circuits:
    """The process's `Circuits` (format detection and cached conversion) of a plugin host."""
    with _lock:
        found = _circuits.get(id(host))
        if found is None:
            found = _circuits[id(host)] = Circuits(host)
        return found


def resolve_circuit(task: QuantumTask, circuits: Circuits) -> tuple[Any, str]:
    """The task's circuit object and its format, calling a circuit factory if one was given."""
    circuit = task.circuit
    if isinstance(circuit, str):
        return circuit, task.circuit_format or circuits.detect(circuit)
    fmt = task.circuit_format or circuits.host.call("qtau_circuit_format", circuit=circuit)
    if fmt:
        return circuit, fmt
    if callable(circuit):
        circuit = _call_factory(task, circuit)
    return circuit, circuits.detect(circuit)


def _call_factory(task: QuantumTask, factory: Any) -> Any:
    """The circuit a task's circuit function returns for the task's args, within its timeout."""
    name = getattr(factory, "__name__", type(factory).__name__)

    def call() -> Any:
        try:
            return factory(*task.args, **task.kwargs)
        except (QtauError, KeyboardInterrupt):
            raise  # Ctrl-C is the user stopping their own program: it must still stop it
        except Exception as err:
            raise InvalidTaskError(
                f"the circuit function {name}() raised {type(err).__name__}: {redact(str(err))}",
                field="circuit", value=name, fix="fix the function so it returns a circuit for these args",
            ) from err
        except BaseException as err:  # SystemExit, GeneratorExit: fail the task, not the caller
            raise CircuitFunctionExitError(
                f"the circuit function {name}() raised {type(err).__name__}: {redact(str(err))}",
                field="circuit", value=name,
                fix="return a circuit or raise an exception instead of calling sys.exit()",
            ) from err

    try:
        circuit = call_with_timeout(call, task.timeout)
    except CallTimedOut:
        # The function is the task's own input: another resource would hang again.
        raise CircuitFunctionTimeoutError(
            f"the circuit function {name}() did not return within the task's timeout of {task.timeout} s",
            field="timeout", value=task.timeout,
            fix="make the function return sooner, or raise QuantumTask(timeout=...)",
        ) from None
    if circuit is None:
        raise InvalidTaskError(
            f"the circuit function {name}() returned None",
            field="circuit", value=name, fix="return the circuit object from the function",
        )
    return circuit


def prepare(task: QuantumTask, resource: Resource, circuits: Circuits, attempt: int = 1) -> Prepared:
    """The task as a job in a format `resource` accepts, with the conversion path taken."""
    circuit, fmt = resolve_circuit(task, circuits)
    real = _width(circuits, circuit, fmt)
    if task.num_qubits and real is not None and real > task.num_qubits:
        raise CircuitWidthError(
            f"task {task.task_id} declared num_qubits={task.num_qubits} but its circuit has {real} qubits",
            field="num_qubits", value=real,
            fix=f"declare num_qubits={real} (or more) or return a circuit of at most {task.num_qubits} qubits",
        )
    width = task.num_qubits or real
    native, native_fmt, path = circuits.convert(circuit, fmt, resource.circuit_formats)
    if circuit is task.circuit:  # not a factory: the circuit object itself takes the arguments
        return Prepared(CircuitJob(task.task_id, native, native_fmt, task.shots, task.args,
                                   dict(task.kwargs), width, attempt), path)
    return Prepared(CircuitJob(task.task_id, native, native_fmt, task.shots, width=width,
                               attempt=attempt), path)


def _width(circuits: Circuits, circuit: Any, fmt: str) -> int | None:
    try:
        summary = circuits.summary(circuit, fmt)
    except QtauError:
        return None
    return summary.num_qubits if summary is not None else None
