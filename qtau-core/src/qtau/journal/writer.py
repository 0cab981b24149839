"""The journal's group-commit writer: one background thread that commits queued rows in small
transactions (every `flush_interval` seconds or `max_batch` rows), and lets a caller that must see
its write on disk commit everything queued itself, without waiting for the thread to wake.

A batch that cannot be committed is never dropped silently: `raise_failure()` (called before every
later write or read) raises `JournalError` naming the file.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from qtau.errors import JournalError

Row = tuple[str, tuple]


class GroupCommitWriter:
    """Queues `(sql, params)` rows and commits them on `connection` in queue order.

    `prepare` turns a queued row into the one written (the journal pickles a task's payload there,
    off the submitting thread). `db_lock` serialises every use of the connection."""

    def __init__(self, path: Path, connection: sqlite3.Connection, db_lock: threading.Lock, *,
                 flush_interval: float, max_batch: int, prepare: Callable[[Row], Row]) -> None:
        self.path = path
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self._db = connection
        self._db_lock = db_lock
        self._prepare = prepare
        self._cond = threading.Condition()
        self._queue: list[Row] = []
        self._queued = 0
        self._committed = 0
        self._failure: BaseException | None = None
        self.closing = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._write_loop, name="qtau-journal", daemon=True)
        self._thread.start()

    def put(self, rows: Iterable[Row], durable: bool = False) -> None:
        """Queue `rows`; with `durable`, return once they are committed."""
        with self._cond:
            before = len(self._queue)
            self._queue.extend(rows)
            self._queued += len(self._queue) - before
            target = self._queued
            # Wake the writer when its queue was empty (it then gathers for one window) or when a
            # window's batch is full; a caller that waits commits its write itself.
            if before == 0 or len(self._queue) >= self.max_batch:
                self._cond.notify_all()
        if durable:
            self.wait_committed(target)

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                if not self._queue and not self.closing:
                    self._cond.wait()
                if not self._queue and self.closing:
                    return
            # A short window gathers the rows of many tasks into one transaction; a full batch
            # ends the window early. A caller waiting for its write commits it itself.
            with self._cond:
                self._cond.wait_for(lambda: self.closing or len(self._queue) >= self.max_batch,
                                    self.flush_interval)
            self._commit_queued()
            if self._failure is not None:
                return

    def _commit_queued(self, target: int | None = None) -> None:
        """Commit every queued row on this thread, in one transaction: the background writer's
        window, or a caller that must see its write on disk (a group commit with whatever else
        is queued, without waiting for the writer thread to wake). Batches are taken from the
        queue under the database lock, so they commit in queue order. With `target`, nothing is
        done when the rows up to it are committed already."""
        with self._db_lock:
            with self._cond:
                if self._failure is not None or (target is not None and self._committed >= target):
                    return
                batch, self._queue = self._queue, []
            if not batch:
                return
            try:
                self._commit(batch)
            except BaseException as err:  # kept and raised to the next caller: never silent loss
                with self._cond:
                    self._failure = err
                    self._committed += len(batch)
                    self._cond.notify_all()
                return
            with self._cond:
                self._committed += len(batch)
                self._cond.notify_all()

    def _commit(self, batch: list[Row]) -> None:
        """Write `batch` in one transaction (the caller holds the database lock)."""
        batch = [self._prepare(row) for row in batch]
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
        """Return once every row queued so far is committed."""
        with self._cond:
            target = self._queued
        self.wait_committed(target)

    def stop(self) -> None:
        """Let the thread commit what is queued and end; return once it has."""
        with self._cond:
            self.closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
