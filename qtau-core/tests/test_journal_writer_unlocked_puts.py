"""Rows put without `durable` (results, attempts, failures, from the threads settling tasks) are
appended without the writer's lock and moved to its queue, in order, by whoever takes the lock
next: none is lost, each thread's rows keep their order, a durable write still logs every row put
before it, and a row put while the writer thread sleeps wakes it. Real SQLite and a real log."""

from __future__ import annotations

import sqlite3
import threading
import time

from qtau.journal import acklog
from qtau.journal.acklog import AckLog
from qtau.journal.writer import GroupCommitWriter

INSERT = "INSERT INTO rows(name) VALUES (?)"
MARK = "UPDATE acks SET applied=? WHERE id=0"
STATEMENTS = (INSERT, MARK)


def _writer(tmp_path, flush_interval: float) -> tuple[GroupCommitWriter, sqlite3.Connection]:
    db = sqlite3.connect(tmp_path / "j.sqlite3", check_same_thread=False, isolation_level=None)
    db.execute("CREATE TABLE rows(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)")
    db.execute("CREATE TABLE acks(id INTEGER PRIMARY KEY, applied INTEGER)")
    db.execute("INSERT INTO acks VALUES (0, 0)")
    writer = GroupCommitWriter(tmp_path / "j.sqlite3", db, threading.Lock(), flush_interval=flush_interval,
                               max_batch=100_000, prepare=lambda row: row, log=AckLog(tmp_path / "j.log"),
                               statements={sql: i for i, sql in enumerate(STATEMENTS)}, mark_sql=MARK)
    writer.start()
    return writer, db


def test_rows_put_by_many_threads_are_all_logged_by_a_durable_write_and_committed_in_order(tmp_path):
    writer, db = _writer(tmp_path, flush_interval=30.0)  # the window outlasts the test: nothing commits early
    try:
        def settle(thread: int) -> None:
            for i in range(250):
                writer.put([(INSERT, (f"{thread}:{i}",))])

        threads = [threading.Thread(target=settle, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        writer.put([(INSERT, ("handed out",))], durable=True)
        logged = [params[0] for _, (_, params) in acklog.read(tmp_path / "j.log", STATEMENTS)]
        assert len(logged) == 1001 and logged[-1] == "handed out"
        writer.commit()
    finally:
        writer.stop()
    names = [name for (name,) in db.execute("SELECT name FROM rows ORDER BY id")]
    assert names == logged
    for thread in range(4):
        mine = [int(n.split(":")[1]) for n in names if n.startswith(f"{thread}:")]
        assert mine == list(range(250))


def test_a_row_put_while_the_writer_sleeps_wakes_it(tmp_path):
    """No flush and no durable write follow the put: only the writer thread can commit it."""
    writer, _ = _writer(tmp_path, flush_interval=0.01)
    db = sqlite3.connect(tmp_path / "j.sqlite3")  # a reader of its own, as `qtau jobs` would be
    try:
        for attempt in range(3):  # the writer is asleep with nothing queued before each put
            deadline = time.monotonic() + 10
            while not writer._idle and time.monotonic() < deadline:
                time.sleep(0.001)
            assert writer._idle
            writer.put([(INSERT, (f"alone {attempt}",))])
            while time.monotonic() < deadline:
                if db.execute("SELECT COUNT(*) FROM rows").fetchone()[0] == attempt + 1:
                    break
                time.sleep(0.005)
            assert db.execute("SELECT COUNT(*) FROM rows").fetchone()[0] == attempt + 1
    finally:
        writer.stop()
        db.close()
