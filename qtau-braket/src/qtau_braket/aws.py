"""Braket devices on AWS (QPUs and on-demand simulators) as a RemoteExecutor.

`submit` checks the device is online and inside an availability window, then creates the tasks
in one call: a single task through `AwsQuantumTask.create`, a batch through
`AwsQuantumTaskBatch` (the machinery of `AwsDevice.run_batch`, used directly with this plugin's
session because `run_batch` copies the session and would drop a custom endpoint). It returns a
JSON job reference holding the task ARNs, so core's tracker (and a journal) can poll, fetch,
cancel and re-attach them. No call here waits for a queue: the SDK's `result()`, which drives an
asyncio loop, is never used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qtau.errors import (
    BackendUnavailableError,
    CancelRefusedError,
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
MAX_BATCH = 100


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
    order, whether each circuit measured explicitly, and each task's width (so idle qubits that
    Braket does not measure still read 0 in the counts).
    """

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
                raise sessions.classify(err, "finding the default Braket results bucket", self.settings) from err
        return bucket, self.settings.prefix

    def _check(self, job: CircuitJob) -> None:
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
        from braket.aws import AwsQuantumTask, AwsQuantumTaskBatch

        from qtau_braket.outcomes import explicit_measurement

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
                self._cancel_all(arns)
            raise sessions.classify(err, f"creating tasks on {self.ref.arn}", self.settings) from None
        return {"arns": arns, "explicit": [explicit_measurement(c) for c in circuits],
                "widths": [job.width for job in jobs]}

    # -- polling -------------------------------------------------------------------------------

    def _metadata(self, arn: str) -> dict[str, Any] | None:
        """GetQuantumTask's answer, or None when AWS no longer knows the task (404)."""
        try:
            return self.session.get_quantum_task(arn)
        except Exception as err:
            code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                return None
            raise sessions.classify(err, f"reading task {arn}", self.settings) from None

    def _state(self, ref: Mapping[str, Any]) -> JobState:
        states = []
        for arn in ref["arns"]:
            meta = self._metadata(arn)
            if meta is None:
                return JobState("lost", f"AWS does not know task {arn}")
            state = STATES.get(meta["status"], "running")
            if state == "failed":
                return JobState("failed", f"Braket task {arn} FAILED: {meta.get('failureReason', 'no reason given')}")
            states.append(state)
        return JobState(min(states, key=PRECEDENCE.index) if states else "done")

    def poll(self, refs: Sequence[Any]) -> list[JobState]:
        return [self._state(ref) for ref in refs]

    def _fetch(self, arn: str, explicit: bool, width: int | None) -> Outcome:
        from braket.tasks import GateModelQuantumTaskResult

        from qtau_braket.outcomes import counts_of

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
            metadata={"task_arn": arn, "device_arn": self.ref.arn, "measured_qubits": measured,
                      "implicit_measure_all": not explicit,
                      "bit_order": "bit i = measured_qubits[i], bit 0 rightmost",
                      "queued_at": str(meta.get("createdAt", "")), "ended_at": str(meta.get("endedAt", ""))},
            raw=result,
        )

    def fetch(self, ref: Any) -> list[Outcome]:
        widths = ref.get("widths") or [None] * len(ref["arns"])
        return [self._fetch(arn, explicit, width)
                for arn, explicit, width in zip(ref["arns"], ref["explicit"], widths, strict=True)]

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
        refused = self._cancel_all(ref["arns"])
        if refused:
            raise CancelRefusedError(
                f"AWS refused to cancel Braket tasks {', '.join(refused)} on {self.ref.arn}", field="task_arn",
                value=refused[0], fix="cancel them in the Braket console; they may still run and bill",
            )
        return True


def create_executor(resource: Resource, config: Mapping[str, Any]) -> AwsDeviceExecutor:
    ref = parse_arn(resource.metadata["arn"])
    try:
        return AwsDeviceExecutor(resource, config, ref, settings_for(config, resource.metadata["region"]))
    except QtauError:
        raise
    except Exception as err:
        raise sessions.classify(err, f"opening a session for {ref.arn}") from None
