"""A test plugin for issue 23: a backend that never returns, and one whose errors quote its token.

Registered by module path (`host.register_module("hanging", "qtau_hanging_plugin")`), so a task's
own process rebuilds it as it would an installed plugin.

- `hanging_local`: `run` writes its process id to the pilot's `pid_file`, then waits for ever. No
  bound of its own: only the task's timeout can end it.
- `leaky_local`: `run` raises an InvalidTaskError (which fails the task as it is, with no failover
  record in between) whose `value` and `response` attribute hold the pilot's `api_token`, as a
  careless plugin might (QtauError itself redacts the message and a string `value`, not the rest).
- `exiting_local`: `run` calls `sys.exit(3)`.
- `converting_local`: takes only the `hangfmt` format, and the converter to it from a Qiskit
  circuit writes its process id to the circuit's `metadata["pid_file"]`, then waits for ever.
- a converter from a Qiskit circuit to `panicfmt` that raises a PanicException, as pyo3 raises
  when a Rust SDK panics (a BaseException, not an Exception).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from qtau import Backend, hookimpl
from qtau.errors import InvalidTaskError
from qtau.executor import CircuitJob, LocalExecutor
from qtau.types import Converter, Outcome, Resource

PROVIDER = "hanging"


class _Executor(LocalExecutor):
    def __init__(self, resource: Resource, config: Mapping[str, Any]) -> None:
        super().__init__(resource, config)
        self.config = config

    def run(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        if self.resource.executor == "leaky_local":
            token = self.config["api_token"].reveal()
            err = InvalidTaskError("the provider refused the circuit for this token", field="circuit",
                                   value=token)
            err.response = {"request": {"api_token": token}}  # as SDK errors carry their HTTP exchange
            raise err
        if self.resource.executor == "exiting_local":
            sys.exit(3)
        with open(self.config["pid_file"], "w") as f:
            f.write(str(os.getpid()))
        threading.Event().wait()  # for ever
        raise AssertionError("unreachable")


def _hang(circuit: Any) -> Any:
    with open(circuit.metadata["pid_file"], "w") as f:
        f.write(str(os.getpid()))
    threading.Event().wait()  # for ever
    raise AssertionError("unreachable")


class HangingBackend(Backend):
    provider = PROVIDER
    executor_names = ("hanging_local", "leaky_local", "exiting_local", "converting_local")
    description = "never returns, leaks its token or exits (tests)"

    def resources(self, executor, config):
        formats = ("hangfmt",) if executor == "converting_local" else ("qiskit",)
        return [Resource(id=f"{PROVIDER}:{executor}", provider=PROVIDER, executor=executor, kind="simulator",
                         num_qubits=5, native_gates=("h", "cx", "x", "measure"), circuit_formats=formats)]

    def executor(self, resource, config):
        return _Executor(resource, config)


@hookimpl
def qtau_backends():
    return [HangingBackend()]


class PanicException(BaseException):  # noqa: N818 (pyo3's name)
    """What pyo3 raises when a Rust SDK panics."""


def _panic(circuit: Any) -> Any:
    raise PanicException("internal error: entered unreachable code")


@hookimpl
def qtau_circuit_converters():
    return [Converter("qiskit", "hangfmt", _hang, provider=PROVIDER),
            Converter("qiskit", "panicfmt", _panic, provider=PROVIDER)]
