"""OpenQASM `include` statements are checked in core before any SDK sees the text.

Qiskit's loaders, Braket's interpreter and PennyLane's `from_qasm` open an included path
themselves, relative to the process's directory or absolute: a task's text could read any file,
block forever on a FIFO (outside the task's timeout) or read `/dev/zero` until memory runs out.
QASM given as text has no directory of its own, so the only includes accepted are the standard
libraries each SDK provides built in (`STANDARD_INCLUDES`); anything else is an
`QasmIncludeError` naming the path, raised without touching the file system.
"""

from __future__ import annotations

import re

from qtau.errors import QasmIncludeError

#: Include names every SDK resolves from its own built-in library, never from disk.
STANDARD_INCLUDES = frozenset({"qelib1.inc", "stdgates.inc"})
#: Comments, string literals (either quote, as OpenQASM 3 allows) and the `include` keyword, in
#: one scan: a `//` inside a path (`"/tmp//fifo"`) is part of the string, not a comment.
_TOKENS = re.compile(r"//[^\n]*|/\*.*?(?:\*/|\Z)|\"[^\"]*\"?|'[^']*'?|\binclude\b", re.DOTALL)


def check_includes(text: str) -> None:
    """Raise QasmIncludeError for the first include that is not a standard library."""
    if "include" not in text:
        return
    pending = False
    for token in (m.group(0) for m in _TOKENS.finditer(text)):
        if token.startswith(("//", "/*")):
            continue
        if token == "include":
            if pending:
                _refuse(token)
            pending = True
            continue
        if pending:  # the string after `include`: a standard library, whole, or refused
            pending = False
            name = token[1:-1] if len(token) > 1 and token[-1] == token[0] else token
            if name not in STANDARD_INCLUDES:
                _refuse(name)
    if pending:
        _refuse("include")


def _refuse(name: str) -> None:
    raise QasmIncludeError(
        f"the OpenQASM program includes {name!r}; only the standard libraries "
        f"{sorted(STANDARD_INCLUDES)} are read (no files, devices or FIFOs)",
        field="circuit", value=name,
        fix="paste the included definitions into the program text instead of including the file",
    )
