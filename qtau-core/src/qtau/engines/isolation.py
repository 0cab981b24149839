"""A task with a timeout runs in a process of its own that is killed when the timeout expires.

Why: a thread cannot be stopped. A task whose circuit function, conversion (OpenQASM to an SDK's
circuit, include reading, gate expansion) or simulation hangs would keep a core and its memory
after `TaskTimeoutError` was raised (issue 23). Here the whole attempt chain of one task
(`worker.run_task`: the circuit function, `qtau.circuits.prepare`, every local placement's simulation)
runs in a child forked by QTAU's fork server (`qtau.engines.fork_server`: a fresh single-threaded
process, so no lock of the submitting process's threads is copied into the child locked). The
payload goes in packed (`qtau.packing`: closures, lambdas and `__main__` functions by value, the
task's `Secret`s with their values); the child sends back its `Result`, `HandOver` or error. At
expiry (plus `GRACE_S`) the parent kills the child (SIGKILL) and raises `TaskTimeoutError`; a
child that answered is killed too if a thread of the task still runs in it. A `HandOver` (the
failover order reached a remote resource) is finished here in the parent by the remote-job
tracker, which cancels the provider job on its own timeout.

On RAY the same happens inside the Ray worker (each Ray worker process has its own fork server):
the Ray worker, reused by later tasks, keeps no leftover thread. Tasks without a timeout keep
running on the shared thread pool (no process cost).

A payload that cannot be pickled even by cloudpickle (a circuit function closing over a lock, a
socket, an open file), or that the child cannot rebuild (a function of a module that only this
process can import, loaded from a path), runs on a thread as before, with a
`TaskNotIsolatedWarning` saying that its timeout then stops only the waiting: refusing a valid task
would be worse. So does every task where the platform has no fork server (Windows).

An error that comes back from the child holding a value of one of the task's secrets (a plugin
that put its token in an exception's `value`) is replaced by a redacted `ExecutionError`.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

from qtau import packing, worker
from qtau.engines import tasks
from qtau.engines.fork_server import TaskProcess, loaded_modules
from qtau.engines.tasks import hand_over
from qtau.errors import ExecutionError, QtauError, TaskTimeoutError
from qtau.payloads import HandOver, TaskPayload
from qtau.secrets import MASK, blob_holds_secret, redact, secrets_in

#: How long a killed child may take to be reaped (seconds); SIGKILL cannot be ignored.
_REAP_S = 30.0
#: Seconds past the timeout before the child is killed: inside it, the circuit function and the
#: backend run are timed too, and their error (naming the function or the resource) is more
#: specific than "its process was ended"; this leaves it time to arrive.
GRACE_S = 1.0
#: Modules the children reported importing: the fork server preloads them for later children.
_children_loaded: set[str] = set()
_children_lock = threading.Lock()


class TaskNotIsolatedWarning(UserWarning):
    """A task with a timeout runs on a thread, not in a process of its own: its timeout stops only
    the waiting, and work that hangs keeps its thread."""


def can_isolate() -> bool:
    """Whether this platform has the fork server that task processes come from."""
    return "forkserver" in multiprocessing.get_all_start_methods()


def deadline(payload: TaskPayload) -> float:
    """Seconds the task's child may run: each local attempt before the first remote one may take
    the timeout for its circuit function and again for its conversion and run (each timed inside
    the child, which fails over past it), plus `GRACE_S`."""
    local = 0
    for placement in payload.placements:
        if placement.remote:
            break
        local += 1
    return 2 * max(local, 1) * payload.task.timeout + GRACE_S


def bounded(fn: Callable[[Any], Any], payload: Any) -> Callable[[Any], Any]:
    """The function an engine should run for `payload`: `run_task_in_child` for a single task with
    a timeout, else `fn` unchanged."""
    timeout = getattr(getattr(payload, "task", None), "timeout", None)
    if fn is tasks.run_task and timeout is not None:
        return run_task_in_child
    return fn


def _child(blob: bytes, conn: Any) -> None:
    """Runs in the child: the task's outcome is sent back, then the process ends at once (nothing
    of the task may keep it alive)."""
    multiprocessing.current_process().daemon = False  # the task's own code may start processes
    try:
        kind, packed = _outcome(blob)
        conn.send_bytes(pickle.dumps((kind, tuple(loaded_modules()), packed)))
        conn.close()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)


def _outcome(blob: bytes) -> tuple[str, bytes]:
    """("ok", the packed Result or HandOver), ("error", the packed error) or ("unbuilt", why the
    payload could not be rebuilt here: a function of a module only the parent can import)."""
    try:
        payload = packing.unpack(blob)
    except Exception as err:
        return "unbuilt", redact(f"{type(err).__name__}: {err}").encode()
    try:
        kind, value = "ok", worker.run_task(payload)
    except Exception as err:
        kind, value = "error", err
    except BaseException as err:  # SystemExit from a plugin: the task fails, not the caller
        kind, value = "error", ExecutionError(
            f"the task's process raised {type(err).__name__}: {redact(str(err))}",
            fix="return or raise an exception instead of calling sys.exit() in a plugin or circuit function",
        )
    try:
        return kind, packing.pack(value)
    except Exception as err:  # an unpicklable result or error: say what it was
        return "error", packing.pack(ExecutionError(
            f"the task's outcome could not be sent back from its process: {redact(repr(value))} ({err})",
            fix="return or raise picklable values from circuit functions and plugins",
        ))


def run_task_in_child(payload: TaskPayload) -> Any:
    """`engines.tasks.run_task(payload)` with its local work in a child killed at the timeout."""
    try:
        blob = packing.pack(payload)
    except Exception as err:
        return _on_thread(payload, f"its payload cannot be pickled ({type(err).__name__}: {err})")
    if not can_isolate():
        return _on_thread(payload, "this platform has no fork server")
    kind, packed = _run_child(payload, blob)
    if kind == "unbuilt":
        return _on_thread(payload, f"its process could not rebuild it ({packed.decode()})")
    if kind == "error":
        raise _without_secrets(payload, packed)
    try:
        value = packing.unpack(packed)
    except Exception as err:  # a result type this process cannot import
        raise ExecutionError(
            f"the result of task {payload.task.task_id} could not be read back from its process: "
            f"{type(err).__name__}: {redact(str(err))}",
            fix="return results made of types that the submitting program can import",
        ) from None
    return hand_over(value.payload) if isinstance(value, HandOver) else value


def _on_thread(payload: TaskPayload, why: str) -> Any:
    warnings.warn(TaskNotIsolatedWarning(
        f"task {payload.task.task_id} runs on a thread, not in a process of its own: {why}; its "
        f"timeout of {payload.task.timeout} s stops only the waiting. Make the circuit function "
        "picklable (no locks, sockets or open files in its closure) to have it isolated"), stacklevel=2)
    return tasks.run_task(payload)


def _run_child(payload: TaskPayload, blob: bytes) -> tuple[str, bytes]:
    """Start the child, wait for its answer until the deadline, and make sure it is gone."""
    timeout = payload.task.timeout
    receive, send = multiprocessing.Pipe(duplex=False)
    child = TaskProcess(target=_child, args=(blob, send), daemon=True, name=f"qtau-task-{payload.task.task_id}",
                        preload=loaded_modules() | _reported())
    try:
        child.start()
    finally:
        send.close()
    try:
        if not receive.poll(deadline(payload)):
            child.kill()
            raise TaskTimeoutError(
                f"task {payload.task.task_id} did not finish within {timeout} s; its process was "
                "ended", field="timeout", value=timeout,
                fix="raise the task's timeout, or make the circuit smaller",
            )
        try:
            kind, modules, packed = pickle.loads(receive.recv_bytes())
        except EOFError:
            raise ExecutionError(
                f"the process running task {payload.task.task_id} died (exit code "
                f"{child.join(_REAP_S) or child.exitcode}) before it returned",
                fix="check the circuit function and the backend for crashes or memory exhaustion",
            ) from None
    finally:
        receive.close()
        child.join(GRACE_S)
        if child.is_alive():  # it answered but could not end (it ends itself at once): end it
            child.kill()
        child.join(_REAP_S)
    with _children_lock:
        _children_loaded.update(modules)
    return kind, packed


def _reported() -> frozenset[str]:
    with _children_lock:
        return frozenset(_children_loaded)


def _without_secrets(payload: TaskPayload, packed: bytes) -> BaseException:
    """The child's error; where it holds a value of one of the task's secrets (or any secret QTAU
    knows of) anywhere, not only in its message, the same QtauError with every such attribute
    masked, or else a redacted ExecutionError in its place."""
    values: set[str] = set()
    for placement in payload.placements:
        values |= secrets_in(placement.config)
    if not _leaks(packed, values):
        return packing.unpack(packed)
    try:
        err = packing.unpack(packed)
    except Exception:  # it cannot even be read here: say only that it held a secret
        err = None
    if isinstance(err, QtauError):
        clean = type(err).__new__(type(err))
        Exception.__init__(clean, _masked(f"{err} (redacted: it held a secret of the task's configuration)", values))
        clean.__dict__.update({key: _masked(item, values) if isinstance(item, str)
                               else MASK if _leaks(_packed_or_none(item), values) else item
                               for key, item in err.__dict__.items()})
        if not _leaks(_packed_or_none(clean), values):
            return clean
    what = "an error" if err is None else _masked(f"{type(err).__name__}: {err}", values)
    return ExecutionError(
        f"task {payload.task.task_id} failed with {what}; the error held a secret of the task's "
        "configuration and was redacted",
        fix="see the plugin's log for the original error; a plugin must not put credentials in errors",
    )


def _packed_or_none(value: Any) -> bytes | None:
    try:
        return packing.pack(value)
    except Exception:
        return None


def _leaks(blob: bytes | None, values: set[str]) -> bool:
    """Whether pickle bytes hold one of `values` or any secret QTAU knows (None: cannot tell)."""
    if blob is None:
        return True
    return any(value.encode() in blob for value in values) or blob_holds_secret(blob)


def _masked(text: str, values: set[str]) -> str:
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, MASK)
    return redact(text)
