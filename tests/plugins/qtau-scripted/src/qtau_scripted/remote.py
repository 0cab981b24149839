"""A RemoteExecutor over an in-process "provider": jobs queue for `job_delay_s`, then run on
BasicSimulator at fetch. Faults are scripted per resource: `behaviour="fail"` (the job fails at
the provider), `"hang"` (it never leaves the queue), `poll_fault="raise"|"lost"|"flaky"|"gone"` (flaky:
two of every three poll calls on the resource raise, the third answers; gone: poll raises
`JobLostError`, as a plugin does on the provider's 404), `extra_outcome=True` (fetch answers one
outcome too many),
`cancel_fault="refuse"|"raise"`, `cancel_delay_s` (a slow cancel call), `bad_ref=True` (submit
returns something that is not JSON).

The provider's records (`state.jobs`) show tests what happened: every job's state, including
`CANCELLED`, so "nothing is abandoned" can be checked the way it is on the Braket stub.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

from qtau.errors import ExecutionError, JobLostError
from qtau.executor import CircuitJob, JobState, RemoteExecutor
from qtau.types import Outcome

from qtau_scripted import script, state
from qtau_scripted.executor import ScriptedExecutor

_ids = itertools.count(1)


class ScriptedRemoteExecutor(RemoteExecutor):
    poll_interval = 0.02
    max_poll_interval = 0.2

    def __init__(self, resource, config) -> None:
        super().__init__(resource, config)
        self._sim = ScriptedExecutor(resource, config)

    def submit(self, jobs: Sequence[CircuitJob]) -> Any:
        v = script.values(self.resource)
        if v["call_delay_s"]:  # a slow create call (an HTTP round trip)
            time.sleep(min(float(v["call_delay_s"]), script.MAX_HANG_S))
        job_id = f"{self.resource.id}/job-{next(_ids)}"
        with state._lock:
            state.jobs[job_id] = {"resource": self.resource.id, "state": "QUEUED", "jobs": list(jobs),
                                  "ready_at": time.monotonic() + float(v["job_delay_s"]),
                                  "behaviour": v["behaviour"], "created": time.time()}
        if v["bad_ref"]:
            return {"job": job_id, "sdk_object": object()}
        return {"job": job_id}

    def poll(self, refs: Sequence[Any]) -> list[JobState]:
        v = script.values(self.resource)
        state.count_call(self.resource.id, "poll")
        if v["poll_fault"] == "flaky" and state.calls[(self.resource.id, "poll")] % 3:
            raise ConnectionError(f"scripted flaky poll on {self.resource.id}")
        if v["poll_fault"] == "gone":
            raise JobLostError(f"scripted: the provider of {self.resource.id} no longer knows the job")
        if v["poll_fault"] == "raise":
            raise ConnectionError(f"scripted poll failure on {self.resource.id}")
        out = []
        now = time.monotonic()
        with state._lock:
            for ref in refs:
                record = state.jobs.get(ref["job"])
                if record is None or v["poll_fault"] == "lost":
                    out.append(JobState("lost", "404: no such job"))
                    continue
                if record["state"] == "QUEUED" and record["behaviour"] != "hang" and now >= record["ready_at"]:
                    record["state"] = "FAILED" if record["behaviour"] == "fail" else "COMPLETED"
                out.append(JobState({"QUEUED": "queued", "COMPLETED": "done", "FAILED": "failed",
                                     "CANCELLED": "cancelled"}[record["state"]],
                                    "failed as scripted" if record["state"] == "FAILED" else ""))
        return out

    def fetch(self, ref: Any) -> list[Outcome]:
        with state._lock:
            record = state.jobs[ref["job"]]
        if record["state"] != "COMPLETED":
            raise ExecutionError(f"job {ref['job']} is {record['state']}, not COMPLETED")
        state.count_run(self.resource.id, len(record["jobs"]))
        with self._sim._simulator_lock:
            outcomes = self._sim._simulate(record["jobs"])
        if script.values(self.resource)["extra_outcome"]:
            outcomes = [*outcomes, outcomes[-1]]
        return outcomes

    def cancel(self, ref: Any) -> bool:
        v = script.values(self.resource)
        if v["cancel_fault"] == "raise":
            raise ConnectionError(f"scripted cancel failure on {self.resource.id}")
        if v["cancel_fault"] == "refuse":
            return False
        if v["cancel_delay_s"]:
            time.sleep(min(float(v["cancel_delay_s"]), script.MAX_HANG_S))
        with state._lock:
            record = state.jobs.get(ref["job"])
            if record is not None and record["state"] == "QUEUED":
                record["state"] = "CANCELLED"
        return True
