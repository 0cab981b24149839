"""The journal's acknowledgement log: an append-only file beside the SQLite journal that makes a
durable write cost one `write()` instead of one SQLite transaction.

A write the service acknowledges (a submission, a hand-out, the attempt record before a paid
create) is appended here as one frame and is then as safe from a crash of the process as a SQLite
commit in WAL mode with `synchronous=NORMAL` (both are in the operating system's page cache once
the call returns; neither is flushed to the disk by then). The rows reach SQLite a moment later in
the writer's next transaction, which also records the sequence number of the last row it applied
(`acks.applied`). Opening the journal again applies the rows of the log that SQLite has not got
(sequence number above `applied`), in order, and starts a fresh log.

A frame is `length, crc32, first sequence number` then the rows, marshalled: `(statement index,
parameters)` per row, plain values only. Reading stops at the first frame that is cut short or
whose checksum fails (a write torn by a power loss): nothing after it was acknowledged as a whole.
"""

from __future__ import annotations

import marshal
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

HEADER = struct.Struct("<IIQ")  # body length, crc32 of the body, sequence number of its first row
#: The log is rewritten with only the frames SQLite has not applied once it grows past this.
COMPACT_BYTES = 1 << 20

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
    """The open log of one journal: appends frames, and rewrites itself without the frames SQLite
    has applied once it is large. The caller serialises every call (the writer's lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        self._frames: list[tuple[int, bytes]] = []  # (sequence number of the last row, frame)
        self._size = 0

    def append(self, last: int, frame: bytes) -> None:
        """Write `frame` (its last row numbered `last`); OSError when it is not written whole."""
        written = os.write(self._fd, frame)
        if written != len(frame):
            raise OSError(28, f"only {written} of {len(frame)} bytes written to {self.path} (disk full?)")
        self._frames.append((last, frame))
        self._size += len(frame)

    def applied(self, upto: int) -> None:
        """SQLite holds every row up to number `upto`: once the log is large, write what is left to
        a new file and rename it over the log (a crash leaves either whole file, never neither)."""
        if self._size < COMPACT_BYTES:
            return
        left = [(last, frame) for last, frame in self._frames if last > upto]
        fresh = self.path.with_name(self.path.name + ".new")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        try:
            data = b"".join(frame for _, frame in left)
            if os.write(fd, data) != len(data):
                raise OSError(28, f"{fresh} not written whole (disk full?)")
            os.replace(fresh, self.path)
        except BaseException:
            os.close(fd)
            raise
        os.close(self._fd)
        self._fd, self._frames, self._size = fd, left, len(data)

    def close(self, remove: bool) -> None:
        """Close the log; with `remove` (SQLite holds every row) delete it too."""
        os.close(self._fd)
        if remove:
            self.path.unlink(missing_ok=True)
