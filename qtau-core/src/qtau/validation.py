"""Checks of what users pass to QTAU's public API, each raising a specific QtauError that names the
field, the value and the fix, at the call where the mistake is made.

The service, QDREAMER and the plugins call these in one line each, so the rules live in one place:
numbers are finite and in range, misspelled keys get a "did you mean" (difflib), task handles are
accepted singly or in lists, and a value of the wrong type never reaches an SDK or a Ray call.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any

from qtau.errors import ConfigurationError, InvalidArgumentError, InvalidTaskError, QtauError
from qtau.scalars import plain
from qtau.types import QuantumTask

#: difflib ratio from which an unknown key is taken for a misspelling of a known one ("nosie" vs
#: "noise" is 0.8; "type" vs "tape", a plausible plugin key, is 0.75 and passes).
TYPO_CUTOFF = 0.8
#: Keys shorter than this are never called misspellings (too many short words are near each other).
TYPO_MIN_LENGTH = 4


def is_number(value: Any) -> bool:
    """A real number (bool is not one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def finite_number(
    value: Any,
    field: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    integer: bool = False,
    fix: str,
    error: type[QtauError] = InvalidArgumentError,
) -> float:
    """`value` as a number that is finite and within [low, high] (low excluded with low_inclusive=False);
    numpy's scalars as Python's (`qtau.scalars`)."""
    value = plain(value)
    ok = is_number(value) and math.isfinite(value) and (not integer or isinstance(value, int))
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        kind = "an integer" if integer else "a finite number"
        bounds = []
        if low is not None:
            bounds.append(f"{'at least' if low_inclusive else 'above'} {low:g}")
        if high is not None:
            bounds.append(f"at most {high:g}")
        where = f" {' and '.join(bounds)}" if bounds else ""
        raise error(f"{field} must be {kind}{where}, not {value!r}", field=field, value=value, fix=fix)
    return value


def optional_timeout(value: Any, field: str = "timeout") -> float | None:
    """A wait's timeout: None (wait forever) or a finite number of seconds, at least 0."""
    if value is None:
        return None
    return finite_number(value, field, low=0, fix=f"pass {field}=None to wait without limit, or seconds such as {field}=30")


def optional_count(value: Any, field: str, example: int) -> int | None:
    """An optional positive integer setting such as max_workers."""
    if value is None:
        return None
    return int(finite_number(value, field, low=1, integer=True,
                             fix=f"pass {field}=None for the default, or a positive integer such as {field}={example}"))


def flag(value: Any, field: str) -> bool:
    """An on/off setting such as coalesce: True or False, nothing else (a string "false" is a mistake)."""
    if not isinstance(value, bool):
        raise ConfigurationError(
            f"{field} must be True or False, not {value!r}", field=field, value=value,
            fix=f"pass {field}=True or {field}=False",
        )
    return value


def did_you_mean(key: str, known: Iterable[str]) -> str | None:
    """The known key `key` most likely misspells, or None."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=TYPO_CUTOFF)
    return close[0] if close else None


def reject_misspelled_keys(keys: Iterable[str], known: Iterable[str], where: str = "") -> None:
    """Raise for a key that is not known but close to one that is: a typo that would otherwise be
    ignored silently (`quantum.nosie`, `dreamer_enabeld`). Keys far from every known one pass, as
    sections such as a pilot description carry plugins' own keys (credentials, endpoints)."""
    known = list(known)
    for key in keys:
        if not isinstance(key, str) or key in known or len(key) < TYPO_MIN_LENGTH:
            continue
        meant = did_you_mean(key, known)
        if meant is not None:
            field = f"{where}.{key}" if where else key
            raise ConfigurationError(
                f"unknown setting {field!r}: did you mean {meant!r}?", field=field, value=key,
                fix=f"rename it to {meant!r}",
            )


def unknown_key(key: str, known: Iterable[str], where: str, value: Any = None) -> ConfigurationError:
    """The error for a key that is not among `known`, with a "did you mean" when one is close."""
    known = list(known)
    meant = did_you_mean(key, known)
    hint = f": did you mean {meant!r}?" if meant else ""
    return ConfigurationError(
        f"unknown {where} {key!r}{hint}", field=key, value=value,
        fix=f"rename it to {meant!r}" if meant else f"valid settings: {', '.join(known)}",
    )


def handle_list(tasks: Any, call: str) -> list[Any]:
    """Task handles given singly or in a list/tuple/other iterable, as a list."""
    if tasks is None:
        raise InvalidTaskError(
            f"{call} needs task handles, not None", field="tasks", value=None,
            fix=f"pass the handle(s) from submit_quantum_task: {call}([handle]) or {call}(handle)",
        )
    if isinstance(tasks, (str, bytes, Mapping)) or not isinstance(tasks, Iterable):
        return [tasks]
    return list(tasks)


def foreign_handle(task: Any, call: str) -> InvalidTaskError:
    """The error for an object that is not a task handle of this service's engine."""
    kind = type(task).__name__
    return InvalidTaskError(
        f"{call} got a {kind}, which is not a task handle of this service", field="tasks", value=kind,
        fix="pass what submit_quantum_task(s) returned (a Future on LOCAL, a Ray ObjectRef on RAY), "
        "a task id string, or the QuantumTask itself",
    )


def task_list(tasks: Any) -> list[Any]:
    """submit_quantum_tasks' argument: an iterable of tasks (a single QuantumTask is a mistake)."""
    if isinstance(tasks, QuantumTask):
        raise InvalidTaskError(
            "submit_quantum_tasks takes a list of QuantumTasks, not one QuantumTask", field="tasks",
            value="QuantumTask", fix="pass [task], or call submit_quantum_task(task) for one task",
        )
    if isinstance(tasks, (str, bytes, Mapping)) or not isinstance(tasks, Iterable):
        raise InvalidTaskError(
            f"submit_quantum_tasks takes a list of QuantumTasks, not {type(tasks).__name__}", field="tasks",
            value=type(tasks).__name__, fix="pass [QuantumTask(circuit=qc), ...]",
        )
    return list(tasks)


def require_task(task: Any, call: str) -> None:
    """QDREAMER's calls take a QuantumTask, not a bare circuit."""
    if not isinstance(task, QuantumTask):
        raise InvalidTaskError(
            f"{call} takes a QuantumTask, not {type(task).__name__}", field="task", value=type(task).__name__,
            fix=f"wrap the circuit: {call}(QuantumTask(circuit=qc))",
        )


def dreamer_settings(raw: Any) -> dict[str, Any]:
    """initialize_dreamer's argument as a dict: None, a mapping, or a mode name alone."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {"optimization_mode": raw}
    if not isinstance(raw, Mapping):
        raise ConfigurationError(
            f"a QDREAMER configuration is a dict or a mode name, not {type(raw).__name__}",
            field="qdreamer_config", value=raw,
            fix="pass {'optimization_mode': 'high_fidelity'} or just 'high_fidelity'",
        )
    return dict(raw)


def declared_width(task: Any, circuit_width: int) -> None:
    """A task's num_qubits may widen the circuit (ancillas on the device), never narrow it."""
    if task.num_qubits is not None and task.num_qubits < circuit_width:
        raise InvalidTaskError(
            f"num_qubits={task.num_qubits} is smaller than the circuit, which uses {circuit_width} qubits",
            field="num_qubits", value=task.num_qubits,
            fix=f"pass num_qubits={circuit_width}, or leave it out to read it from the circuit",
        )


def monitoring_interval(value: Any) -> float:
    """A background refresh interval: finite and positive (NaN would spin, inf would kill the thread)."""
    return finite_number(value, "interval_seconds", low=0, low_inclusive=False, error=ConfigurationError,
                         fix="pass interval_seconds=60, for example")


def mapping_or_none(value: Any, field: str, example: str) -> Mapping | None:
    """An optional mapping setting (e.g. backend_options)."""
    if value is None or isinstance(value, Mapping):
        return value
    raise ConfigurationError(
        f"{field} must be a mapping, not {type(value).__name__}", field=field, value=value,
        fix=f"pass {field}={example}, or leave it out",
    )


def optional_int(value: Any, field: str, example: int) -> int | None:
    """An optional integer setting such as a simulator seed."""
    value = plain(value)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(
            f"{field} must be an integer, not {value!r}", field=field, value=value,
            fix=f"pass {field}={example}, or leave it out",
        )
    return value


#: Most shots one task may ask of a local simulator: counts and per-shot samples grow with shots
#: (10**9 shots would allocate ~7.5 GiB of samples). Plugins declare it as `metadata['max_shots']`
#: of their local resources so QDREAMER refuses, with a reason per candidate, before allocating.
LOCAL_MAX_SHOTS = 10_000_000


def shots_limit(shots: int, limit: Any) -> str | None:
    """Why a resource cannot run `shots` (its `metadata['max_shots']`), or None when it can."""
    if is_number(limit) and shots > limit:
        return f"shots={shots} is over this resource's maximum of {int(limit)} shots"
    return None


def unreadable_circuit(fmt: str, declared: bool, failure: Any) -> InvalidTaskError:
    """A circuit no plugin could read as `fmt`: name the parse error, not the missing width."""
    how = f"circuit_format={fmt!r} was given" if declared else f"it looks like {fmt}"
    return InvalidTaskError(
        f"the circuit cannot be read as {fmt} ({how}): {failure.error_type}: {failure.message}",
        field="circuit_format" if declared else "circuit", value=fmt,
        fix="fix the circuit (e.g. define or include every gate it uses)"
        + (", or correct circuit_format / leave it out to detect the format" if declared else ""),
    )

