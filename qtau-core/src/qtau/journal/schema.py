"""The journal's schema: its file names, tables and version, the states a task and an attempt
take, the upgrade of an older journal's tables, and the check that refuses a file that is not a
QTAU journal (or one with a table dropped or cut down).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

FILE_NAME = "qtau-journal.sqlite3"
LOCK_NAME = "qtau-journal.lock"
#: The acknowledgement log (`qtau.journal.acklog`): durable writes SQLite has not got yet.
LOG_NAME = "qtau-journal.log"
#: Bumped when the tables change; a journal with a higher `PRAGMA user_version` is refused.
SCHEMA_VERSION = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    task_id      TEXT PRIMARY KEY,
    submitted_at REAL NOT NULL,
    summary      TEXT NOT NULL,
    circuit_hash TEXT,
    shots        INTEGER NOT NULL,
    constraints  TEXT NOT NULL,
    state        TEXT NOT NULL,
    handed_out   INTEGER NOT NULL DEFAULT 0,
    updated_at   REAL NOT NULL,
    payload      BLOB
);
CREATE TABLE IF NOT EXISTS attempts (
    task_id       TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    resource_id   TEXT NOT NULL,
    provider      TEXT NOT NULL,
    job_ref       TEXT,
    state         TEXT NOT NULL,
    started_at    REAL NOT NULL,
    ended_at      REAL,
    cost          REAL,
    currency      TEXT,
    error_type    TEXT,
    error_message TEXT,
    quote         REAL,
    quote_currency TEXT,
    PRIMARY KEY (task_id, attempt)
);
CREATE TABLE IF NOT EXISTS results (
    task_id     TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL,
    shots       INTEGER NOT NULL,
    counts      TEXT NOT NULL,
    "values"    TEXT,
    metadata    TEXT NOT NULL,
    cost        REAL NOT NULL,
    currency    TEXT NOT NULL,
    finished_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_open ON tasks (handed_out, state);
CREATE TABLE IF NOT EXISTS acks (
    id      INTEGER PRIMARY KEY CHECK (id = 0),
    applied INTEGER NOT NULL
);
INSERT OR IGNORE INTO acks (id, applied) VALUES (0, 0);
"""

#: Task states. `submitted` and `running` are unfinished; the rest are final.
UNFINISHED = ("submitted", "running")
#: Attempt states: `starting` is written (durably) before a remote create, `submitted` once the
#: provider answered with a job reference.
ATTEMPT_STATES = ("starting", "submitted", "running", "done", "failed", "cancelled")


def journal_path(directory: str | Path) -> Path:
    """The journal file of a working directory."""
    return Path(directory) / FILE_NAME


#: The columns each table must have for the journal to be read (version 1's; later ones are added).
COLUMNS = {
    "tasks": {"task_id", "submitted_at", "summary", "circuit_hash", "shots", "constraints", "state", "handed_out",
              "updated_at", "payload"},
    "attempts": {"task_id", "attempt", "resource_id", "provider", "job_ref", "state", "started_at", "ended_at",
                 "cost", "currency", "error_type", "error_message"},
    "results": {"task_id", "resource_id", "shots", "counts", "values", "metadata", "cost", "currency",
                "finished_at"},
}
#: Columns added after version 1: (table, column, type), added to an older journal when it is opened.
ADDED = (("attempts", "quote", "REAL"), ("attempts", "quote_currency", "TEXT"))


def check_tables(db: sqlite3.Connection, version: int, readonly: bool) -> None:
    """Refuse a file that is SQLite but not a QTAU journal (another program's database: QTAU's
    tables are never written into it), or a journal with a table dropped or cut down: creating the
    missing table again would open it silently with its data gone."""
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0:
        if readonly or names:
            what = ", ".join(sorted(names)) or "none"
            raise sqlite3.DatabaseError(f"it holds no QTAU tables (tables: {what})")
        return
    for table, needed in COLUMNS.items():
        if table not in names:
            raise sqlite3.DatabaseError(f"its {table} table is missing")
        have = {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}
        if not needed <= have:
            raise sqlite3.DatabaseError(f"its {table} table lacks {', '.join(sorted(needed - have))}")


def upgrade(db: sqlite3.Connection, version: int) -> str:
    """The statements that bring an older journal's tables up to this schema."""
    if version == 0:
        return ""
    statements = []
    for table, column, kind in ADDED:
        have = {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}
        if column not in have:
            statements.append(f"ALTER TABLE {table} ADD COLUMN {column} {kind};")
    return " ".join(statements)
