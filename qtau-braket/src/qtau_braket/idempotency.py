"""Billed at most once: every CreateQuantumTask carries a `clientToken` QTAU derives itself.

Braket's CreateQuantumTask is idempotent on `clientToken`: a create whose token the account used
before answers with the task that token made, and makes no second task. botocore fills in a
random token per API call, which covers botocore's own retries of that call but not a create
QTAU sends again: after the call gave up on a timeout, or after a crash, by a service recovering
from the journal. So the token here is derived from what identifies one try of one task,

    task id, attempt number (1-based, from the service/journal), device ARN, and the request itself,

and sending that try again, from this process or another, gives the same token and so the same
task. The request body is part of it so a task id reused for a changed circuit or shot count can
never be answered with the old task. A new attempt (failover, a resubmission) has a new number
and so a new token: it is a new task on purpose.

`AwsQuantumTask.create` has no parameter for the token, so each create runs with a thin view of
the session whose `create_quantum_task` adds it; everything else goes to the real session.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

PREFIX = "qtau-"
#: Braket's limit for clientToken (String64).
MAX_TOKEN = 64


def client_token(task_id: str, attempt: int, request: Mapping[str, Any]) -> str:
    """The clientToken for one try of one task: deterministic, 64 characters at most."""
    body = {k: v for k, v in request.items() if k != "clientToken"}
    material = json.dumps({"task": task_id, "attempt": int(attempt), "request": body}, sort_keys=True, default=str)
    return PREFIX + hashlib.sha256(material.encode()).hexdigest()[: MAX_TOKEN - len(PREFIX)]


class TokenSession:
    """The plugin's AwsSession, except that `create_quantum_task` sends the derived clientToken."""

    def __init__(self, session: Any, task_id: str, attempt: int) -> None:
        self._session = session
        self._task_id = task_id
        self._attempt = attempt
        self.client_token: str | None = None

    def create_quantum_task(self, **request: Any) -> str:
        self.client_token = client_token(self._task_id, self._attempt, request)
        return self._session.create_quantum_task(**request, clientToken=self.client_token)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def create_task(session: Any, device_arn: str, circuit: Any, folder: tuple[str, str], shots: int,
                task_id: str, attempt: int) -> tuple[str, str]:
    """Create one Braket task for one try of one QTAU task; returns (task ARN, clientToken)."""
    from braket.aws import AwsQuantumTask

    view = TokenSession(session, task_id, attempt)
    task = AwsQuantumTask.create(view, device_arn, circuit, folder, shots, quiet=True)
    return task.id, view.client_token or ""


def create_tasks(session: Any, device_arn: str, items: Sequence[tuple[Any, int, str, int]],
                 folder: tuple[str, str], created: list[str], max_workers: int = 10) -> list[tuple[str, str]]:
    """Create a task per (circuit, shots, task_id, attempt), in parallel, in order.

    ARNs land in `created` as they come, so a caller whose batch fails part way can cancel them.
    The first error is raised once every create has ended."""
    def one(item: tuple[Any, int, str, int]) -> tuple[str, str]:
        circuit, shots, task_id, attempt = item
        made = create_task(session, device_arn, circuit, folder, shots, task_id, attempt)
        created.append(made[0])
        return made

    if len(items) == 1:
        return [one(items[0])]

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(items))), thread_name_prefix="braket-create") as pool:
        futures = [pool.submit(one, item) for item in items]
        errors = [f.exception() for f in futures]
    for err in errors:
        if err is not None:
            raise err
    return [f.result() for f in futures]
