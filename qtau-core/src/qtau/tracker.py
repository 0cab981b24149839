"""The remote-job tracker: one per process, waiting for every in-flight provider job at once.

A task whose resource is remote (a `RemoteExecutor`) is submitted, then waited for here: one
asyncio loop polls every in-flight job of an executor in one `poll` call per tick, backing off
per job (`qtau.backoff`), so no Ray worker or pool thread is held while a job sits in a provider
queue. SDK calls are blocking HTTP calls; they run on a small I/O thread pool, never one thread
per job.

Nothing is abandoned: a job whose task times out, fails over or is cancelled (by the user, or by
`pcs.cancel()`) is cancelled at the provider before anything else happens. Every attempt records
the provider's job reference, so a journal can re-attach it.

Where it lives:
- LOCAL: `local_tracker()`, a daemon thread running the loop for the life of the process;
  handles are `concurrent.futures.Future`s (cancelling one cancels the provider job).
- RAY: `qtau.engines.ray_tracker.TrackerActor`, an async actor with `num_cpus=0` per service;
  handles are the actor calls' `ObjectRef`s (usable in `ray.get` and as arguments to other remote
  functions); `ray.cancel(ref)` cancels the provider job.

Local work on the failover order runs through `local_runner` (where the engine runs tasks); the
members a worker hands back (`HandOver`: their order reached a remote resource) continue here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from qtau.attempt import INPUT_ERRORS, attempt_record, executor_for, failed_everywhere, make_result
from qtau.backoff import intervals, job_error
from qtau.circuits import Prepared, prepare
from qtau.coalesce import RemoteGathering
from qtau.errors import (
    BackendUnavailableError,
    CancelRefusedError,
    ExecutionError,
    JobLostError,
    PluginError,
    QtauError,
    TaskTimeoutError,
)
from qtau.executor import JobState, RemoteExecutor, check_job_ref, job_state
from qtau.journal import service_journal as journaling
from qtau.payloads import BatchPayload, HandOver, Placement, TaskFailure, TaskPayload
from qtau.secrets import redact
from qtau.types import Result
from qtau.worker import run_batch as run_local_batch

#: Consecutive failed polls of one job before its task gives up on it (transient errors retry).
MAX_POLL_ERRORS = 3
#: Threads for blocking provider calls (HTTP): shared by every job, never one per job.
IO_THREADS = 32
#: Jobs per poll call when many are due at once.
POLL_CHUNK = 50

LocalRunner = Callable[[Callable[[Any], Any], Any], Awaitable[Any]]


class _Poller:
    """Every in-flight job of one executor: polled together, each on its own backoff."""

    def __init__(self, tracker: Tracker, executor: RemoteExecutor) -> None:
        self.tracker = tracker
        self.executor = executor
        self.jobs: dict[int, tuple[Any, asyncio.Future, float, Any, int]] = {}
        self.wake = asyncio.Event()
        self.task: asyncio.Task | None = None
        self._ids = 0

    def watch(self, ref: Any) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        steps = intervals(self.executor.poll_interval, self.executor.max_poll_interval)
        self._ids += 1
        self.jobs[self._ids] = (ref, future, time.monotonic() + next(steps), steps, 0)
        self.wake.set()
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._loop())
        return future

    async def _loop(self) -> None:
        while self.jobs:
            for key in [k for k, v in self.jobs.items() if v[1].done()]:
                del self.jobs[key]  # a waiter that gave up (timeout, cancel)
            if not self.jobs:
                return
            now = time.monotonic()
            due = [k for k, v in self.jobs.items() if v[2] <= now]
            if not due:
                self.wake.clear()
                delay = min(v[2] for v in self.jobs.values()) - now
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout=max(delay, 0.0))
                except asyncio.TimeoutError:
                    pass
                continue
            # Many jobs: polled in chunks side by side on the I/O pool, so a provider without a
            # many-jobs status call still sees every job within a few round trips.
            chunks = [due[i:i + POLL_CHUNK] for i in range(0, len(due), POLL_CHUNK)]
            answers = await asyncio.gather(*(self._poll([self.jobs[k][0] for k in c]) for c in chunks))
            for chunk, chunk_answers in zip(chunks, answers, strict=True):
                for key, answer in zip(chunk, chunk_answers, strict=True):
                    self._settle(key, answer)

    async def _poll(self, refs: list[Any]) -> list[JobState | BaseException]:
        """States of `refs`, in one call; when that call raises, each job alone (so one bad job
        gives its own task an error and the others keep their answers)."""
        try:
            states = await self.tracker.io(self.executor.poll, refs)
            if len(states) != len(refs):
                raise PluginError(
                    f"poll on {self.executor.resource.id} answered {len(states)} states for {len(refs)} jobs",
                    plugin=self.executor.resource.provider, fix="return one state per job reference, in order",
                )
            return [job_state(s) for s in states]
        except Exception as err:
            if len(refs) == 1:
                return [err]
        out: list[JobState | BaseException] = []
        for ref in refs:
            out.extend(await self._poll([ref]))
        return out

    def _settle(self, key: int, answer: JobState | BaseException) -> None:
        ref, future, _, steps, errors = self.jobs[key]
        if future.done():
            del self.jobs[key]
            return
        if isinstance(answer, BaseException):
            errors += 1
            if errors >= MAX_POLL_ERRORS or isinstance(answer, QtauError) and not _transient(answer):
                future.set_exception(_poll_error(self.executor, answer))
                del self.jobs[key]
                return
        elif answer.final:
            future.set_result(answer)
            del self.jobs[key]
            return
        else:
            errors = 0
        self.jobs[key] = (ref, future, time.monotonic() + next(steps), steps, errors)


def _transient(err: QtauError) -> bool:
    return isinstance(err, BackendUnavailableError) and not isinstance(err, JobLostError)


def _poll_error(executor: RemoteExecutor, err: BaseException) -> QtauError:
    if isinstance(err, QtauError):
        return err
    return ExecutionError(
        f"polling a job on {executor.resource.id} failed: {type(err).__name__}: {redact(str(err))[:300]}",
        fix="the provider or the plugin's poll() failed; QDREAMER fails the task over",
    )


class Tracker:
    """Runs tasks whose placement is remote: submit, wait (polled), fetch, fail over, cancel.

    `local_runner(fn, payload)` runs `fn(payload)` where local work runs (the failover order may
    reach a local simulator): a pool thread on LOCAL, a Ray task on RAY.
    """

    def __init__(self, local_runner: LocalRunner | None = None) -> None:
        self.local_runner = local_runner or _to_thread
        self._io = cf.ThreadPoolExecutor(IO_THREADS, thread_name_prefix="qtau-tracker-io")
        self._pollers: dict[int, _Poller] = {}
        self.submitted = 0
        self.cancelled = 0
        self.gathering = RemoteGathering(self)

    async def io(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._io, fn, *args)

    def _poller(self, executor: RemoteExecutor) -> _Poller:
        found = self._pollers.get(id(executor))
        if found is None or found.executor is not executor:
            found = self._pollers[id(executor)] = _Poller(self, executor)
        return found

    # -- one task ----------------------------------------------------------------------------------

    async def run(self, payload: TaskPayload) -> Result:
        """The task's Result, failing over along its placements; raises its QtauError."""
        if payload.coalesce and payload.placements[0].remote:
            return await self.gathering.run(payload)
        [value] = await self.run_batch(BatchPayload((payload,)))
        if isinstance(value, TaskFailure):
            raise value.error
        return value

    async def run_batch(self, payload: BatchPayload, created: Callable[[], None] | None = None
                        ) -> list[Result | TaskFailure]:
        """Members share their first (remote) resource: one provider batch there; a failed batch
        fails over as a batch. One entry per member, in order. `created()` is called once the
        first provider create call has answered (or failed)."""
        first = payload.members[0].placements[0]
        if not first.remote:
            if created is not None:
                created()
            return await self._handed_over(await self.local_runner(run_local_batch, payload))
        outcome = await self._attempt(payload, first, created)
        if isinstance(outcome, list):
            return outcome
        failed, retry = outcome
        out: list[Any] = [None] * len(payload.members)
        for i, value in failed:
            out[i] = value
        groups: dict[str, list[tuple[int, TaskPayload]]] = {}
        for i, member in retry:
            if not member.placements:
                out[i] = TaskFailure(member.task.task_id, failed_everywhere(member.task, member.attempts))
            else:
                groups.setdefault(member.placements[0].resource.id, []).append((i, member))
        for group in groups.values():
            values = await self.run_batch(BatchPayload(tuple(m for _, m in group)))
            for (i, _), value in zip(group, values, strict=True):
                out[i] = value
        return out

    async def _handed_over(self, entries: list) -> list[Result | TaskFailure]:
        """A local batch's entries, with the members its worker handed over (their failover
        order reached a remote resource) run here, grouped by that resource."""
        groups: dict[str, list[tuple[int, TaskPayload]]] = {}
        for i, entry in enumerate(entries):
            if isinstance(entry, HandOver):
                groups.setdefault(entry.payload.placements[0].resource.id, []).append((i, entry.payload))
        for group in groups.values():
            values = await self.run_batch(BatchPayload(tuple(m for _, m in group)))
            for (i, _), value in zip(group, values, strict=True):
                entries[i] = value
        return entries

    async def _attempt(self, payload: BatchPayload, placement: Placement,
                       created: Callable[[], None] | None = None) -> Any:
        """One provider batch on `placement`. Returns the list of entries when it ran, else
        (failed entries, members to retry with the failed attempt recorded)."""
        members = payload.members
        host = members[0].host
        started = time.time()
        failed: list[tuple[int, Any]] = []
        jobs, prepared, slots = [], [], []
        attach = members[0].attach if len(members) == 1 else None
        for i, member in enumerate(members):
            if attach is not None:  # recovery: the job exists at the provider; nothing to submit
                jobs.append(None)
                prepared.append(await self.io(_layout_of, member, placement))
                slots.append(i)
                continue
            try:
                ready = await self.io(prepare, member.task, placement.resource, host, member.next_attempt)
            except QtauError as err:
                failed.append((i, TaskFailure(member.task.task_id, err)))
                continue
            jobs.append(ready.job)
            prepared.append(ready)
            slots.append(i)
        if not jobs:
            if created is not None:
                created()
            return failed, []
        ref_text = ""
        executor: RemoteExecutor | None = None
        ref: Any = None
        ended = False  # the job reached a final state at the provider: nothing left to cancel
        try:
            executor = await self.io(executor_for, host, placement)
            if not isinstance(executor, RemoteExecutor):
                raise PluginError(
                    f"{placement.resource.id} is marked remote but its executor is not a RemoteExecutor",
                    plugin=placement.resource.provider, fix="set Resource(remote=True) only for RemoteExecutors",
                )
            member = None
            if attach is not None:
                # Journaled as {"job": provider reference, "member": index in its provider batch}.
                journaled = attach[1]
                if isinstance(journaled, dict) and "job" in journaled and "member" in journaled:
                    ref, member = journaled["job"], int(journaled["member"])
                else:
                    ref = journaled
            else:
                for i in slots:
                    m = members[i]
                    await self.io(journaling.attempt_starting, m.journal, m.task.task_id, m.next_attempt,
                                  placement.resource.id, placement.resource.provider, m.placements[0].cost,
                                  m.placements[0].currency)
                try:
                    ref = await self._create(executor, jobs)
                finally:
                    if created is not None:
                        created()
                self.submitted += 1
            ref_text = check_job_ref(ref, placement.resource.id)
            if attach is None:
                for position, i in enumerate(slots):
                    m = members[i]
                    await self.io(journaling.attempt_submitted, m.journal, m.task.task_id, m.next_attempt,
                                  {"job": ref, "member": position})
            timeouts = [members[i].task.timeout for i in slots if members[i].task.timeout is not None]
            state = await self._wait(executor, ref, max(timeouts) if timeouts else None)
            ended = True
            if state.state != "done":
                raise job_error(placement.resource.id, state)
            outcomes = await self.io(executor.fetch, ref)
            if member is not None:  # a re-attached task: its own outcome of the provider batch
                outcomes = outcomes[member:member + 1]
            if len(outcomes) != len(jobs):
                raise ExecutionError(
                    f"{placement.resource.id} returned {len(outcomes)} outcomes for {len(jobs)} jobs",
                    fix="a plugin's fetch() must return one Outcome per submitted job, in order",
                )
        except asyncio.CancelledError:
            if executor is not None and ref is not None:
                await asyncio.shield(self._cancel(executor, ref))
            raise
        except Exception as err:
            if ref is not None and not ended and not isinstance(err, (TaskTimeoutError, CancelRefusedError)):
                # Submitted, then something failed (a poll, a fetch, a malformed reference): the
                # job may still run and bill, so it is cancelled before anything else happens.
                try:
                    await self._cancel(executor, ref)
                except CancelRefusedError as refused:
                    err = refused
            if isinstance(err, CancelRefusedError):
                return self._refused(members, slots, placement, started, err, ref_text, failed)
            if isinstance(err, INPUT_ERRORS):
                failed.extend((i, TaskFailure(members[i].task.task_id, err)) for i in slots)
                return failed, []
            attempt = attempt_record(placement.resource.id, started, err, ref_text)
            return failed, [(i, members[i].rest((*members[i].attempts, attempt), 1)) for i in slots]
        out: list[Any] = [None] * len(members)
        for i, value in failed:
            out[i] = value
        retry = []
        for n, i in enumerate(slots):
            m = members[i]
            if isinstance(outcomes[n], BaseException):  # this member's own job failed; the others ran
                attempt = attempt_record(placement.resource.id, started, outcomes[n], ref_text)
                if isinstance(outcomes[n], INPUT_ERRORS):
                    out[i] = TaskFailure(m.task.task_id, outcomes[n])
                else:
                    retry.append((i, m.rest((*m.attempts, attempt), 1)))
                continue
            attempts = (*m.attempts, attempt_record(placement.resource.id, started, job=ref_text))
            out[i] = make_result(m.task, m.placements[0], outcomes[n], prepared[n], attempts, m.submitted_at, started)
        if retry:
            return [(i, value) for i, value in enumerate(out) if value is not None], retry
        return out

    @staticmethod
    def _refused(members, slots, placement, started, err, ref_text, failed) -> tuple[list, list]:
        """The provider refused to cancel a job that may still run and bill: failing over would
        pay twice, so the task ends here with the job named."""
        attempt = attempt_record(placement.resource.id, started, err, ref_text)
        for i in slots:
            m = members[i]
            failed.append((i, TaskFailure(m.task.task_id, ExecutionError(
                str(err).split(" Fix:")[0], attempts=(*m.attempts, attempt), task_id=m.task.task_id,
                fix="cancel the job in the provider's console; QTAU did not start another"))))
        return failed, []

    async def _create(self, executor: RemoteExecutor, jobs: list) -> Any:
        """`executor.submit(jobs)`. A task cancelled while the create call is under way (an HTTP
        round trip; a Braket batch creates its tasks one after another) cannot stop what the
        provider is doing: the call is seen to its answer, and the job it made is cancelled before
        the cancellation goes on, so nothing is left at the provider to run and bill."""
        call = asyncio.ensure_future(self.io(executor.submit, jobs))
        try:
            return await asyncio.shield(call)
        except asyncio.CancelledError:
            while not call.done():
                with contextlib.suppress(asyncio.CancelledError):  # cancelled again: still wait
                    await asyncio.wait([call])
            if not call.cancelled() and call.exception() is None:  # else the create made nothing
                await asyncio.shield(self._cancel(executor, call.result()))
            raise

    async def _wait(self, executor: RemoteExecutor, ref: Any, timeout: float | None) -> JobState:
        future = self._poller(executor).watch(ref)
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            await self._cancel(executor, ref)
            raise TaskTimeoutError(
                f"{executor.resource.id} did not finish within {timeout} s; its job was cancelled",
                field="timeout", value=timeout, fix="raise the task's timeout, or let QDREAMER fail over",
            ) from None

    async def _cancel(self, executor: RemoteExecutor, ref: Any) -> None:
        """Cancel a provider job; CancelRefusedError when the provider says no."""
        try:
            accepted = await self.io(executor.cancel, ref)
        except QtauError as err:
            raise CancelRefusedError(
                f"cancelling job {check_job_ref(ref, executor.resource.id)} on {executor.resource.id} failed: {err}",
                field="job", value=check_job_ref(ref, executor.resource.id),
                fix="cancel it in the provider's console; it may still run and bill",
            ) from None
        except Exception as err:
            raise CancelRefusedError(
                f"cancelling job {check_job_ref(ref, executor.resource.id)} on {executor.resource.id} failed: "
                f"{type(err).__name__}: {redact(str(err))[:200]}", field="job",
                value=check_job_ref(ref, executor.resource.id),
                fix="cancel it in the provider's console; it may still run and bill",
            ) from None
        if not accepted:
            raise CancelRefusedError(
                f"the provider of {executor.resource.id} refused to cancel job {check_job_ref(ref, executor.resource.id)}",
                field="job", value=check_job_ref(ref, executor.resource.id),
                fix="cancel it in the provider's console; it may still run and bill",
            )
        self.cancelled += 1


async def _to_thread(fn: Callable[[Any], Any], payload: Any) -> Any:
    return await asyncio.to_thread(fn, payload)


# -- LOCAL: one loop thread per process -------------------------------------------------------------


class LocalTracker:
    """The process's tracker on a daemon event-loop thread; handles are concurrent Futures.

    Cancelling a handle cancels its task's coroutine, which cancels the provider job first.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.tracker = Tracker()
        self._tasks: dict[int, asyncio.Task] = {}
        self.thread = threading.Thread(target=self.loop.run_forever, name="qtau-tracker", daemon=True)
        self.thread.start()

    async def _track(self, key: int, coro: Awaitable[Any]) -> Any:
        self._tasks[key] = asyncio.current_task()  # type: ignore[assignment]
        try:
            return await coro
        finally:
            self._tasks.pop(key, None)

    def _start(self, coro: Awaitable[Any]) -> cf.Future:
        holder: dict[str, Any] = {}
        key = id(holder)
        future = asyncio.run_coroutine_threadsafe(self._track(key, coro), self.loop)
        future.qtau_key = key  # type: ignore[attr-defined]
        future.qtau_holder = holder  # keeps the key unique while the future lives
        return future

    def submit(self, payload: TaskPayload) -> cf.Future:
        return self._start(self.tracker.run(payload))

    def submit_batch(self, payload: BatchPayload) -> cf.Future:
        return self._start(self.tracker.run_batch(payload))

    def cancel_and_wait(self, futures: list[cf.Future], timeout: float = 30.0) -> None:
        """Cancel these handles and wait (bounded) until their provider jobs are cancelled."""
        keys = [getattr(f, "qtau_key", None) for f in futures if not f.done()]
        for f in futures:
            f.cancel()

        async def settle() -> None:
            await asyncio.sleep(0)
            tasks = [self._tasks[k] for k in keys if k in self._tasks]
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)

        try:
            asyncio.run_coroutine_threadsafe(settle(), self.loop).result(timeout + 1)
        except (cf.TimeoutError, TimeoutError):
            pass


_local: LocalTracker | None = None
_local_lock = threading.Lock()


def local_tracker() -> LocalTracker:
    global _local
    with _local_lock:
        if _local is None:
            _local = LocalTracker()
        return _local


def _layout_of(member: TaskPayload, placement: Placement) -> Prepared | None:
    """A re-attached task prepared again, for what its Result needs of the job sent before the
    crash (its conversion path and where its keys go, `Prepared.bits`): nothing is sent. None where
    it cannot be (its Result then has the provider's keys as they are)."""
    try:
        return prepare(member.task, placement.resource, member.host, member.next_attempt)
    except Exception:  # noqa: BLE001 - the job is done at the provider: its counts come back regardless
        return None
