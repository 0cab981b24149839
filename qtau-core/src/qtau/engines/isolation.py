"""A LOCAL task with a timeout runs in a forked child process that is killed when it expires.

Why: a thread cannot be stopped. A task whose circuit function, conversion (OpenQASM to an SDK's
circuit, include reading, gate expansion) or simulation hangs would keep a core and its memory
after `TaskTimeoutError` was raised (issue 23). Here the whole attempt chain of one task
(`worker.run_task`: the factory call, `Circuits.prepare`, every local placement's simulation) runs
in a child made with the `fork` start method, so closures and lambdas as circuit functions work
unchanged (nothing of the task is pickled on the way in). The child sends back its `Result`,
`HandOver` or error through a pipe; at expiry (plus `GRACE_S`) the parent kills the child (SIGKILL),
reaps it and raises `TaskTimeoutError`; a child that answered is killed too if a thread of the
task still runs in it. A `HandOver` (the failover order reached a remote resource) is finished
here in the parent by the remote-job tracker, which cancels the provider job on its own timeout.

On RAY the same happens inside the Ray worker: its child is killed at the timeout, so the Ray
worker process (reused by later tasks) carries no leftover thread. Tasks without a timeout keep running on the shared thread pool (no fork cost). Where `fork` is not
available (Windows, macOS's default of `spawn` aside: fork is asked for explicitly) the task runs
on a thread as before and the timeout stops only the waiting.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable
from typing import Any

from qtau import worker
from qtau.engines import tasks
from qtau.engines.tasks import hand_over
from qtau.errors import ExecutionError, TaskTimeoutError
from qtau.payloads import HandOver, TaskPayload

#: How long a killed child may take to be reaped (seconds); SIGKILL cannot be ignored.
_REAP_S = 30.0
#: Seconds past the timeout before the child is killed: inside it, the circuit function and the
#: backend run are timed too, and their error (naming the function or the resource) is more
#: specific than "its process was ended"; this leaves it time to arrive.
GRACE_S = 1.0


def can_isolate() -> bool:
    """Whether this platform can fork a child that inherits the task's circuit function."""
    return "fork" in multiprocessing.get_all_start_methods()


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
    a timeout (where fork exists), else `fn` unchanged."""
    timeout = getattr(getattr(payload, "task", None), "timeout", None)
    if fn is tasks.run_task and timeout is not None and can_isolate():
        return run_task_in_child
    return fn


def _child(payload: TaskPayload, conn: Any) -> None:
    """Runs in the child: the worker's attempts, sent back whole (an error as an error)."""
    try:
        value: Any = ("ok", worker.run_task(payload))
    except BaseException as err:  # SystemExit from a circuit function included: sent, not lost
        value = ("error", err)
    try:
        data = pickle.dumps(value)
    except Exception as err:  # an unpicklable result or error: say what it was
        data = pickle.dumps(("error", ExecutionError(
            f"the task's outcome could not be sent back from its process: {value[1]!r} ({err})",
            fix="return or raise picklable values from circuit functions and plugins",
        )))
    conn.send_bytes(data)
    conn.close()


def run_task_in_child(payload: TaskPayload) -> Any:
    """`engines.tasks.run_task(payload)` with its local work in a child killed at the timeout."""
    timeout = payload.task.timeout
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(payload, send), daemon=True,
                        name=f"qtau-task-{payload.task.task_id}")
    child.start()
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
            kind, value = pickle.loads(receive.recv_bytes())
        except EOFError:
            raise ExecutionError(
                f"the process running task {payload.task.task_id} died (exit code "
                f"{child.join(_REAP_S) or child.exitcode}) before it returned",
                fix="check the circuit function and the backend for crashes or memory exhaustion",
            ) from None
    finally:
        receive.close()
        child.join(GRACE_S)
        if child.is_alive():  # it answered but a thread of the task still runs in it: end it
            child.kill()
        child.join(_REAP_S)
    if kind == "error":
        raise value
    return hand_over(value.payload) if isinstance(value, HandOver) else value
