"""The journal: what a service submitted, tried, paid and got, durable in its working directory.

One SQLite file (`qtau-journal.sqlite3`, standard library `sqlite3`, WAL) per working directory,
owned by one live service at a time (`journal_lock`). A service started later on the same
directory reads it to recover what an earlier one submitted and never handed out: remote jobs by
their provider job reference, local tasks to run again. Without a working directory a service
keeps no journal: nothing is written behind the user's back to a per-user folder.

Writes are queued and committed by one background thread in small transactions (every
`flush_interval` seconds or `max_batch` rows). A write that must survive a crash of the process
before the caller goes on (a submission the service acknowledges, the attempt record before a paid
remote create, the hand-out of results) passes `durable=True`: it is copied into the
acknowledgement log (`qtau.journal.acklog`, `qtau-journal.log`, a shared memory mapping of a file)
with every row queued before it, and reaches SQLite with the writer's next transaction; opening
the journal again applies what the log holds and SQLite lacks. A borrowed journal (another
process's) has no log: there the caller commits everything queued itself. `persist()` does the
same for every queued write; `flush()` commits every queued write to SQLite (what readers see);
`close()` flushes and removes the log. A write that cannot be written is never dropped silently:
the next call raises `JournalError`. A file that is not a QTAU journal, or one missing a table, is refused
(`JournalCorruptError`) and never written to.

Only plain values are written: task fields are summarised (circuit type, width, gate set, shots,
constraints, pin), job references and results go through `to_json`, which masks `Secret`s, and
error messages through `redact()`. Credentials have no column.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from qtau.errors import (
    JournalCorruptError,
    JournalError,
    JournalLockedError,
    JournalVersionError,
    QtauError,
)
from qtau.journal import acklog
from qtau.journal.acklog import AckLog
from qtau.journal.codec import (
    ERROR_CHARS,
    circuit_hash,
    from_json,
    holds_secret,
    redacted_error,
    task_constraints,
    task_summary,
    to_json,
)
from qtau.journal.lock import JournalLock
from qtau.journal.records import AttemptRecord, ResultRecord, TaskRecord, attempt_of
from qtau.journal.schema import (
    ATTEMPT_STATES,
    FILE_NAME,
    LOCK_NAME,
    LOG_NAME,
    SCHEMA,
    SCHEMA_VERSION,
    UNFINISHED,
    check_tables,
    journal_path,
    upgrade,
)
from qtau.journal.writer import GroupCommitWriter
from qtau.secrets import redact

_UPSERT_TASK = (
    "INSERT INTO tasks (task_id, submitted_at, summary, circuit_hash, shots, constraints, state, handed_out, updated_at,"
    " payload) VALUES (?, ?, ?, ?, ?, ?, 'submitted', 0, ?, ?)"
    " ON CONFLICT(task_id) DO UPDATE SET submitted_at=excluded.submitted_at, summary=excluded.summary,"
    " circuit_hash=excluded.circuit_hash, shots=excluded.shots, constraints=excluded.constraints,"
    " state='submitted', handed_out=0, updated_at=excluded.updated_at, payload=excluded.payload"
)
_PAYLOAD = 7  # position of the payload in an _UPSERT_TASK row
_UPSERT_ATTEMPT = (
    "INSERT INTO attempts (task_id, attempt, resource_id, provider, job_ref, state, started_at, ended_at, cost,"
    " currency, error_type, error_message, quote, quote_currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(task_id, attempt) DO UPDATE SET resource_id=excluded.resource_id, provider=excluded.provider,"
    " job_ref=COALESCE(excluded.job_ref, job_ref), state=excluded.state, started_at=excluded.started_at,"
    " ended_at=COALESCE(excluded.ended_at, ended_at), cost=COALESCE(excluded.cost, cost),"
    " currency=COALESCE(excluded.currency, currency), error_type=COALESCE(excluded.error_type, error_type),"
    " error_message=COALESCE(excluded.error_message, error_message), quote=COALESCE(excluded.quote, quote),"
    " quote_currency=COALESCE(excluded.quote_currency, quote_currency)"
)
_UPDATE_ATTEMPT = (
    "UPDATE attempts SET state=?, job_ref=COALESCE(?, job_ref), ended_at=COALESCE(?, ended_at),"
    " cost=COALESCE(?, cost), currency=COALESCE(?, currency), error_type=COALESCE(?, error_type),"
    " error_message=COALESCE(?, error_message) WHERE task_id=? AND attempt=?"
)
_INSERT_RESULT = (
    'INSERT OR REPLACE INTO results (task_id, resource_id, shots, counts, "values", metadata, cost, currency,'
    " finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SET_STATE = "UPDATE tasks SET state=?, updated_at=? WHERE task_id=?"
_HANDED_OUT = "UPDATE tasks SET handed_out=1, updated_at=? WHERE task_id=?"
#: Every statement a row may carry, by the index the acknowledgement log writes for it.
STATEMENTS = (_UPSERT_TASK, _UPSERT_ATTEMPT, _UPDATE_ATTEMPT, _INSERT_RESULT, _SET_STATE, _HANDED_OUT)
_STATEMENT_INDEX = {sql: i for i, sql in enumerate(STATEMENTS)}
#: The number of the last row SQLite holds, set in every transaction of a journal with a log.
_MARK_APPLIED = "UPDATE acks SET applied=? WHERE id=0"


def _prepared(row: tuple[str, tuple]) -> tuple[str, tuple]:
    """The row the writer commits or logs: a task's payload made (pickled, and dropped if it holds
    a secret) by the thread that writes it first. A prepared row comes back unchanged."""
    sql, params = row
    return (sql, _with_payload(params)) if sql is _UPSERT_TASK and callable(params[_PAYLOAD]) else row


def _prepared_batch(rows: list[tuple[str, tuple]]) -> list[tuple[str, tuple]]:
    """A transaction's rows prepared. A queued (not yet logged) submission whose task ends later in
    the same transaction is written without its payload: recovery returns a finished task from
    its journaled result and never runs it again, so pickling it would be work for nothing (most
    tasks of a service created with `durable=False` finish within the writer's window)."""
    ended: set[str] = set()
    out = list(rows)
    for i in range(len(out) - 1, -1, -1):
        sql, params = out[i]
        if sql is _INSERT_RESULT:
            ended.add(params[0])
        elif sql is _SET_STATE and params[0] not in UNFINISHED:
            ended.add(params[2])
        elif sql is _UPSERT_TASK:
            if callable(params[_PAYLOAD]) and params[0] in ended:
                out[i] = (sql, params[:_PAYLOAD] + (None,) + params[_PAYLOAD + 1:])
            else:
                out[i] = _prepared(out[i])
            ended.discard(params[0])
    return out


def _with_payload(params: tuple) -> tuple:
    payload = params[_PAYLOAD]
    if callable(payload):
        try:
            payload = payload()
        except Exception:  # an unpicklable circuit just has no payload; it never stops the writer
            payload = None
    return params[:_PAYLOAD] + (_checked(payload),) + params[_PAYLOAD + 1:]


def _checked(payload: Any) -> bytes | None:
    """`payload` as bytes, or None when it is not bytes or holds a secret."""
    if payload is None or not isinstance(payload, (bytes, bytearray)) or holds_secret(payload):
        return None
    return bytes(payload)


def _replay(db: sqlite3.Connection, log: Path) -> int:
    """Apply the rows of the acknowledgement log at `log` that SQLite has not got (numbered past
    `acks.applied`), in order, in one transaction; the number of the last row either holds."""
    applied = db.execute("SELECT applied FROM acks WHERE id=0").fetchone()[0]
    rows = acklog.read(log, STATEMENTS)
    todo = [(number, row) for number, row in rows if number > applied]
    if todo:
        db.execute("BEGIN IMMEDIATE")
        try:
            for _, (sql, params) in todo:
                db.execute(sql, params)
            db.execute(_MARK_APPLIED, (todo[-1][0],))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return max([applied] + [number for number, _ in rows])


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the journal at `path`, for listings.

    SQLite reads a WAL-mode file through its `-shm` index, which it must create or map for writing:
    in a directory this user may not write (a read-only mount, an archived or another user's run)
    `mode=ro` fails with "unable to open database file" although the journal is sound. There,
    when no write-ahead log holds rows the main file lacks (a service that closed cleanly leaves
    none), the file is opened `immutable`, read as it is; otherwise the rows in the log cannot be
    read and the error says to copy the directory (never that the journal is damaged)."""
    uri = path.resolve().as_uri()
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False)
    try:
        db.execute("PRAGMA schema_version").fetchone()  # SQLite opens the file (and its index) here
        return db
    except sqlite3.OperationalError:
        db.close()
        directory = path.parent
        if os.access(directory, os.W_OK) and not os.statvfs(directory).f_flag & os.ST_RDONLY:
            raise
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise JournalError(
            f"the journal {path} cannot be read here: its write-ahead log {wal.name} holds rows SQLite reads only "
            "from a directory this user may write", path=str(path), field="dir", value=str(path.parent),
            fix=f"copy the directory somewhere writable (cp -a {path.parent} /tmp/journal-copy) and list the copy",
        )
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False)


def _corrupt(path: Path, err: BaseException) -> JournalCorruptError:
    return JournalCorruptError(
        f"the journal {path} is damaged or not a QTAU journal ({err})", path=str(path),
        field="working_directory", value=str(path.parent),
        fix=f"move it aside (mv {path} {path}.damaged) and start the service again; the old file is kept "
        "for inspection, and what it recorded is not recovered",
    )


class Journal:
    """A service's journal in `directory`. Open with `Journal.open(directory)`; close when done."""

    def __init__(self, path: Path, connection: sqlite3.Connection, lock: JournalLock | None,
                 flush_interval: float, max_batch: int, *, borrowed: bool = False, log: AckLog | None = None,
                 first: int = 0) -> None:
        self.path = path
        self.readonly = lock is None and not borrowed
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self._db = connection
        self._lock = lock
        self._db_lock = threading.Lock()
        self._numbers_lock = threading.Lock()
        self._closed = False
        #: The highest attempt number of each task journaled so far, by any service (read once at
        #: open, then kept here as attempts are written): `next_attempt` asks no query.
        self._numbers: dict[str, int] = dict(
            connection.execute("SELECT task_id, MAX(attempt) FROM attempts GROUP BY task_id").fetchall())
        self._log = log
        self._writer = GroupCommitWriter(path, connection, self._db_lock, flush_interval=flush_interval,
                                         max_batch=max_batch, prepare=_prepared, prepare_batch=_prepared_batch,
                                         log=log,
                                         statements=_STATEMENT_INDEX, mark_sql=_MARK_APPLIED, first=first)
        if not self.readonly:
            self._writer.start()

    @classmethod
    def open(cls, directory: str | Path, *, readonly: bool = False, flush_interval: float = 0.05,
             max_batch: int = 2000) -> Journal:
        """Open (creating if needed) the journal of `directory`.

        Raises JournalLockedError when a live service holds it, JournalVersionError when a newer
        QTAU wrote it, JournalCorruptError when it is damaged. `readonly=True` (for listings)
        takes no lock and needs the file to exist."""
        directory = Path(directory).expanduser()
        path = journal_path(directory)
        if readonly:
            if not path.exists():
                raise JournalError(
                    f"no QTAU journal in {directory}", path=str(path), field="dir", value=str(directory),
                    fix="name the working_directory a service ran with (qtau jobs --dir DIR)",
                )
            unapplied = cls._apply_log(directory, path)
            db = cls._connect(path, readonly=True)
            if unapplied:
                db = cls._with_log(db, directory / LOG_NAME)
            return cls(path, db, None, flush_interval, max_batch)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise JournalError(
                f"cannot create the working directory {directory}: {err.strerror}", path=str(path),
                field="working_directory", value=str(directory), fix="pass a directory this user may write to",
            ) from None
        lock = JournalLock(directory / LOCK_NAME, path)
        lock.acquire()
        try:
            db = cls._connect(path, readonly=False)
            try:
                first = cls._replayed(db, directory / LOG_NAME)
                log = AckLog(directory / LOG_NAME)
            except BaseException:
                db.close()
                raise
            return cls(path, db, lock, flush_interval, max_batch, log=log, first=first)
        except BaseException:
            lock.release()
            raise

    @staticmethod
    def _replayed(db: sqlite3.Connection, log: Path) -> int:
        """Apply what the acknowledgement log holds and SQLite has not (an earlier service was
        killed); the number of the last row journaled."""
        try:
            return _replay(db, log)
        except OSError as err:
            raise JournalError(
                f"the journal's log {log} cannot be read: {err.strerror}", path=str(log), field="working_directory",
                value=str(log.parent), fix="check the permissions of the working directory",
            ) from None
        except sqlite3.DatabaseError as err:
            raise _corrupt(log.with_name(FILE_NAME), err) from None

    @classmethod
    def _apply_log(cls, directory: Path, path: Path) -> bool:
        """Before reading a journal whose owner died, apply its acknowledgement log (so a listing
        shows every acknowledged task). Skipped while a live service owns it (its writer applies
        the log within one window). True when the log holds rows it could not apply to the file:
        the directory is read-only to this user, or its disk is full (`_with_log` reads them)."""
        log = directory / LOG_NAME
        try:
            if log.stat().st_size == 0:
                return False
        except OSError:
            return False
        lock = JournalLock(directory / LOCK_NAME, path)
        try:
            lock.acquire()
        except JournalLockedError:
            return False
        except QtauError:
            return True  # the lock cannot even be created: nobody writes here
        try:
            db = cls._connect(path, readonly=False)
            try:
                cls._replayed(db, log)
            finally:
                db.close()
            log.unlink(missing_ok=True)
            return False
        except (QtauError, OSError):
            return True
        finally:
            lock.release()

    @classmethod
    def _with_log(cls, db: sqlite3.Connection, log: Path) -> sqlite3.Connection:
        """`db` copied into memory with the rows of the acknowledgement log it lacks applied: a
        listing of a journal whose log cannot be applied to its file (a full disk, a read-only
        directory) still shows every acknowledged task, and the files are left as they are for
        the next service to apply."""
        memory = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        try:
            db.backup(memory)
        finally:
            db.close()
        memory.row_factory = sqlite3.Row
        cls._replayed(memory, log)
        return memory

    @classmethod
    def borrow(cls, path: str | Path) -> Journal:
        """Write to a journal that another process of the same service owns and keeps open: the
        service's Ray tracker actor, which runs on the driver's node, journals the remote attempts
        it makes. No lock is taken (the owner holds it); SQLite (WAL, busy timeout) serialises the
        two writers."""
        path = Path(path)
        if not path.exists():
            raise JournalError(f"no QTAU journal at {path}", path=str(path), field="journal", value=str(path),
                               fix="the tracker runs on the driver's node; the driver's journal must exist there")
        return cls(path, cls._connect(path, readonly=False), None, 0.05, 2000, borrowed=True)

    @staticmethod
    def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
        try:
            if readonly:
                db = _open_read_only(path)
            else:
                db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            db.row_factory = sqlite3.Row
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                db.close()
                raise JournalVersionError(
                    f"the journal {path} has schema version {version}, written by a newer QTAU; this QTAU "
                    f"reads up to version {SCHEMA_VERSION}", path=str(path), field="working_directory",
                    value=str(path.parent),
                    fix="upgrade QTAU (pip install -U qtau-core) or give this service another working_directory",
                )
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(check)
            check_tables(db, version, readonly)
            if not readonly:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA busy_timeout=5000")
                db.executescript(f"BEGIN; {SCHEMA} {upgrade(db, version)} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
        except QtauError:
            raise
        except sqlite3.DatabaseError as err:
            raise _corrupt(path, err) from None
        return db

    # -- writing -----------------------------------------------------------------------------------

    def _put(self, rows: Iterable[tuple[str, tuple]], durable: bool = False) -> None:
        self._raise_failure()
        if self.readonly or self._writer.closing:
            raise JournalError(
                f"the journal {self.path} is {'read-only' if self.readonly else 'closed'}", path=str(self.path),
                fix="write through the service that opened the journal",
            )
        rows = list(rows)
        attempts = [params for sql, params in rows if sql is _UPSERT_ATTEMPT]
        if attempts:  # a submission or a hand-out takes no lock here
            with self._numbers_lock:
                for params in attempts:
                    if params[1] > self._numbers.get(params[0], 0):
                        self._numbers[params[0]] = params[1]
        self._writer.put(rows, durable)

    def _raise_failure(self) -> None:
        self._writer.raise_failure()

    def persist(self) -> None:
        """Return once every write queued so far survives a crash of this process: in the
        acknowledgement log (one `write()`), or committed."""
        if self.readonly:
            return
        self._writer.flush()

    def flush(self) -> None:
        """Return once every write queued so far is committed to SQLite (what readers see)."""
        if self.readonly:
            return
        self._writer.commit()

    def record_task(self, task: Any, *, submitted_at: float | None = None, circuit_hash_: str | None = None,
                    payload: bytes | Callable[[], bytes | None] | None = None, durable: bool = False) -> None:
        """A task was submitted (state `submitted`, not handed out). Recording it again resets it.

        `payload` is what the service needs to run the task again after a crash (the journal
        keeps no circuit objects of its own): bytes, or a function returning bytes that the thread
        committing the row calls (the writer thread for a queued write, so serialising costs the
        submitting thread nothing then). A payload that cannot be made, or that holds a known
        secret or a credential-shaped string, is stored as NULL."""
        now = time.time()
        digest = circuit_hash_ if circuit_hash_ is not None else circuit_hash(task.circuit)
        if not callable(payload):
            payload = _checked(payload)
        self._put([(_UPSERT_TASK, (task.task_id, submitted_at or now, to_json(task_summary(task)), digest,
                                   task.shots, to_json(task_constraints(task)), now, payload))], durable)

    def record_attempt(self, task_id: str, attempt: int, resource_id: str, provider: str, *,
                       state: str = "starting", job_ref: Any = None, started_at: float | None = None,
                       ended_at: float | None = None, cost: float | None = None, currency: str | None = None,
                       error: BaseException | str | None = None, quote: float | None = None,
                       quote_currency: str | None = None, durable: bool = False) -> None:
        """Insert or replace attempt number `attempt` (1-based) of a task. Use `durable=True` before a
        paid remote create, so a crash right after the create still knows this attempt's number.
        `quote` (in `quote_currency`) is the price reserved for the attempt: a recovering service
        keeps it reserved until the job ends, so a budget holds across crashes."""
        self._check_state(state)
        error_type, message = redacted_error(error)
        row = (task_id, int(attempt), resource_id, provider, to_json(job_ref), state, started_at or time.time(),
               ended_at, cost, currency, error_type, message, quote or None, quote_currency if quote else None)
        rows = [(_UPSERT_ATTEMPT, row)]
        if state == "running" or job_ref is not None:
            rows.append((_SET_STATE, ("running", time.time(), task_id)))
        self._put(rows, durable)

    def update_attempt(self, task_id: str, attempt: int, *, state: str, job_ref: Any = None,
                       ended_at: float | None = None, cost: float | None = None, currency: str | None = None,
                       error: BaseException | str | None = None, durable: bool = False) -> None:
        """Move an attempt on: its job reference once the provider answered, its end, cost, error."""
        self._check_state(state)
        error_type, message = redacted_error(error)
        if ended_at is None and state in ("done", "failed", "cancelled"):
            ended_at = time.time()
        rows = [(_UPDATE_ATTEMPT, (state, to_json(job_ref), ended_at, cost, currency, error_type, message,
                                   task_id, int(attempt)))]
        if state in ("submitted", "running"):
            rows.append((_SET_STATE, ("running", time.time(), task_id)))
        self._put(rows, durable)

    def record_result(self, result: Any, *, first_attempt: int = 1, provider: str = "",
                      durable: bool = False) -> None:
        """A task finished with `result` (a qtau.Result): its result row, its attempts from
        `result.attempts` (numbered from `first_attempt`; provider read from the resource id), and
        state `done`, in one transaction."""
        now = time.time()
        rows = self._attempt_rows(result.task_id, result.attempts, first_attempt, provider)
        if rows and result.cost:
            sql, last = rows[-1]
            rows[-1] = (sql, last[:8] + (float(result.cost), result.currency) + last[10:])
        finished = result.timings.finished_at if result.timings is not None else now
        rows.append((_INSERT_RESULT, (result.task_id, result.resource_id, int(result.shots), to_json(result.counts),
                                      to_json(result.values), to_json(result.metadata), float(result.cost or 0.0),
                                      result.currency, finished)))
        rows.append((_SET_STATE, ("done", now, result.task_id)))
        self._put(rows, durable)

    def record_failure(self, task_id: str, error: BaseException, *, state: str = "failed", first_attempt: int = 1,
                       provider: str = "", durable: bool = False) -> None:
        """A task ended without a result (`failed` or `cancelled`): its attempts and its state."""
        if state not in ("failed", "cancelled"):
            raise JournalError(f"a task ends failed or cancelled, not {state!r}", path=str(self.path),
                               field="state", value=state, fix="pass state='failed' or state='cancelled'")
        rows = self._attempt_rows(task_id, getattr(error, "attempts", ()) or (), first_attempt, provider)
        rows.append((_SET_STATE, (state, time.time(), task_id)))
        self._put(rows, durable)

    def mark_handed_out(self, task_ids: Sequence[str], *, durable: bool = False) -> None:
        """The user received these tasks' outcomes: recovery no longer returns them."""
        now = time.time()
        self._put([(_HANDED_OUT, (now, task_id)) for task_id in task_ids], durable)

    @staticmethod
    def _attempt_rows(task_id: str, attempts: Sequence[Any], first: int, provider: str) -> list[tuple[str, tuple]]:
        rows = []
        for number, att in enumerate(attempts, start=first):
            error_type = None if att.ok else (att.error_type or None)
            message = redact(att.message)[:ERROR_CHARS] if (not att.ok and att.message) else None
            job = getattr(att, "job", "") or None  # the provider's job reference, already JSON text
            rows.append((_UPSERT_ATTEMPT, (
                task_id, number, att.resource_id, provider or att.resource_id.split(":", 1)[0],
                redact(job) if job else None,
                "done" if att.ok else "failed", att.started_at, att.ended_at, None, None, error_type, message,
                None, None,
            )))
        return rows

    @staticmethod
    def _check_state(state: str) -> None:
        if state not in ATTEMPT_STATES:
            raise JournalError(f"unknown attempt state {state!r}", path="", field="state", value=state,
                               fix=f"use one of {', '.join(ATTEMPT_STATES)}")

    # -- reading -----------------------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        self.flush()
        self._raise_failure()
        try:
            with self._db_lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as err:
            raise _corrupt(self.path, err) from None

    def _tasks(self, where: str, params: Sequence[Any] = (), limit: int | None = None) -> list[TaskRecord]:
        sql = f"SELECT * FROM tasks {where} ORDER BY submitted_at, task_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        tasks = self._rows(sql, params)
        by_task: dict[str, list[AttemptRecord]] = {}
        ids = [t["task_id"] for t in tasks]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._rows(f"SELECT * FROM attempts WHERE task_id IN ({marks}) ORDER BY attempt", chunk)
            try:
                for row in rows:
                    by_task.setdefault(row["task_id"], []).append(attempt_of(row))
            except ValueError as err:  # a job reference that is not JSON: written by something else
                raise _corrupt(self.path, err) from None
        try:
            return [TaskRecord(
                task_id=t["task_id"], submitted_at=t["submitted_at"], summary=from_json(t["summary"]),
                circuit_hash=t["circuit_hash"], shots=t["shots"], constraints=from_json(t["constraints"]),
                state=t["state"], handed_out=bool(t["handed_out"]), attempts=tuple(by_task.get(t["task_id"], ())),
                payload=t["payload"],
            ) for t in tasks]
        except ValueError as err:  # JSON columns that do not parse: damaged, or written by something else
            raise _corrupt(self.path, err) from None

    def task(self, task_id: str) -> TaskRecord | None:
        found = self._tasks("WHERE task_id = ?", (task_id,))
        return found[0] if found else None

    def tasks(self, *, state: str | None = None, limit: int | None = None) -> list[TaskRecord]:
        """Every journaled task (optionally of one state), oldest first: `qtau jobs`."""
        if state is None:
            return self._tasks("", (), limit)
        return self._tasks("WHERE state = ?", (state,), limit)

    def not_handed_out(self) -> list[TaskRecord]:
        """Tasks submitted and never handed out, finished or not: what `recover()` returns."""
        return self._tasks("WHERE handed_out = 0")

    def unfinished_remote(self) -> list[TaskRecord]:
        """Unfinished tasks whose last attempt holds a provider job reference: re-attach, never resubmit."""
        return [t for t in self._tasks("WHERE handed_out = 0 AND state IN ('submitted', 'running')") if t.remote]

    def unsettled_creates(self) -> list[TaskRecord]:
        """Unfinished tasks whose last attempt is `starting` with no job reference. On a provider
        with idempotent creates (Braket's clientToken) send that same try again, same resource and
        same attempt number, to get the job it may have made; on a local resource run it again."""
        return [t for t in self._tasks("WHERE handed_out = 0 AND state IN ('submitted', 'running')")
                if t.create_unsettled]

    def unfinished_local(self) -> list[TaskRecord]:
        """Unfinished tasks with no provider job reference and no unsettled create: run them again
        (their circuits are the caller's to supply again; the journal keeps no circuit objects)."""
        return [t for t in self._tasks("WHERE handed_out = 0 AND state IN ('submitted', 'running')")
                if not t.remote and not t.create_unsettled]

    def next_attempt(self, task_id: str) -> int:
        """The number the next attempt of `task_id` gets: one past every attempt journaled for it,
        in this service or an earlier one, so idempotency tokens never repeat across submissions.
        Answered from memory (the journal's attempts were read once when it was opened)."""
        with self._numbers_lock:
            return self._numbers.get(task_id, 0) + 1

    def reserve_attempts(self, task_id: str, last: int) -> None:
        """Attempt numbers up to `last` of `task_id` are taken (a submission's tries, which another
        process may journal: the Ray tracker actor), so `next_attempt` answers past them."""
        with self._numbers_lock:
            if last > self._numbers.get(task_id, 0):
                self._numbers[task_id] = last

    def result(self, task_id: str) -> ResultRecord | None:
        rows = self._rows("SELECT * FROM results WHERE task_id = ?", (task_id,))
        if not rows:
            return None
        r = rows[0]
        return ResultRecord(
            task_id=r["task_id"], resource_id=r["resource_id"], shots=r["shots"], counts=from_json(r["counts"]),
            values=from_json(r["values"]), metadata=from_json(r["metadata"]), cost=r["cost"],
            currency=r["currency"], finished_at=r["finished_at"],
        )

    def spend(self) -> dict[str, float]:
        """Money spent per currency: the cost of every journaled attempt, for budgets."""
        rows = self._rows("SELECT currency, SUM(cost) AS total FROM attempts WHERE cost IS NOT NULL"
                          " AND currency IS NOT NULL GROUP BY currency")
        return {r["currency"]: float(r["total"]) for r in rows}

    # -- lifecycle ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Commit every queued write, stop the writer, release the lock. Raises JournalError if
        a write failed (after releasing everything)."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self.readonly:
                self.flush()
        finally:
            self._writer.stop()
            with self._db_lock:
                self._db.close()
            if self._log is not None:  # kept when SQLite lacks a row of it: the next open applies it
                self._log.close(remove=self._writer.drained)
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r}{', readonly' if self.readonly else ''})"


def open_journal(working_directory: str | Path | None) -> Journal | None:
    """The journal a service keeps: in its working_directory, or none when it has none."""
    if working_directory is None or working_directory == "":
        return None
    return Journal.open(working_directory)
