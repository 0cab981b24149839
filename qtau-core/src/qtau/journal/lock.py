"""One live service per journal: a lock file holding the owner's pid, checked for liveness.

On POSIX the lock is an `fcntl.flock` on the lock file, which the kernel drops when the owning
process dies however it dies (SIGKILL included), so a stale lock never blocks a new service and
pid reuse cannot fake a live owner. The pid written into the file only names the owner in the
error. Where `fcntl` is missing (Windows) the file is created exclusively and a lock whose pid is
no longer running is taken over.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from qtau.errors import JournalError, JournalLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this machine (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:  # Linux: a killed child nobody reaped is still "there" for kill(0) but holds nothing.
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def read_owner(path: Path) -> dict:
    """The owner record in a lock file, or {} when it is missing or unreadable."""
    try:
        owner = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


class JournalLock:
    """Held from `acquire()` to `release()`; `JournalLockedError` when a live service holds it."""

    def __init__(self, path: Path, journal_path: Path) -> None:
        self.path = path
        self.journal_path = journal_path
        self._fd: int | None = None

    def _locked(self, owner: dict) -> JournalLockedError:
        pid = owner.get("pid")
        who = f"process {pid} on {owner.get('host', '?')}" if pid else "another process"
        return JournalLockedError(
            f"the journal {self.journal_path} is in use by {who}, a live QTAU service", path=str(self.journal_path),
            pid=pid if isinstance(pid, int) else None, field="working_directory", value=str(self.journal_path.parent),
            fix=f"close that service first (pcs.close()), or give this service another working_directory; "
            f"if no such service runs, delete {self.path}",
        )

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600) if fcntl else self._create_exclusive()
        except OSError as err:
            raise JournalError(
                f"cannot create the journal lock {self.path}: {err.strerror}", path=str(self.journal_path),
                field="working_directory", value=str(self.journal_path.parent),
                fix="give the service a working_directory it may write to",
            ) from None
        if fcntl:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise self._locked(read_owner(self.path)) from None
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode(), 0)
        self._fd = fd

    def _create_exclusive(self) -> int:  # pragma: no cover - the path without fcntl
        for _ in range(2):
            try:
                return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                owner = read_owner(self.path)
                same_host = owner.get("host") in (None, socket.gethostname())
                if isinstance(owner.get("pid"), int) and same_host and not pid_alive(owner["pid"]):
                    self.path.unlink(missing_ok=True)
                    continue
                raise self._locked(owner) from None
        raise self._locked(read_owner(self.path))

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            if fcntl:
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        if not fcntl:  # pragma: no cover
            self.path.unlink(missing_ok=True)
