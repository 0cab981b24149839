"""What the journal gives back: tasks, their attempts and results as frozen records of plain values
(`qtau.journal.store.Journal`'s queries make them; `qtau.journal.recovery` reads them)."""

from __future__ import annotations

import sqlite3
from typing import Any

import attrs

from qtau.journal.codec import from_json
from qtau.journal.schema import UNFINISHED


@attrs.frozen
class AttemptRecord:
    """One try of a task on one resource, as journaled. `job_ref` is the provider's, decoded."""

    task_id: str
    attempt: int
    resource_id: str
    provider: str
    state: str
    started_at: float
    job_ref: Any = None
    ended_at: float | None = None
    cost: float | None = None
    currency: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    #: The price reserved for this attempt when it started (a remote create): what a recovering
    #: service keeps reserved in its budgets until the attempt's job ends.
    quote: float | None = None
    quote_currency: str | None = None


@attrs.frozen
class TaskRecord:
    """A journaled task, its attempts in order, and whether a service handed its outcome out."""

    task_id: str
    submitted_at: float
    summary: dict[str, Any]
    circuit_hash: str | None
    shots: int
    constraints: dict[str, Any]
    state: str
    handed_out: bool
    attempts: tuple[AttemptRecord, ...] = ()
    payload: bytes | None = attrs.field(default=None, repr=False)

    @property
    def last_attempt(self) -> AttemptRecord | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def finished(self) -> bool:
        return self.state not in UNFINISHED

    @property
    def remote(self) -> bool:
        """The last attempt went to a provider that answered with a job reference."""
        last = self.last_attempt
        return last is not None and last.job_ref is not None

    @property
    def create_unsettled(self) -> bool:
        """The last attempt was journaled `starting` and no job reference followed: a create may
        have reached the provider, whose answer was lost with the process."""
        last = self.last_attempt
        return last is not None and last.job_ref is None and last.state == "starting"


@attrs.frozen
class ResultRecord:
    """A journaled result: what a recovering service turns back into a `Result` (no `.raw`)."""

    task_id: str
    resource_id: str
    shots: int
    counts: dict[str, int]
    values: Any
    metadata: dict[str, Any]
    cost: float
    currency: str
    finished_at: float


def attempt_of(row: sqlite3.Row) -> AttemptRecord:
    """The record of one row of the `attempts` table."""
    return AttemptRecord(
        task_id=row["task_id"], attempt=row["attempt"], resource_id=row["resource_id"], provider=row["provider"],
        state=row["state"], started_at=row["started_at"], job_ref=from_json(row["job_ref"]),
        ended_at=row["ended_at"], cost=row["cost"], currency=row["currency"], error_type=row["error_type"],
        error_message=row["error_message"], quote=row["quote"], quote_currency=row["quote_currency"],
    )
