"""Every error QTAU raises: `QtauError` and its subclasses.

Each error carries structured fields (`field`, `value`, `fix`) so a user sees which input was wrong,
what it was, and how to fix it. Messages pass through `redact()` so a secret never reaches a
traceback, and errors pickle cleanly so they cross Ray unchanged.
"""

from __future__ import annotations

from typing import Any

from qtau import secrets
from qtau.secrets import redact


def _rebuild(cls, message, details):
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(details)
    return err


class QtauError(Exception):
    """Base class of every error QTAU raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        fix: str | None = None,
    ) -> None:
        self.field = field
        self.value = redact(value) if isinstance(value, str) else value  # a token given as the value
        self.fix = fix
        parts = [message]
        if field is not None and f"'{field}'" not in message and f"`{field}`" not in message:
            parts.append(f"(field '{field}', value {value!r})")
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(redact(" ".join(parts)))

    def __reduce__(self):
        return (_rebuild, (type(self), self.args[0] if self.args else "", dict(self.__dict__)))


class ConfigurationError(QtauError):
    """A pilot description, QDREAMER configuration or environment variable is invalid."""


class InvalidArgumentError(ConfigurationError):
    """An argument of a QTAU call is invalid: a wait's timeout, a worker count, a chunk count."""


class UnknownExecutorError(ConfigurationError):
    """No installed plugin serves the executor named in a pilot description."""


class InvalidTaskError(QtauError):
    """A QuantumTask field is invalid (shots, qubits, gate set, circuit object, constraints)."""


class PluginError(QtauError):
    """A plugin failed to load or to answer a hook call. `plugin` names it."""

    def __init__(self, message: str, *, plugin: str, **kwargs: Any) -> None:
        self.plugin = plugin
        super().__init__(message, **kwargs)


class NoSuitableResourceError(QtauError):
    """No candidate resource can run a task. `rejections` maps each resource id to why not."""

    def __init__(self, message: str, *, rejections: dict[str, str], **kwargs: Any) -> None:
        self.rejections = dict(rejections)
        lines = [message] + [f"  - {rid}: {why}" for rid, why in self.rejections.items()]
        super().__init__("\n".join(lines), **kwargs)


class CircuitConversionError(QtauError):
    """A circuit cannot be converted to any format the chosen resource accepts."""


class ExecutionError(QtauError):
    """A task failed on every resource it was tried on. `attempts` lists each try."""

    def __init__(self, message: str, *, attempts: tuple = (), task_id: str | None = None, **kwargs: Any) -> None:
        self.attempts = tuple(attempts)
        self.task_id = task_id
        lines = [message] + [
            f"  - attempt {i}: {a.resource_id}: {a.error_type}: {a.message}"
            for i, a in enumerate(self.attempts, 1)
        ]
        super().__init__("\n".join(lines), **kwargs)


class AuthenticationError(QtauError):
    """Credentials are missing or were refused by a provider. Never contains the secret itself."""


class SecretWithheldError(AuthenticationError):
    """A `Secret` rebuilt from a pickle made outside QTAU's transport has no value to reveal."""


def _withheld_error() -> SecretWithheldError:
    return SecretWithheldError(
        "this secret came from a pickle, which never holds a secret's value", field="secret",
        value=secrets.MASK, fix="pass the credential again (pilot description or environment)",
    )


secrets.withheld_error = _withheld_error  # Secret.reveal() raises this QtauError (secrets cannot import it)


class BackendUnavailableError(QtauError):
    """A backend is offline, out of its availability window, or unreachable."""


class TaskTimeoutError(QtauError):
    """A task or a wait did not finish within its timeout."""


class CircuitFunctionTimeoutError(TaskTimeoutError, InvalidTaskError):
    """A task's circuit function did not return within the task's timeout. The task ends here:
    the function is the task's own input, so trying another resource would hang again."""


class CircuitFunctionExitError(InvalidTaskError, ExecutionError):
    """A task's circuit function raised SystemExit (or another BaseException that is not
    KeyboardInterrupt). It fails the task, never the caller's program: `sys.exit()` inside user
    code must not end the process that collects the results."""


class CircuitWidthError(InvalidTaskError):
    """A circuit function returned a circuit wider than the task's declared `num_qubits`.
    Raised where the circuit is built, before any simulator allocates for the real width."""


class MitigationError(InvalidTaskError):
    """A task's `mitigation` is not a technique QTAU knows, or its technique cannot run the circuit
    (a mid-circuit measurement under zero-noise extrapolation, a gate whose inverse is unknown)."""


class QasmIncludeError(InvalidTaskError):
    """An OpenQASM program includes a file other than a standard library: refused before any SDK
    (which would open the path itself) or core reads it."""


class QasmLimitError(InvalidTaskError):
    """An OpenQASM program is longer, or its gate definitions expand to more gates, than core's
    limits (qtau.qasm_limits): refused before any SDK parses or expands it."""


class TaskCancelledError(QtauError):
    """A task was cancelled before it produced a result."""


class JournalError(QtauError):
    """A service's journal cannot be used. `path` names the file; nothing in it is deleted."""

    def __init__(self, message: str, *, path: str, **kwargs: Any) -> None:
        self.path = path
        super().__init__(message, **kwargs)


class JournalCorruptError(JournalError):
    """The journal file is not a readable QTAU journal (damaged, or not SQLite at all)."""


class JournalLockedError(JournalError):
    """Another live service holds the journal. `pid` is its process id when known."""

    def __init__(self, message: str, *, path: str, pid: int | None = None, **kwargs: Any) -> None:
        self.pid = pid
        super().__init__(message, path=path, **kwargs)


class JournalVersionError(JournalError):
    """The journal was written by a newer QTAU whose schema this version cannot read."""


class JobLostError(BackendUnavailableError):
    """A provider no longer knows a job it accepted (HTTP 404 on poll): it cannot be re-attached."""


class CancelRefusedError(QtauError):
    """A provider refused to cancel a job (it may still run and bill). `job` names it."""


class CurrencyError(ConfigurationError):
    """A currency code is unknown, or prices in two currencies would be added without a rate."""


class BudgetExceededError(QtauError):
    """A task's price does not fit the money left in a budget; nothing was submitted.

    `budget` names which one (`service` or `pilot <name>`); `limit`, `spent`, `reserved` and
    `price` are amounts in `currency`.
    """

    def __init__(self, message: str, *, budget: str, limit: float, spent: float, reserved: float,
                 price: float, currency: str, **kwargs: Any) -> None:
        self.budget = budget
        self.limit = limit
        self.spent = spent
        self.reserved = reserved
        self.price = price
        self.currency = currency
        detail = (f"{message} ({budget} budget {limit:.6g} {currency}: spent {spent:.6g}, "
                  f"reserved {reserved:.6g}, left {max(limit - spent - reserved, 0.0):.6g}; "
                  f"task price {price:.6g} {currency})")
        super().__init__(detail, **kwargs)


__all__ = [
    "AuthenticationError",
    "BackendUnavailableError",
    "BudgetExceededError",
    "CircuitConversionError",
    "CircuitFunctionExitError",
    "CircuitFunctionTimeoutError",
    "CircuitWidthError",
    "QasmIncludeError",
    "QasmLimitError",
    "ConfigurationError",
    "CurrencyError",
    "ExecutionError",
    "InvalidArgumentError",
    "InvalidTaskError",
    "JobLostError",
    "CancelRefusedError",
    "JournalCorruptError",
    "JournalError",
    "JournalLockedError",
    "JournalVersionError",
    "NoSuitableResourceError",
    "PluginError",
    "QtauError",
    "SecretWithheldError",
    "TaskCancelledError",
    "TaskTimeoutError",
    "UnknownExecutorError",
]


def sdk_panic(err: BaseException) -> bool:
    """Whether `err` is a Rust SDK's panic (pyo3's PanicException, which derives from
    BaseException, not Exception: Qiskit's transpiler raised one on a circuit of `pow @` gates).
    It is that SDK's failure on the circuit, to be handled like its other errors, not an exit."""
    return type(err).__name__ == "PanicException"
