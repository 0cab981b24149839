"""A durable write logs the rows of a transaction still in progress too.

The writer thread takes queued rows into a transaction and commits them; a durable row (a
hand-out) written meanwhile went to the acknowledgement log alone, so a crash before that commit
kept the hand-out and lost the rows before it (a result and its cost: a recovered service counted
9 USD of 10 spent). Here the transaction is held open by the writer's own `prepare_batch` hook,
deterministically, and the log is read back as recovery reads it."""

from __future__ import annotations

import sqlite3
import threading

from qtau.journal import acklog
from qtau.journal.acklog import AckLog
from qtau.journal.writer import GroupCommitWriter

INSERT = "INSERT INTO rows(name) VALUES (?)"
MARK = "UPDATE acks SET applied=? WHERE id=0"
STATEMENTS = (INSERT, MARK)


def test_a_durable_write_logs_the_rows_of_a_transaction_in_progress(tmp_path):
    db = sqlite3.connect(tmp_path / "j.sqlite3", check_same_thread=False, isolation_level=None)
    db.execute("CREATE TABLE rows(name TEXT)")
    db.execute("CREATE TABLE acks(id INTEGER PRIMARY KEY, applied INTEGER)")
    db.execute("INSERT INTO acks VALUES (0, 0)")
    in_transaction, release = threading.Event(), threading.Event()

    def held(rows):
        in_transaction.set()
        release.wait(10)
        return list(rows)

    log_path = tmp_path / "j.log"
    writer = GroupCommitWriter(tmp_path / "j.sqlite3", db, threading.Lock(), flush_interval=0.001, max_batch=1000,
                               prepare=lambda row: row, prepare_batch=held, log=AckLog(log_path),
                               statements={sql: i for i, sql in enumerate(STATEMENTS)}, mark_sql=MARK)
    writer.start()
    try:
        writer.put([(INSERT, ("result",))])  # not durable: the writer takes it into a transaction
        assert in_transaction.wait(10)
        writer.put([(INSERT, ("handed out",))], durable=True)  # returns while that transaction is open
        logged = [params[0] for _, (_, params) in acklog.read(log_path, STATEMENTS)]
        assert logged == ["result", "handed out"], "the log must hold what the durable row depends on"
    finally:
        release.set()
        writer.stop()
    assert [name for (name,) in db.execute("SELECT name FROM rows")] == ["result", "handed out"]
