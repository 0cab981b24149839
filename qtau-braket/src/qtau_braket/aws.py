"""Runs batches of Braket circuits on an AWS device (QPU or on-demand simulator) by ARN.

`submit` checks the device is online and inside an availability window, then creates the tasks
in one call: a single task through `AwsQuantumTask.create`, a batch through
`AwsQuantumTaskBatch`, the machinery of `AwsDevice.run_batch` (used directly with this plugin's
session, because `run_batch` copies the session and would drop a custom endpoint). The handle
holds only task ARNs, so it pickles.

Results are polled with GetQuantumTask and read from S3, never through the SDK's
`AwsQuantumTask.result()`, which drives an asyncio loop (`run_until_complete` fails inside a
running loop, e.g. a Ray async actor). `result` is plain blocking code that touches no event
loop; `aresult` is the same poll for async callers, sleeping with `asyncio.sleep` and running
each HTTP call in a thread, so the caller's loop keeps turning.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from qtau.errors import (
    BackendUnavailableError,
    ExecutionError,
    InvalidTaskError,
    QtauError,
    TaskTimeoutError,
)
from qtau.executor import CircuitJob, Executor
from qtau.types import Outcome, Resource

from qtau_braket import session as sessions
from qtau_braket.names import DeviceRef, parse_arn
from qtau_braket.settings import AwsSettings, settings_for

STATES = {"CREATED": "queued", "QUEUED": "queued", "RUNNING": "running", "COMPLETED": "done",
          "FAILED": "failed", "CANCELLING": "cancelled", "CANCELLED": "cancelled"}
RESULTS_FILE = "results.json"
MAX_BATCH = 100


@attrs.frozen
class Handle:
    """A submitted batch: its task ARNs, in job order, and how each circuit was measured."""

    task_arns: tuple[str, ...]
    explicit_measure: tuple[bool, ...]
    submitted_at: float


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


class AwsDeviceExecutor(Executor):
    """One Braket device on AWS: tasks created in one batch call, results polled without asyncio."""

    def __init__(self, resource: Resource, config: Mapping[str, Any], ref: DeviceRef, settings: AwsSettings) -> None:
        super().__init__(resource, config)
        self.ref = ref
        self.settings = settings
        self.session = sessions.aws_session(settings)

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
        if job.circuit.qubit_count > self.resource.num_qubits:
            raise InvalidTaskError(
                f"the circuit needs {job.circuit.qubit_count} qubits but {self.resource.id} has {self.resource.num_qubits}",
                field="num_qubits", value=job.circuit.qubit_count, fix="use fewer qubits or a wider device",
            )

    def submit(self, jobs: Sequence[CircuitJob]) -> Handle:
        from braket.aws import AwsQuantumTask, AwsQuantumTaskBatch

        for job in jobs:
            self._check(job)
        check_available(sessions.device(self.ref, self.settings, max_age=0.0), self.resource.id)
        folder = self.destination()
        circuits = [job.circuit for job in jobs]
        arns: list[str] = []
        try:
            if len(jobs) == 1:
                task = AwsQuantumTask.create(self.session, self.ref.arn, circuits[0], folder, jobs[0].shots, quiet=True)
                arns.append(task.id)
            else:
                # max_parallel = batch size: the SDK's creators then never wait for earlier tasks to end.
                for start in range(0, len(jobs), MAX_BATCH):
                    chunk = jobs[start:start + MAX_BATCH]
                    batch = AwsQuantumTaskBatch(
                        self.session, self.ref.arn, circuits[start:start + MAX_BATCH], folder,
                        [job.shots for job in chunk], max_parallel=len(chunk), max_workers=len(chunk),
                        poll_interval_seconds=self.settings.poll_interval_s, quiet=True,
                    )
                    arns.extend(task.id for task in batch.tasks)
        except Exception as err:
            if arns:
                self._cancel_quietly(arns)
            raise sessions.classify(err, f"creating tasks on {self.ref.arn}", self.settings) from None
        explicit = tuple(any(i.operator.name == "Measure" for i in c.instructions) for c in circuits)
        return Handle(tuple(arns), explicit, time.time())

    # -- polling -------------------------------------------------------------------------------

    def _metadata(self, arn: str) -> dict[str, Any]:
        try:
            return self.session.get_quantum_task(arn)
        except Exception as err:
            raise sessions.classify(err, f"reading task {arn}", self.settings) from None

    def _fetch(self, arn: str, meta: Mapping[str, Any], explicit: bool) -> Outcome:
        from braket.tasks import GateModelQuantumTaskResult

        from qtau_braket.outcomes import common_order

        try:
            body = self.session.retrieve_s3_object_body(meta["outputS3Bucket"], f"{meta['outputS3Directory']}/{RESULTS_FILE}")
            result = GateModelQuantumTaskResult.from_string(body)
        except Exception as err:
            raise sessions.classify(err, f"reading the result of task {arn} from S3", self.settings) from None
        return Outcome(
            counts=common_order(result.measurement_counts),
            metadata={"task_arn": arn, "device_arn": self.ref.arn, "measured_qubits": list(result.measured_qubits),
                      "implicit_measure_all": not explicit,
                      "bit_order": "bit i = measured_qubits[i], bit 0 rightmost",
                      "queued_at": str(meta.get("createdAt", "")), "ended_at": str(meta.get("endedAt", ""))},
            raw=result,
        )

    def _step(self, handle: Handle, done: dict[int, Outcome], metadata) -> None:
        """One poll of every unfinished task; completed ones are fetched into `done`."""
        for i, arn in enumerate(handle.task_arns):
            if i in done:
                continue
            meta = metadata(arn)
            state = meta["status"]
            if state == "COMPLETED":
                done[i] = self._fetch(arn, meta, handle.explicit_measure[i])
            elif state == "FAILED":
                raise ExecutionError(
                    f"Braket task {arn} on {self.ref.arn} FAILED: {meta.get('failureReason', 'no reason given')}",
                    field="task_arn", value=arn, fix="see the failure reason; the same circuit fails again on retry",
                )
            elif state in ("CANCELLED", "CANCELLING"):
                raise ExecutionError(f"Braket task {arn} on {self.ref.arn} was {state.lower()}",
                                     field="task_arn", value=arn, fix="submit the task again")

    def _timeout(self, handle: Handle, timeout: float, done: dict[int, Outcome]) -> TaskTimeoutError:
        left = [a for i, a in enumerate(handle.task_arns) if i not in done]
        return TaskTimeoutError(
            f"Braket tasks on {self.ref.arn} did not finish within {timeout:g} s: {', '.join(left)}",
            field="timeout", value=timeout, fix="raise the timeout or poll_timeout_s, or cancel the tasks",
        )

    def result(self, handle: Handle, timeout: float | None = None) -> list[Outcome]:
        limit = self.settings.poll_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + limit
        done: dict[int, Outcome] = {}
        delay = min(0.05, self.settings.poll_interval_s)
        while True:
            self._step(handle, done, self._metadata)
            if len(done) == len(handle.task_arns):
                return [done[i] for i in range(len(handle.task_arns))]
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._timeout(handle, limit, done)
            time.sleep(min(delay, left))
            delay = min(delay * 2, self.settings.poll_interval_s)

    async def aresult(self, handle: Handle, timeout: float | None = None) -> list[Outcome]:
        """`result` for async callers: the event loop runs on while tasks are polled."""
        limit = self.settings.poll_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + limit
        done: dict[int, Outcome] = {}
        delay = min(0.05, self.settings.poll_interval_s)
        while True:
            await asyncio.to_thread(self._step, handle, done, self._metadata)
            if len(done) == len(handle.task_arns):
                return [done[i] for i in range(len(handle.task_arns))]
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._timeout(handle, limit, done)
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, self.settings.poll_interval_s)

    def status(self, handle: Handle) -> str:
        states = {STATES.get(self._metadata(arn)["status"], "running") for arn in handle.task_arns}
        for state in ("failed", "cancelled", "running", "queued"):
            if state in states:
                return state
        return "done"

    def _cancel_quietly(self, arns: Sequence[str]) -> bool:
        accepted = False
        for arn in arns:
            try:
                self.session.cancel_quantum_task(arn)
                accepted = True
            except Exception:  # a task that already ended cannot be cancelled; keep going
                continue
        return accepted

    def cancel(self, handle: Handle) -> bool:
        return self._cancel_quietly(handle.task_arns)


def create_executor(resource: Resource, config: Mapping[str, Any]) -> AwsDeviceExecutor:
    ref = parse_arn(resource.metadata["arn"])
    try:
        return AwsDeviceExecutor(resource, config, ref, settings_for(config, resource.metadata["region"]))
    except QtauError:
        raise
    except Exception as err:
        raise sessions.classify(err, f"opening a session for {ref.arn}") from None
