"""The journal: what a service submitted, tried, paid and got, durable in its working directory.

One module per job:
- `schema`: file names, tables, version, upgrade of an older journal, the check that refuses a
  file that is not a QTAU journal;
- `codec`: plain JSON, task summaries, circuit hashes, secret detection and redaction of errors;
- `writer`: the group-commit writer thread;
- `acklog`: the acknowledgement log that makes a durable write one copy into memory;
- `store`: the `Journal` (open, borrow, record_*, queries);
- `records`: what the queries give back (`TaskRecord`, `AttemptRecord`, `ResultRecord`);
- `lock`: the lock that keeps one live service per journal;
- `service_journal`: the service's side (what it writes when, same-process sharing);
- `recovery`: `recover()`, reading an earlier service's journal back into handles.

`from qtau.journal import Journal, open_journal, journal_path, ...` is the public way in (see
docs/journal.md); `recovery` is not imported here (it needs the dreamer layer).
"""

from qtau.journal.codec import (
    ERROR_CHARS,
    circuit_hash,
    holds_secret,
    task_constraints,
    task_summary,
    to_json,
)
from qtau.journal.lock import JournalLock, pid_alive, read_owner
from qtau.journal.records import AttemptRecord, ResultRecord, TaskRecord
from qtau.journal.schema import (
    ATTEMPT_STATES,
    FILE_NAME,
    LOCK_NAME,
    SCHEMA,
    SCHEMA_VERSION,
    UNFINISHED,
    journal_path,
)
from qtau.journal.store import Journal, open_journal

__all__ = [
    "ATTEMPT_STATES", "ERROR_CHARS", "FILE_NAME", "LOCK_NAME", "SCHEMA", "SCHEMA_VERSION", "UNFINISHED",
    "AttemptRecord", "Journal", "JournalLock", "ResultRecord", "TaskRecord", "circuit_hash", "holds_secret",
    "journal_path", "open_journal", "pid_alive", "read_owner", "task_constraints", "task_summary", "to_json",
]
