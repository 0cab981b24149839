"""The execution contract a backend implements: one executor per resource, in one of two shapes.

- `LocalExecutor.run(jobs)` runs in-process and returns outcomes (simulators), on a Ray worker or
  a LOCAL pool thread (see `run` on threading).
- `RemoteExecutor` talks to a provider queue: `submit(jobs)` returns quickly with a
  JSON-serialisable job reference (provider job ids), `poll(refs)` reports many jobs' states in as
  few provider calls as it can, `fetch(ref)` reads the outcomes of a finished job and `cancel(ref)`
  asks the provider to stop it. Core's tracker (`qtau.tracker`) does all waiting: no worker or
  thread is held while a job sits in a provider queue, and a job whose task timed out, failed over
  or was cancelled is cancelled at the provider.

`Executor` (v1: `submit` returning a handle, `result(handle, timeout)` blocking) still works for
plugins written against the v1 hooks: the plugin host wraps such an executor once as a
LocalExecutor (`qtau.plugins_v1.V1Executor`), so core runs only the two shapes above.
"""

from __future__ import annotations

import abc
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from qtau.backoff import intervals, job_error
from qtau.errors import PluginError, TaskTimeoutError
from qtau.types import Outcome, Resource

#: States a remote job can be in, as `RemoteExecutor.poll` reports them.
JobStateName = Literal["queued", "running", "done", "failed", "cancelled", "lost"]
JOB_STATES: tuple[str, ...] = ("queued", "running", "done", "failed", "cancelled", "lost")
FINAL_STATES = frozenset({"done", "failed", "cancelled", "lost"})


@attrs.frozen(eq=False)
class CircuitJob:
    """One circuit to run: already converted into `circuit_format`, one the resource accepts.

    `args`/`kwargs` are the task's, for circuit objects that take arguments themselves (a
    PennyLane QNode); they are empty when the task's circuit was a factory already called with them.
    `width` is the task's qubit count: a circuit without measurements that declares its qubits
    (Qiskit, OpenQASM) reads this many, even when it leaves high qubits idle (some SDKs drop them);
    one whose SDK numbers only the qubits it uses (a Braket Circuit) reads those, in order
    (docs/plugins.md, "Circuit formats"). `attempt` numbers the task's tries (from 1), for
    idempotency tokens.
    """

    task_id: str
    circuit: Any
    circuit_format: str
    shots: int
    args: tuple = ()
    kwargs: dict[str, Any] = attrs.field(factory=dict)
    width: int | None = None
    attempt: int = 1
    #: The task's error mitigation (a `qtau.mitigation_options.Mitigation`), None when it has none:
    #: core expands such a job into the circuits its technique runs before the executor sees it.
    mitigation: Any = None
    #: With mitigation: the task's circuit before conversion and its format (`(circuit, format)`),
    #: which mitigation rewrites (a round trip through the resource's format can lose gate names).
    source: Any = None
    #: The index, in the same call's `jobs`, of the job whose physical qubits this one must be read
    #: on: this circuit's qubit v is measured on the physical qubit job `layout_like`'s qubit v
    #: ended on (a readout calibration following its task's layout). None: lay out freely.
    #: Executors that choose no layout (simulators without a coupling map) ignore it.
    layout_like: int | None = None


@attrs.frozen
class JobState:
    """A remote job's state as its provider reports it, with the provider's message on failure."""

    state: str
    message: str = ""

    def __attrs_post_init__(self) -> None:
        if self.state not in JOB_STATES:
            raise ValueError(f"unknown job state {self.state!r}; use one of {', '.join(JOB_STATES)}")

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


class Executor:
    """Runs circuits on one resource. Created where tasks run by the resource's Backend.

    v1 executors override `submit` (returning a handle) and `result(handle, timeout)`; v2 executors
    subclass `LocalExecutor` or `RemoteExecutor` instead.
    """

    #: True for executors that place circuits on physical qubits themselves and honour
    #: `CircuitJob.layout_like`: their readout calibrations are then kept per circuit, since
    #: another circuit may land on other qubits.
    follows_layout: bool = False

    def __init__(self, resource: Resource, config: Mapping[str, Any]) -> None:
        self.resource = resource
        self.config = config

    def submit(self, jobs: Sequence[CircuitJob]) -> Any:
        """v1: start `jobs` as one backend call; return a handle for `result`."""
        raise NotImplementedError(f"{type(self).__name__} implements neither run nor submit")

    def result(self, handle: Any, timeout: float | None = None) -> list[Outcome]:
        """v1: outcomes of a submitted batch, one per job, in order."""
        raise NotImplementedError(f"{type(self).__name__} implements no result")

    def cancel(self, handle: Any) -> bool:
        """Ask the backend to stop the work behind `handle`; True when it accepted."""
        return False

    def close(self) -> None:  # noqa: B027 (optional: most executors hold nothing to release)
        """Release sessions or connections. Called when core drops the executor."""


class LocalExecutor(Executor):
    """An executor whose backend runs in-process (simulators).

    `run` may be called from several threads at once (concurrent chunks of a batch on a LOCAL
    pool); an executor whose SDK object is not thread-safe serialises its calls itself (a lock).
    """

    @abc.abstractmethod
    def run(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        """Run every job, one backend call for the batch where possible; one Outcome per job, in order."""

    def submit(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        return self.run(jobs)

    def result(self, handle: Any, timeout: float | None = None) -> list[Outcome]:
        return handle


class RemoteExecutor(Executor):
    """An executor for a provider queue: submit returns at once; core's tracker does the waiting.

    Every method is plain blocking code (an HTTP call or two); the tracker calls them from a small
    thread pool, never one thread per job. Raise `QtauError` subclasses for what users must act on
    (AuthenticationError, BackendUnavailableError, InvalidTaskError...).
    """

    #: Seconds between the first polls of a job; the tracker backs off from here to `max_poll_interval`.
    poll_interval: float = 0.25
    max_poll_interval: float = 5.0

    @abc.abstractmethod
    def submit(self, jobs: Sequence[CircuitJob]) -> Any:
        """Create the provider jobs for `jobs` (one provider batch where possible) and return a
        JSON-serialisable reference to them (ids, ARNs), quickly, without waiting for results."""

    @abc.abstractmethod
    def poll(self, refs: Sequence[Any]) -> Sequence[JobState | str]:
        """The state of each job reference, in order, in as few provider calls as possible.

        A job the provider no longer knows (HTTP 404) is `lost`; a failed one `failed` with the
        provider's reason as `message`.
        """

    @abc.abstractmethod
    def fetch(self, ref: Any) -> list[Outcome]:
        """Outcomes of a `done` job reference, one per submitted job, in order. Where the
        provider runs a batch's jobs apart (Braket: one task each) and some failed while others
        ran, `poll` may say `done` and `fetch` put an error (a QtauError) in place of each failed
        job's Outcome: only that job's task fails over, and the others keep the results paid for."""

    def cancel(self, ref: Any) -> bool:
        """Ask the provider to cancel the jobs of `ref`; True when it accepted."""
        return False

    def result(self, handle: Any, timeout: float | None = None) -> list[Outcome]:
        """Blocking wait, for callers outside QTAU's engines (tests, scripts): polls with backoff."""
        return wait_for_job(self, handle, timeout)


def check_job_ref(ref: Any, resource_id: str) -> str:
    """The job reference as JSON text, or a PluginError when the backend returned something that
    cannot be journalled or re-attached (an SDK object, a set...)."""
    try:
        return json.dumps(ref, sort_keys=True)
    except (TypeError, ValueError) as err:
        raise PluginError(
            f"the backend of {resource_id} returned a job reference that is not JSON "
            f"({type(ref).__name__}): {err}",
            plugin=resource_id.split(":", 1)[0],
            fix="return provider job ids (strings, numbers, lists, dicts) from RemoteExecutor.submit",
        ) from None


def job_state(value: JobState | str) -> JobState:
    """A poll answer as a JobState (plugins may answer with the bare state name)."""
    if isinstance(value, JobState):
        return value
    return JobState(str(value))


def wait_for_job(executor: Any, ref: Any, timeout: float | None = None) -> list:
    """Poll one job of a RemoteExecutor until it is final; its outcomes, or the matching QtauError."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for delay in intervals(executor.poll_interval, executor.max_poll_interval):
        [raw] = executor.poll([ref])
        state = job_state(raw)
        if state.state == "done":
            return executor.fetch(ref)
        if state.final:
            raise job_error(executor.resource.id, state)
        if deadline is not None and time.monotonic() + delay > deadline:
            executor.cancel(ref)
            raise TaskTimeoutError(
                f"{executor.resource.id} did not finish within {timeout} s; its job was cancelled",
                field="timeout", value=timeout, fix="raise the task's timeout, or let QDREAMER fail over",
            )
        time.sleep(delay)
    raise AssertionError("unreachable")
