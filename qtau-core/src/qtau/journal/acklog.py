"""The journal's acknowledgement log: a file beside the SQLite journal that makes a durable write
cost one copy into memory instead of one SQLite transaction.

A write the service acknowledges (a submission, a hand-out, the attempt record before a paid
create) is copied as one frame into the log, a file mapped into memory (`mmap`, shared). Once the
copy is done it survives a crash of the process exactly as a SQLite commit in WAL mode with
`synchronous=NORMAL` does: both are in the operating system's page cache, and neither is on the
disk's platters yet (a power loss may lose either). Copying into the mapping makes no system call
and never lets go of the GIL, so a submitting thread is not queued behind the threads running
tasks. The file's space is allocated (written) before it is mapped, so a full disk is an OSError
when the log grows, never a SIGBUS on a copy.

The rows reach SQLite a moment later in the writer's next transaction, which also records the
sequence number of the last row it applied (`acks.applied`). Opening the journal again applies the
rows of the log that SQLite has not got (numbered above `applied`), in order, and starts a fresh log.

A frame is `length, crc32, sequence number of its first row`, then the rows, marshalled:
`(statement index, parameters)` per row, plain values only. Reading stops at the first frame that
is empty (the allocated rest of the file), cut short or whose checksum fails (a copy cut by the
crash: it was never acknowledged).
"""

from __future__ import annotations

import marshal
import mmap
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

HEADER = struct.Struct("<IIQ")  # body length, crc32 of the body, sequence number of its first row
#: The log is rewritten with only the frames SQLite has not applied once it grows past this.
COMPACT_BYTES = 1 << 20
#: Space allocated at a time (the log starts this large and grows by at least this much).
GROW_BYTES = 64 << 10

Row = tuple[str, tuple]


def encode(first: int, rows: Sequence[Row], statements: dict[str, int]) -> bytes:
    """One frame: `rows` numbered from `first`, each statement by its index in `statements`."""
    body = marshal.dumps([(statements[sql], params) for sql, params in rows])
    return HEADER.pack(len(body), zlib.crc32(body), first) + body


def read(path: Path, statements: Sequence[str]) -> list[tuple[int, Row]]:
    """The rows of every whole frame in the log at `path`, with their sequence numbers, in order;
    empty when there is no log. Stops at the first damaged or cut-short frame."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    rows: list[tuple[int, Row]] = []
    at = 0
    while at + HEADER.size <= len(data):
        length, crc, first = HEADER.unpack_from(data, at)
        if length == 0:
            break
        body = data[at + HEADER.size:at + HEADER.size + length]
        if len(body) < length or zlib.crc32(body) != crc:
            break
        try:
            decoded = marshal.loads(body)
            frame = [(first + i, (statements[index], tuple(params))) for i, (index, params) in enumerate(decoded)]
        except (ValueError, TypeError, EOFError, IndexError):
            break
        rows.extend(frame)
        at += HEADER.size + length
    return rows


class AckLog:
    """The open log of one journal: copies frames into its mapping, and rewrites itself without
    the frames SQLite has applied once it is large. The caller serialises every call (the
    writer's lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd, self._map = _mapped(path, b"")
        self._frames: list[tuple[int, bytes]] = []  # (sequence number of the last row, frame)
        self._size = 0

    def append(self, last: int, frame: bytes) -> None:
        """Copy `frame` (its last row numbered `last`) into the log; OSError when the log must
        grow and the disk has no room. Where the file cannot be mapped, it is written."""
        end = self._size + len(frame)
        if self._map is None:
            _write_at(self._fd, frame, self._size)
        else:
            if end + HEADER.size > len(self._map):
                self._grow(end + HEADER.size)
            self._map[self._size:end] = frame
        self._frames.append((last, frame))
        self._size = end

    def _grow(self, needed: int) -> None:
        size = len(self._map)
        new = max(needed, size * 2, size + GROW_BYTES)
        _allocate(self._fd, size, new)
        self._map.resize(new)

    def applied(self, upto: int) -> None:
        """SQLite holds every row up to number `upto`: once the log is large, write what is left to
        a new file and rename it over the log (a crash leaves either whole file, never neither)."""
        if self._size < COMPACT_BYTES:
            return
        left = [(last, frame) for last, frame in self._frames if last > upto]
        data = b"".join(frame for _, frame in left)
        fresh = self.path.with_name(self.path.name + ".new")
        fd, mapped = _mapped(fresh, data)
        os.replace(fresh, self.path)
        if self._map is not None:
            self._map.close()
        os.close(self._fd)
        self._fd, self._map, self._frames, self._size = fd, mapped, left, len(data)

    def close(self, remove: bool) -> None:
        """Close the log; with `remove` (SQLite holds every row) delete it too."""
        if self._map is not None:
            self._map.close()
        os.close(self._fd)
        if remove:
            self.path.unlink(missing_ok=True)


def _allocate(fd: int, start: int, end: int) -> None:
    """Write zeros from `start` to `end`, so the mapping never touches a block the disk lacks."""
    _write_at(fd, bytes(end - start), start)


def _write_at(fd: int, data: bytes, at: int) -> None:
    """Write all of `data` at offset `at`; OSError when the disk has no room for it."""
    while data:
        if hasattr(os, "pwrite"):
            written = os.pwrite(fd, data, at)
        else:  # pragma: no cover - Windows has no pwrite
            os.lseek(fd, at, os.SEEK_SET)
            written = os.write(fd, data)
        if written <= 0:
            raise OSError(28, "no space left on device")
        at, data = at + written, data[written:]


def _mapped(path: Path, data: bytes) -> tuple[int, mmap.mmap | None]:
    """A new log file at `path` holding `data`, its space allocated, mapped for writing (None
    where the file system cannot map it shared: then the log is written, one call a frame)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        size = max(GROW_BYTES, len(data) + GROW_BYTES)
        _allocate(fd, 0, size)
        try:
            mapped = mmap.mmap(fd, size, access=mmap.ACCESS_WRITE)
        except (OSError, ValueError):
            _write_at(fd, data, 0)
            return fd, None
        mapped[:len(data)] = data
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    return fd, mapped
