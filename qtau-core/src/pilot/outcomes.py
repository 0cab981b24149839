"""What Pilot-Quantum users read back: results with None for a failure, and the metrics CSV.

Pilot-Quantum's `get_results` put `None` where a task failed and logged the error. This layer
keeps that contract, logs each error on `pilot.pcs_logger` and warns once per service, naming
how to get the errors themselves (`get_results(..., return_exceptions=True)`, as in QTAU).

Each collected task adds a row to `metrics.csv` in the service's directory, with Pilot-Quantum's
columns (`pilot_scheduled` is the resource the task ran on) and `pilot_name`.
"""

from __future__ import annotations

import csv
import logging
import threading
import warnings
from datetime import datetime
from typing import Any

import attrs
from qtau.errors import QtauError
from qtau.payloads import TaskFailure

from pilot.compat_warnings import PilotQuantumCompatWarning

log = logging.getLogger("pilot.pcs_logger")

FIELDS = sorted(["task_id", "pilot_scheduled", "submit_time", "wait_time_secs", "staging_time_secs",
                 "input_staging_data_size_bytes", "completion_time", "execution_secs", "status", "error_msg",
                 "fidelity", "execution_fidelity"]) + ["pilot_name"]


class ClassicalTaskError(QtauError):
    """A classical task's function raised (its error as text: the function's own types stay on the worker)."""


@attrs.frozen
class ClassicalFailure:
    """A classical task's exception, as text (Pilot-Quantum returned None for it)."""

    error: str


@attrs.frozen
class FailedArgument:
    """Stands in for the function of a classical task given the handle of a failed task as an
    argument (where Pilot-Quantum's engines passed that task's None): the task fails in its result,
    naming the argument and the earlier task's error."""

    where: Any
    error: str

    def __call__(self) -> ClassicalFailure:
        return ClassicalFailure(f"FailedArgument: argument {self.where!r} is the handle of a task that failed "
                                f"({self.error})")


def run_classical(func: Any, args: tuple, kwargs: dict) -> Any:
    """Run a classical Pilot-Quantum task; its exception becomes a ClassicalFailure value."""
    try:
        return func(*args, **kwargs)
    except Exception as err:  # the task's own failure: Pilot-Quantum's result is None
        return ClassicalFailure(f"{type(err).__name__}: {err}")


def failure_text(value: Any) -> str | None:
    """The error of a failed task's value, or None if the task succeeded."""
    if isinstance(value, TaskFailure):
        value = value.error
    if isinstance(value, ClassicalFailure):
        return value.error
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    return None


class Outcomes:
    """Turns collected values into Pilot-Quantum's, writing metrics rows as it goes."""

    def __init__(self, metrics_file_name: str) -> None:
        self.metrics_file_name = metrics_file_name
        self._lock = threading.Lock()
        self._warned = False
        with open(metrics_file_name, "a", newline="") as f:
            if f.tell() == 0:
                csv.DictWriter(f, fieldnames=FIELDS).writeheader()

    def value(self, value: Any, return_exceptions: bool = False) -> Any:
        error = failure_text(value)
        if error is None:
            return value
        if return_exceptions:
            if isinstance(value, ClassicalFailure):
                return ClassicalTaskError(f"the classical task raised {value.error}", field="func", value=None,
                                          fix="fix the function, or catch its error inside it")
            return value.error if isinstance(value, TaskFailure) else value
        log.error("Error getting result from task: %s", error)
        if not self._warned:
            self._warned = True
            warnings.warn(
                "a task failed and get_results put None in its place, as Pilot-Quantum did; the error is "
                "logged on 'pilot.pcs_logger'. To get the errors instead, call "
                "get_results(tasks, return_exceptions=True).", PilotQuantumCompatWarning, stacklevel=3)
        return None

    def record(self, value: Any, resource_name: str | None, pilot_name: str | None) -> None:
        error = failure_text(value)
        timings = getattr(value, "timings", None)
        row = {"task_id": getattr(value, "task_id", None), "pilot_scheduled": resource_name or "unknown",
               "status": "FAILED" if error else "SUCCESS", "error_msg": error, "staging_time_secs": 0,
               "input_staging_data_size_bytes": 0, "pilot_name": pilot_name or "unknown"}
        if timings is not None:
            row.update(submit_time=datetime.fromtimestamp(timings.submitted_at),
                       completion_time=datetime.fromtimestamp(timings.finished_at),
                       wait_time_secs=round(timings.queued_s, 4), execution_secs=round(timings.ran_s, 4))
        with self._lock, open(self.metrics_file_name, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=FIELDS).writerow(row)
