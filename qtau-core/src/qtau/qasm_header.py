"""Which OpenQASM version a program's header declares (`OPENQASM 2.0;` or `OPENQASM 3.0;`).

Plain text work at the bottom of QTAU's layers: `QuantumTask` checks a declared `circuit_format`
against the header, and `qtau.circuits` recognises OpenQASM text with it, so neither needs the
other.
"""

from __future__ import annotations

import re

OPENQASM2 = "openqasm2"
OPENQASM3 = "openqasm3"

#: Comments before the version statement: `//` lines, and OpenQASM 3's `/* ... */` blocks (an
#: OpenQASM 2 file with one is then refused by its parser, naming the line, not as "not OpenQASM").
#: A block ends at its first `*/` (`.*?` could also end at a later one: exponential backtracking
#: over many blocks before a text that is not OpenQASM).
LEADING_COMMENTS = r"^\s*(?:(?://[^\n]*(?:\n|$)|/\*(?:[^*]|\*(?!/))*\*/)\s*)*"
_QASM_VERSION = re.compile(LEADING_COMMENTS + r"OPENQASM\s+(\d+)(?:\.\d+)?\s*;", re.IGNORECASE)


def qasm_format(text: str) -> str | None:
    """`openqasm2` or `openqasm3` as the header of `text` says, or None when it has no header."""
    match = _QASM_VERSION.match(text)
    if not match:
        return None
    return OPENQASM2 if match.group(1) == "2" else OPENQASM3
