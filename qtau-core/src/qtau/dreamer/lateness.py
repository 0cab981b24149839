"""How far this service's own tasks on each resource are behind the completion QDREAMER expected.

Providers report the jobs waiting in their queue, not the one running (IBM's `pending_jobs`,
Braket's queue depth), and they report it once per cache TTL. A resource that reports an empty
queue may be running another user's long job, and QDREAMER, counting only its own in-flight
tasks there (`(in-flight + 1) x run time`), would stack task after task behind that job until the
next report, and after it too (the report still says: nothing waiting).

QDREAMER does see its own tasks: when each was placed, the completion it expected then, and when
it finished. When the oldest of them on a resource is past its expected completion, something the
reports do not show is ahead of it, and every task placed there now waits at least that long
too. So the lateness of the oldest in-flight task is added to the resource's expected completion
(see `ranking.Plan.scored`): the resource stops taking new tasks while it is stuck and takes them
again as soon as its tasks finish, as a live queue reading would show, without asking the provider
more often. A task counted in flight without an expectation (re-attached after recovery, moved by
admission) is never late.

Tasks on one resource are assumed to finish in the order they started (one provider queue); a
task that finishes out of order ends the oldest expectation, which errs towards "not late".

How late a resource's tasks end once they are late is learned by `dreamer.wait_model`, from the
expectation `finished` hands back; lateness now is one input of its estimate. `finished` hands it
back only for a task that was first in line among this service's tasks there when it was placed:
a task placed behind others of ours waits for whatever they wait for, so its lateness repeats
theirs (one hidden job seen three times would count as three) and says nothing about how often
the reports miss a wait.
"""

from __future__ import annotations

import math
import threading
from collections import deque


class Lateness:
    """Expected completion times (on QDREAMER's clock) of this service's in-flight tasks, per resource."""

    def __init__(self) -> None:
        #: resource id -> (expected completion, first in line when placed) per in-flight task, oldest first
        self._due: dict[str, deque[tuple[float, bool]]] = {}
        #: resource id -> in-flight tasks there without an expectation
        self._unknown: dict[str, int] = {}
        self._lock = threading.Lock()
        #: No task is late before this time (-inf: unknown, look); every decision asks `late`, and
        #: this keeps it from walking every resource while all tasks are on time.
        self._next_due = -math.inf

    def started(self, resource_id: str, now: float, expected_s: float | None = None, n: int = 1) -> None:
        """`n` tasks went to the resource at `now`, each expected to complete `expected_s` later
        (None: no expectation, never counted late)."""
        due = now + expected_s if expected_s is not None and math.isfinite(expected_s) else math.inf
        with self._lock:
            queue = self._due.setdefault(resource_id, deque())
            first = not queue
            queue.extend((due, first and k == 0) for k in range(n))
            if due == math.inf:
                self._unknown[resource_id] = self._unknown.get(resource_id, 0) + n
            self._next_due = min(self._next_due, due)

    def finished(self, resource_id: str) -> float:
        """One task on the resource ended: its oldest expectation goes. Returns when that task was
        expected to complete (inf: without an expectation, none was in flight, or it was placed
        behind others of this service's tasks there: see the module docstring)."""
        with self._lock:
            queue = self._due.get(resource_id)
            if not queue:
                return math.inf
            due, first = queue.popleft()
            if due == math.inf:
                self._unknown[resource_id] -= 1
            if not queue:
                del self._due[resource_id]
                self._unknown.pop(resource_id, None)
            self._next_due = -math.inf  # the resource's oldest task changed
            return due if first else math.inf

    def ahead(self, now: float) -> dict[str, float]:
        """Seconds until the last in-flight task of this service on each resource is expected to
        complete (0 once it is due): how long a task placed there now waits for the ones already
        sent. Resources with a task without an expectation are left out (the caller counts them
        at a full run time each)."""
        with self._lock:
            return {rid: max(queue[-1][0] - now, 0.0) for rid, queue in self._due.items()
                    if not self._unknown.get(rid)}

    def late(self, now: float) -> dict[str, float]:
        """Seconds by which the oldest in-flight task of each resource is past its expected
        completion; resources whose tasks are on time are left out."""
        with self._lock:
            if now < self._next_due:
                return {}
            late = {rid: now - queue[0][0] for rid, queue in self._due.items() if queue[0][0] < now}
            if not late:
                self._next_due = min((queue[0][0] for queue in self._due.values()), default=math.inf)
            return late
