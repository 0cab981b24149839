"""Braket devices on AWS (QPUs and on-demand simulators) as a RemoteExecutor.

`submit` checks the device is online and inside an availability window, then creates the tasks
(in parallel for a batch) through `AwsQuantumTask.create` with this plugin's session, each with a
clientToken derived from its task id and attempt number (`create_idempotently`), so a create sent
again after a timeout or a crash never makes a second paid task. It returns a
JSON job reference holding the task ARNs, so core's tracker (and a journal) can poll, fetch,
cancel and re-attach them. No call here waits for a queue: the SDK's `result()`, which drives an
asyncio loop, is never used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from qtau.errors import (
    BackendUnavailableError,
    CancelRefusedError,
    CircuitConversionError,
    ExecutionError,
    InvalidTaskError,
    QtauError,
)
from qtau.executor import CircuitJob, JobState, RemoteExecutor
from qtau.types import Outcome, Resource

from qtau_braket import session as sessions
from qtau_braket.names import DeviceRef, parse_arn
from qtau_braket.settings import AwsSettings, settings_for

STATES = {"CREATED": "queued", "QUEUED": "queued", "RUNNING": "running", "COMPLETED": "done",
          "FAILED": "failed", "CANCELLING": "cancelled", "CANCELLED": "cancelled"}
#: How a batch's state reads from its tasks' states: the first that any task is in.
PRECEDENCE = ("lost", "failed", "cancelled", "running", "queued", "done")
RESULTS_FILE = "results.json"
STATUS_MAX_AGE_S = 1.0
#: Braket has no many-tasks status call that is documented to match a list of ARNs, so a poll of
#: many tasks sends its GetQuantumTask calls side by side, this many at a time per process.
PARALLEL_CALLS = 16
#: Ended tasks remembered per executor at most (a job that fails is never fetched, so its entries
#: would otherwise stay); the oldest go first and are simply asked again if polled.
MAX_REMEMBERED = 10_000
TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


def _each(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """`[fn(x) for x in items]`, the calls side by side on the plugin's long-lived pool (one item: inline)."""
    if len(items) <= 1:
        return [fn(x) for x in items]
    from qtau.threads import shared_pool

    return list(shared_pool(PARALLEL_CALLS, "braket-io").map(fn, items))


def check_available(dev: Any, resource_id: str) -> None:
    """BackendUnavailableError unless the device is ONLINE and inside an execution window."""
    if dev.status != "ONLINE":
        raise BackendUnavailableError(
            f"{resource_id} is {dev.status}", field="deviceStatus", value=dev.status,
            fix="pick another device, wait until it is ONLINE, or let QDREAMER fail over",
        )
    if not dev.is_available:
        windows = "; ".join(
            f"{w.executionDay.value if hasattr(w.executionDay, 'value') else w.executionDay} "
            f"{w.windowStartHour}-{w.windowEndHour} UTC"
            for w in dev.properties.service.executionWindows
        )
        raise BackendUnavailableError(
            f"{resource_id} is outside its availability window ({windows})", field="executionWindows",
            value=windows, fix="submit during a window, pick another device, or let QDREAMER fail over",
        )


class AwsDeviceExecutor(RemoteExecutor):
    """One Braket device on AWS: tasks created in one batch call; core's tracker polls them.

    A job reference is `{"arns": [...], "explicit": [...], "widths": [...]}`: the task ARNs in job
    order, whether each circuit measured explicitly, and the qubits of the OpenQASM program each
    circuit was read from (None for a Circuit built with Braket's API: see `qtau_braket.outcomes`),
    so idle qubits that Braket does not measure still read 0 in the counts.
    """

    def __init__(self, resource: Resource, config: Mapping[str, Any], ref: DeviceRef, settings: AwsSettings) -> None:
        super().__init__(resource, config)
        self.ref = ref
        self.settings = settings
        self.session = sessions.aws_session(settings)
        #: GetQuantumTask answers of tasks that ended (they cannot change): later polls skip them
        #: and `fetch` reads the S3 location from them. Dropped when the job is fetched or cancelled.
        self._ended: dict[str, dict[str, Any]] = {}
        self._ended_lock = threading.Lock()  # polls and fetches fill and drop it from pool threads

    # -- submission ----------------------------------------------------------------------------

    def destination(self) -> tuple[str, str]:
        bucket = self.settings.bucket
        if bucket is None:
            try:
                bucket = self.session.default_bucket()
            except Exception as err:
                raise sessions.classify(err, "finding the default Braket results bucket", self.settings) from None
        return bucket, self.settings.prefix

    def _check(self, job: CircuitJob) -> None:
        from qtau_braket.programs import BraketProgram

        if isinstance(job.circuit, BraketProgram):
            # QTAU sends AWS devices Braket Circuits, which cannot hold what this program needs.
            raise CircuitConversionError(
                f"the program needs {', '.join(job.circuit.needs)}, which only Braket's local simulators "
                f"run here (as a program); {self.resource.id} is sent Braket Circuits",
                field="circuit", value=", ".join(job.circuit.needs),
                fix="run it on braket_local or braket_local_dm, or on a resource that measures mid-circuit "
                    "(Qiskit Aer)",
            )
        if job.circuit.qubit_count > self.resource.num_qubits:
            raise InvalidTaskError(
                f"the circuit needs {job.circuit.qubit_count} qubits but {self.resource.id} has {self.resource.num_qubits}",
                field="num_qubits", value=job.circuit.qubit_count, fix="use fewer qubits or a wider device",
            )

    @property
    def poll_interval(self) -> float:  # type: ignore[override]
        return min(0.25, self.settings.poll_interval_s)

    @property
    def max_poll_interval(self) -> float:  # type: ignore[override]
        return self.settings.poll_interval_s

    def submit(self, jobs: Sequence[CircuitJob]) -> dict[str, Any]:
        from qtau_braket.outcomes import declared_qubits, explicit_measurement

        for job in jobs:
            self._check(job)
        # Device status read at most once a second: a burst of submissions costs one GetDevice, and
        # CreateQuantumTask itself refuses an offline device.
        check_available(sessions.device(self.ref, self.settings, max_age=STATUS_MAX_AGE_S), self.resource.id)
        circuits = [job.circuit for job in jobs]
        arns = create_idempotently(self.session, self.ref.arn, jobs, self.destination(), self._cancel_all,
                                   lambda err: sessions.classify(err, f"creating tasks on {self.ref.arn}", self.settings))
        return {"arns": arns, "explicit": [explicit_measurement(c) for c in circuits],
                "widths": [declared_qubits(c) for c in circuits]}

    # -- polling -------------------------------------------------------------------------------

    def _metadata(self, arn: str) -> dict[str, Any] | None:
        """GetQuantumTask's answer, or None when AWS no longer knows the task (404)."""
        ended = self._ended.get(arn)
        if ended is not None:
            return ended
        try:
            meta = self.session.get_quantum_task(arn)
        except Exception as err:
            code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                return None
            raise sessions.classify(err, f"reading task {arn}", self.settings) from None
        if meta.get("status") in TERMINAL:
            with self._ended_lock:
                if len(self._ended) >= MAX_REMEMBERED:
                    self._ended.pop(next(iter(self._ended)), None)
                self._ended[arn] = meta
        return meta

    @staticmethod
    def _state(ref: Mapping[str, Any], metas: Mapping[str, dict[str, Any] | None]) -> JobState:
        """A batch's state from its tasks'. Each task runs and bills on its own: a batch with a
        failed task waits for the others, and once every task has ended it is `done` if any
        completed (`fetch` gives each failed task its error; only those tasks fail over)."""
        states = []
        failure = ""
        for arn in ref["arns"]:
            meta = metas[arn]
            if meta is None:
                return JobState("lost", f"AWS does not know task {arn}")
            state = STATES.get(meta["status"], "running")
            if state == "failed" and not failure:
                failure = f"Braket task {arn} FAILED: {meta.get('failureReason', 'no reason given')}"
            states.append(state)
        if "done" in states and set(states) <= {"done", "failed", "cancelled"}:
            return JobState("done")
        if failure and set(states) <= {"failed", "cancelled"}:
            return JobState("failed", failure)
        return JobState(min(states, key=PRECEDENCE.index) if states else "done")

    def poll(self, refs: Sequence[Any]) -> list[JobState]:
        """Every task of every job read once, side by side; tasks already seen ending are not asked again."""
        arns = list(dict.fromkeys(arn for ref in refs for arn in ref["arns"]))
        metas = dict(zip(arns, _each(self._metadata, arns), strict=True))
        return [self._state(ref, metas) for ref in refs]

    def _fetch(self, arn: str, explicit: bool, width: int | None) -> Outcome:
        from braket.tasks import GateModelQuantumTaskResult

        from qtau_braket.outcomes import counts_of, result_types_metadata, values_of

        meta = self._metadata(arn)
        if meta is None or meta["status"] != "COMPLETED":
            raise ExecutionError(f"Braket task {arn} is not COMPLETED", field="task_arn", value=arn,
                                 fix="fetch only jobs that poll reported done")
        try:
            body = self.session.retrieve_s3_object_body(meta["outputS3Bucket"], f"{meta['outputS3Directory']}/{RESULTS_FILE}")
            result = GateModelQuantumTaskResult.from_string(body)
        except Exception as err:
            raise sessions.classify(err, f"reading the result of task {arn} from S3", self.settings) from None
        measured = [int(q) for q in result.measured_qubits]
        return Outcome(
            counts=counts_of(result.measurement_counts, measured, explicit, width),
            values=values_of(result),
            metadata={"task_arn": arn, "device_arn": self.ref.arn, "measured_qubits": measured,
                      "implicit_measure_all": not explicit,
                      "bit_order": "bit i = measured_qubits[i], bit 0 rightmost", **result_types_metadata(result),
                      "queued_at": str(meta.get("createdAt", "")), "ended_at": str(meta.get("endedAt", ""))},
            raw=result,
        )

    def fetch(self, ref: Any) -> list[Outcome | QtauError]:
        """Each task's result read from S3, side by side; a task that failed or was cancelled at
        AWS while the others ran has its error in its place. The job's remembered metadata is
        dropped after."""
        widths = ref.get("widths") or [None] * len(ref["arns"])
        try:
            return _each(lambda item: self._ended_badly(item[0]) or self._fetch(*item),
                         list(zip(ref["arns"], ref["explicit"], widths, strict=True)))
        finally:
            self._forget(ref["arns"])

    def _ended_badly(self, arn: str) -> ExecutionError | None:
        """The error of a task of a batch that failed or was cancelled at AWS (None otherwise)."""
        meta = self._metadata(arn)
        if meta is None or meta["status"] not in ("FAILED", "CANCELLING", "CANCELLED"):
            return None
        why = f": {meta['failureReason']}" if meta.get("failureReason") else ""
        return ExecutionError(
            f"the job on {self.resource.id} failed at the provider: Braket task {arn} {meta['status']}{why}",
            field="task_arn", value=arn, fix="QDREAMER fails this task over; the other tasks of its batch ran",
        )

    def _forget(self, arns: Sequence[str]) -> None:
        with self._ended_lock:
            for arn in arns:
                self._ended.pop(arn, None)

    def _cancel_all(self, arns: Sequence[str]) -> list[str]:
        """Cancel every task that has not ended; the ARNs whose cancellation AWS refused."""
        refused = []
        for arn in arns:
            try:
                self.session.cancel_quantum_task(arn)
            except Exception:
                meta = self._metadata(arn)
                if meta is not None and meta["status"] not in ("COMPLETED", "FAILED", "CANCELLED", "CANCELLING"):
                    refused.append(arn)
        return refused

    def cancel(self, ref: Any) -> bool:
        self._forget(ref["arns"])
        refused = self._cancel_all(ref["arns"])
        if refused:
            raise CancelRefusedError(
                f"AWS refused to cancel Braket tasks {', '.join(refused)} on {self.ref.arn}", field="task_arn",
                value=refused[0], fix="cancel them in the Braket console; they may still run and bill",
            )
        return True


def create_idempotently(session: Any, device_arn: str, jobs: Sequence[CircuitJob], folder: tuple[str, str],
                        cancel: Callable[[Sequence[str]], Any], classify: Callable[[BaseException], QtauError],
                        ) -> list[str]:
    """Create one Braket task per job, each with the clientToken of its task id and attempt number
    (`qtau_braket.idempotency`): sending the same try again never makes a second paid task. When a
    batch fails part way, the tasks it made are cancelled and the error is raised as a QtauError
    (not chained: botocore's exception text can carry the access key id)."""
    from qtau_braket.idempotency import create_tasks

    items = [(job.circuit, job.shots, job.task_id, job.attempt) for job in jobs]
    created: list[str] = []
    try:
        return [arn for arn, _ in create_tasks(session, device_arn, items, folder, created)]
    except Exception as err:
        if created:
            cancel(created)
        raise classify(err) from None


def create_executor(resource: Resource, config: Mapping[str, Any]) -> AwsDeviceExecutor:
    ref = parse_arn(resource.metadata["arn"])
    try:
        return AwsDeviceExecutor(resource, config, ref, settings_for(config, resource.metadata["region"]))
    except QtauError:
        raise
    except Exception as err:
        raise sessions.classify(err, f"opening a session for {ref.arn}") from None
