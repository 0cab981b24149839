"""The journal's group-commit writer: one background thread that commits queued rows in small
transactions (every `flush_interval` seconds or `max_batch` rows). A write that must survive a
crash of the process before the caller goes on is appended to the acknowledgement log
(`qtau.journal.acklog`, one copy into a mapped file) when the journal has one; without a log (a journal borrowed
by another process) the caller commits everything queued itself, without waiting for the thread.

Rows put without `durable` (each settled task's result, attempts and state, from the thread that
settled it) are appended to a deque without the writer's lock and moved into the queue, in the order
they were put, by the next holder of the lock: the writer thread, or a durable write, which thus
logs every row put before it. On LOCAL the settling threads, the submitting thread and this one
took that lock for every task, and a thread that found it held gave up Python's lock and waited for
it back (one by one with the journal on: +22-32% against +15-20%, alternating runs of
benchmarks/journal.py's loops).

A batch that cannot be committed is never dropped silently: `raise_failure()` (called before every
later write or read) raises `JournalError` naming the file.
"""

from __future__ import annotations

import collections
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from qtau.errors import JournalError
from qtau.journal.acklog import AckLog, encode

Row = tuple[str, tuple]


class GroupCommitWriter:
    """Queues `(sql, params)` rows and commits them on `connection` in queue order.

    `prepare` turns a queued row into the one written (the journal pickles a task's payload there;
    a prepared row is prepared again at no cost); `prepare_batch`, given a transaction's rows,
    prepares them all (the journal skips the payloads nobody will need). `db_lock` serialises
    every use of the connection.

    Rows are numbered in queue order from `first` on: `_queued` rows were queued, `_taken` taken
    into a transaction, `_committed` committed, `_logged` appended to the log (or committed). With
    a `log`, each transaction also sets `mark_sql`'s parameter to the number of its last row, so
    opening the journal again applies only the log's rows SQLite has not got."""

    def __init__(self, path: Path, connection: sqlite3.Connection, db_lock: threading.Lock, *,
                 flush_interval: float, max_batch: int, prepare: Callable[[Row], Row],
                 prepare_batch: Callable[[list[Row]], list[Row]] | None = None, log: AckLog | None = None,
                 statements: dict[str, int] | None = None, mark_sql: str = "", first: int = 0) -> None:
        self.path = path
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self._db = connection
        self._db_lock = db_lock
        self._prepare = prepare
        self._prepare_batch = prepare_batch or (lambda rows: [prepare(row) for row in rows])
        self.log = log
        self._statements = statements or {}
        self._mark_sql = mark_sql
        self._cond = threading.Condition()
        self._queue: list[Row] = []
        #: Rows put without `durable`, not yet moved to `_queue` (under `_cond`, by `_drain`): a
        #: thread settling a task appends them without taking the lock.
        self._incoming: collections.deque[Row] = collections.deque()
        #: The writer thread waits for rows with nothing queued (a put must wake it).
        self._idle = False
        #: The rows of the transaction in progress (numbered `_committed + 1` to `_taken`).
        self._in_transaction: list[Row] = []
        self._queued = self._taken = self._committed = self._logged = first
        self._failure: BaseException | None = None
        self.closing = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._write_loop, name="qtau-journal", daemon=True)
        self._thread.start()

    def put(self, rows: Iterable[Row], durable: bool = False) -> None:
        """Queue `rows`; with `durable`, return once they survive a crash of the process: appended
        to the log with every row queued before them and not yet taken, or (no log) committed."""
        rows = list(rows)
        if not durable:
            self.raise_failure()
            self._incoming.extend(rows)
            if self._idle or len(self._incoming) >= self.max_batch:
                with self._cond:
                    self._cond.notify_all()
            return
        if self.log is not None:
            rows = [self._prepare(row) for row in rows]  # outside the lock: a payload is pickled here
        with self._cond:
            self.raise_failure()
            self._drain()
            before = len(self._queue)
            self._queue.extend(rows)
            self._queued += len(rows)
            target = self._queued
            if self.log is not None:
                self._log_queued()
            # Wake the writer when its queue was empty (it then gathers for one window) or when a
            # window's batch is full.
            if before == 0 or len(self._queue) >= self.max_batch:
                self._cond.notify_all()
        if self.log is None:
            self.wait_committed(target)

    def _drain(self) -> None:
        """Move the rows put without the lock to the queue, in the order they were put (the
        caller holds `_cond`)."""
        incoming = self._incoming
        if incoming:
            moved = [incoming.popleft() for _ in range(len(incoming))]
            self._queue.extend(moved)
            self._queued += len(moved)

    def _log_queued(self) -> None:
        """Append every row not in the log yet and not committed, as one frame (the caller holds
        `_cond`): those of a transaction still in progress, then the queued ones. A row a later
        durable row depends on (a result before its hand-out) may sit in that transaction; were it
        left out, a crash before the commit would keep the hand-out and lose the result (and the
        cost it carries). Applying a logged row that the transaction did commit is skipped at
        replay (`acks.applied`). A write that fails leaves the rows unacknowledged and the writer
        failed: JournalError."""
        self._drain()
        start = max(self._logged, self._committed)
        # The transaction's rows as the log needs them (prepared copies: the writer prepares its
        # own list, and a row prepared twice is the same row).
        running = [self._prepare(row) for row in self._in_transaction[start - self._committed:]]
        queued_from = max(start, self._taken) - self._taken
        for i in range(queued_from, len(self._queue)):
            self._queue[i] = self._prepare(self._queue[i])
        pending = running + self._queue[queued_from:]
        if not pending:
            return
        try:
            self.log.append(self._queued, encode(start + 1, pending, self._statements))
        except BaseException as err:
            # The rows stay queued but are never committed: the writer stops at the failure.
            self._failure = err
            self._queue = self._queue[:queued_from]
            self._queued = max(start, self._taken)
            self._cond.notify_all()
            self.raise_failure()
        self._logged = self._queued

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                self._drain()
                if not self._queue and not self.closing:
                    self._idle = True
                    if not self._incoming:  # looked at after _idle is set: a put now wakes us
                        self._cond.wait()
                    self._idle = False
                    self._drain()
                if not self._queue and self.closing:
                    return
            # A short window gathers the rows of many tasks into one transaction; a full batch
            # ends the window early. A caller waiting for its write commits it itself.
            with self._cond:
                self._cond.wait_for(lambda: self.closing or len(self._queue) + len(self._incoming) >= self.max_batch,
                                    self.flush_interval)
            self._commit_queued()
            if self._failure is not None:
                return

    def _commit_queued(self, target: int | None = None) -> None:
        """Commit every queued row on this thread, in one transaction: the background writer's
        window, or a caller that must see its write in SQLite (a group commit with whatever else
        is queued, without waiting for the writer thread to wake). Batches are taken from the
        queue under the database lock, so they commit in queue order. With `target`, nothing is
        done when the rows up to it are committed already."""
        with self._db_lock:
            with self._cond:
                if self._failure is not None or (target is not None and self._committed >= target):
                    return
                self._drain()
                batch, self._queue = self._queue, []
                self._in_transaction = batch
                self._taken += len(batch)
                last = self._taken
            if not batch:
                return
            try:
                self._commit(batch, last)
            except BaseException as err:  # kept and raised to the next caller: never silent loss
                with self._cond:
                    self._failure = err
                    self._in_transaction = []
                    self._committed = last
                    self._cond.notify_all()
                return
            with self._cond:
                self._committed = last
                self._in_transaction = []
                self._logged = max(self._logged, last)
                if self.log is not None:
                    try:
                        self.log.applied(last)
                    except OSError as err:
                        self._failure = err
                self._cond.notify_all()

    def _commit(self, batch: list[Row], last: int) -> None:
        """Write `batch` (its last row numbered `last`) in one transaction (the caller holds the
        database lock)."""
        batch = self._prepare_batch(batch)
        if self.log is not None:
            batch.append((self._mark_sql, (last,)))
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            start = 0
            while start < len(batch):
                sql = batch[start][0]
                end = start
                while end < len(batch) and batch[end][0] == sql:
                    end += 1
                db.executemany(sql, [params for _, params in batch[start:end]])
                start = end
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def wait_committed(self, target: int) -> None:
        self._commit_queued(target)
        self.raise_failure()

    def raise_failure(self) -> None:
        if self._failure is not None:
            err = self._failure
            raise JournalError(
                f"the journal {self.path} could not be written: {type(err).__name__}: {err}", path=str(self.path),
                field="working_directory", value=str(self.path.parent),
                fix="check free disk space and permissions of the working directory, then start a new service "
                "on it to recover",
            )

    def flush(self) -> None:
        """Return once every row queued so far survives a crash of the process: appended to the
        log (and the rows a transaction in progress holds, committed), or without a log committed."""
        if self.log is None:
            self.commit()
            return
        with self._cond:
            self.raise_failure()
            self._log_queued()
            taken = self._taken
            self._cond.wait_for(lambda: self._committed >= taken or self._failure is not None)
        self.raise_failure()

    def commit(self) -> None:
        """Return once every row queued so far is committed to SQLite (for readers)."""
        with self._cond:
            self._drain()
            target = self._queued
        self.wait_committed(target)

    @property
    def drained(self) -> bool:
        """Every row queued is committed and no write failed."""
        with self._cond:
            self._drain()
            return self._failure is None and self._committed == self._queued

    def stop(self) -> None:
        """Let the thread commit what is queued and end; return once it has."""
        with self._cond:
            self.closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
