"""What a service writes to its journal (`qtau.journal.recovery` reads it back for `recover()`).

The journal itself (`qtau.journal.store`) is storage; this module is the service's side of it:
- at submission, each task (with the task itself pickled as the payload for running it again),
  on disk (the acknowledgement log) before the submission returns unless the service was created
  with `durable=False`;
- for remote attempts, from the tracker in this process: a durable `starting` record before the
  paid create, then the provider's job reference as soon as it answers (so a crash while a job
  waits at the provider still knows the job);
- at settlement, each result or failure with its attempts;
- when results are handed to the user, that they were (durably, before they are returned).

A provider job an earlier service started and nobody saw end keeps its quoted price reserved in
this service's budgets (`carried`) until `recover()` re-attaches it and it settles.

`recover()` (`qtau.journal.recovery`) then returns handles for what an earlier service submitted and never handed out:
finished tasks from their journaled results, remote jobs re-attached by their job reference (never
resubmitted), creates whose answer was lost sent again as the same try (Braket's clientToken makes
it the same task), and unfinished local tasks run again.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtau.errors import (
    JournalError,
    QtauError,
    TaskCancelledError,
)
from qtau.journal.store import Journal, journal_path, open_journal
from qtau.packing import CompactForms
from qtau.payloads import TaskFailure
from qtau.types import QuantumTask, Result

log = logging.getLogger("qtau")

#: Journals open in this process, by path: how the in-process tracker finds a task's journal.
_live: dict[str, Journal] = {}
_live_lock = threading.Lock()
#: Journals services of this process own, by path: [journal, services using it, ids in flight].
#: A second service on the same working_directory shares the first one's journal (one process,
#: one journal): the file lock stays with this process until the last of them closes.
_owned: dict[str, list] = {}
_owned_lock = threading.RLock()  # held across open/share/close, so no one shares a closing journal


def register(journal: Journal) -> str:
    key = str(journal.path)
    with _live_lock:
        _live[key] = journal
    return key


def unregister(key: str) -> None:
    with _live_lock:
        _live.pop(key, None)


def journal_for(key: str | None) -> Journal | None:
    """The journal a payload names: the service's own in its process (LOCAL), else borrowed for
    writing (the Ray tracker actor, which runs on the driver's node). None when unreachable: the
    driver then journals the attempts when their results come back."""
    if key is None:
        return None
    with _live_lock:
        found = _live.get(key)
        if found is None:
            try:
                found = _live[key] = Journal.borrow(key)
            except QtauError:
                return None
        return found


def task_blob(task: QuantumTask, forms: CompactForms | None = None) -> bytes | None:
    """The task pickled for running it again after a crash, its circuit in a plugin's compact form
    where one has it (`forms`); None when it cannot be pickled (a lambda, a QNode); the journal also
    drops a blob that holds a known secret."""
    try:
        return (forms or CompactForms()).pack(task)
    except Exception:
        return None


class ServiceJournal:
    """One service's writes to its journal.

    A write that fails (a full disk) after a task was accepted never costs the user a result: the
    outcome stays in memory and is handed out, the failure is logged once, and later submissions
    are refused with the JournalError (they could not be recovered)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.key = register(journal)
        with _owned_lock:
            entry = _owned.setdefault(self.key, [journal, 0, set()])
            entry[1] += 1
        #: Task ids submitted by a live service of this process and not settled yet: shared by
        #: the services on this journal, so `recover()` never runs again what one still runs.
        self.in_flight: set[str] = entry[2]
        self._closed = False
        self._lock = threading.Lock()
        self._reported = False
        #: A submission was refused with the journal's JournalError: the user has been told.
        self._refused = False
        #: The plugins' compact forms of circuits in task payloads (the service sets them).
        self.forms = CompactForms()
        #: what an earlier service left and this one may recover: tasks not handed out when the
        #: journal was opened, less those this service submitted again or recovered already
        try:
            earlier = self.journal.tasks()
        except BaseException:
            self.close()  # the lock is let go: the error names the journal's problem
            raise
        self._recoverable = {t.task_id for t in earlier if not t.handed_out}
        #: (resource id, cost, currency) of every priced attempt: spend survives a restart
        self.spent = [(a.resource_id, a.cost, a.currency or "USD") for t in earlier for a in t.attempts if a.cost]
        #: (task id, resource id, price, currency) of provider jobs started and never seen to end:
        #: their money stays reserved (they may still bill) until a re-attached job settles it
        self.carried = [(t.task_id, t.last_attempt.resource_id, t.last_attempt.quote,
                         t.last_attempt.quote_currency or "USD")
                        for t in earlier if not t.finished and (t.remote or t.create_unsettled)
                        and t.last_attempt.quote]

    def recoverable(self, task_id: str) -> bool:
        """Whether `recover()` may take this task now (once): never a task this service submitted."""
        with self._lock:
            if task_id in self._recoverable:
                self._recoverable.discard(task_id)
                return True
            return False

    def _report(self, err: JournalError) -> None:
        """A write the user cannot act on any more (a result, a hand-out) failed: say so once."""
        with self._lock:
            first, self._reported = not self._reported, True
        if first:
            log.error("%s; results stay in memory and are handed out, but are no longer journaled: "
                      "new submissions are refused until the journal can be written", err)

    @classmethod
    def open(cls, working_directory: str, forms: CompactForms | None = None) -> ServiceJournal:
        """The service's journal of `working_directory`: the one a live service of this process
        already holds (shared), else opened and locked (JournalLockedError when another live
        process holds it). `forms`: the plugins' compact forms for the tasks' payloads."""
        key = str(journal_path(Path(working_directory).expanduser()))
        with _owned_lock:
            entry = _owned.get(key)
            journal = cls(entry[0] if entry is not None else open_journal(working_directory))
        journal.forms = forms or CompactForms()
        return journal

    def first_attempt(self, task: QuantumTask, tries: int = 1, at_least: int = 1) -> int:
        """The number of the next attempt of `task`: one past every attempt journaled for it, and
        `at_least`. The `tries` numbers from it on are taken (another process may journal them:
        the Ray tracker actor), so a later submission of the task is numbered past them."""
        first = max(at_least, self.journal.next_attempt(task.task_id))
        self.journal.reserve_attempts(task.task_id, first + tries - 1)
        return first

    def submitted(self, task: QuantumTask, submitted_at: float, durable: bool = True,
                  payload: Callable[[], bytes | None] | None = None) -> None:
        """Journal a submission. Durable by default: the call returns once the task is in the
        journal's acknowledgement log (one copy into memory, no commit), so an acknowledged task
        survives a crash of the driver. `payload` makes what recovery reads back (default: the
        task pickled; a cut task's is its plan and pieces, `qtau.cutting.cut_task`). Raises
        JournalError when the journal cannot be written."""
        if task.task_id in self._recoverable:  # rare (a recovered id submitted again): no lock otherwise
            with self._lock:
                self._recoverable.discard(task.task_id)
        # A set's add and discard are atomic (one operation under the interpreter's lock), and
        # recovery only asks for membership: no lock per task.
        self.in_flight.add(task.task_id)
        try:
            self.journal.record_task(task, submitted_at=submitted_at,
                                     payload=payload or (lambda: task_blob(task, self.forms)), durable=durable)
        except JournalError:
            self._refused = True
            raise

    def settled(self, task_id: str, outcome: Any, first: int = 1) -> None:
        """A submission ended: its result or failure, with its attempts numbered from `first`."""
        try:
            if isinstance(outcome, Result):
                self.journal.record_result(outcome, first_attempt=first)
            elif isinstance(outcome, (TaskFailure, BaseException)):
                error = outcome.error if isinstance(outcome, TaskFailure) else outcome
                cancelled = isinstance(error, (TaskCancelledError, concurrent.futures.CancelledError))
                state = "cancelled" if cancelled else "failed"
                self.journal.record_failure(task_id, error, state=state, first_attempt=first)
        except JournalError as err:
            self._report(err)
        finally:
            self.in_flight.discard(task_id)

    def handed_out(self, task_ids: list[str]) -> None:
        """Mark results handed to the user, durably (one log frame for the call), so a crash right
        after `get_results` returned does not run them again at recovery."""
        if task_ids:
            try:
                self.journal.mark_handed_out(task_ids, durable=True)
            except JournalError as err:
                self._report(err)

    def close(self) -> None:
        """Commit what is queued and let go of the journal; the last service of this process
        using it closes it (and releases the lock). A write failure already reported is not
        raised again, nor one a refused submission told the user of (a full disk's)."""
        with _owned_lock:
            if self._closed:
                return
            self._closed = True
            entry = _owned.get(self.key)
            last = entry is None or entry[1] <= 1
            if entry is not None:
                entry[1] -= 1
                if last:
                    del _owned[self.key]
            if not last:
                return
            unregister(self.key)
            try:
                self.journal.close()
            except JournalError as err:
                if not (self._reported or self._refused):
                    raise
                log.debug("journal closed after the reported failure: %s", err)


# -- remote attempts, from the tracker -------------------------------------------------------------


def attempt_starting(key: str | None, task_id: str, number: int, resource_id: str, provider: str,
                     quote: float = 0.0, currency: str = "USD") -> None:
    journal = journal_for(key)
    if journal is not None:
        # Durable: a crash right after the create still knows which try it was (same token again),
        # and what was reserved for it (a recovering service reserves it again until the job ends).
        journal.record_attempt(task_id, number, resource_id, provider, state="starting", quote=quote,
                               quote_currency=currency, durable=True)


def attempt_submitted(key: str | None, task_id: str, number: int, job_ref: Any) -> None:
    journal = journal_for(key)
    if journal is not None:
        journal.update_attempt(task_id, number, state="submitted", job_ref=job_ref, durable=True)


# -- recovery ---------------------------------------------------------------------------------------
