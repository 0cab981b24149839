"""Checking an OpenQASM FILE before any pilot starts, so a malformed one exits 2 naming FILE:LINE.

Two readers look at the text. Core's own reader (the one QDREAMER ranks with) refuses what it
knows to be wrong, such as an OpenQASM 2 gate used but never defined. Then the OpenQASM parsers of
the installed plugins, through the first conversion the workers would make (OpenQASM 2 to Qiskit,
OpenQASM 3 to Braket or Qiskit, ...), cheapest first: the first parser that accepts the file ends
the check, so a valid file costs one conversion, which a local run makes anyway. The file is
refused only when every parser rejects it and one of them says where (a line): parsers differ at
the edges of the language, and a file one of them accepts is not the user's mistake, nor is an
SDK failing for reasons of its own. Without a plugin that reads OpenQASM only core's check runs.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from qtau.circuits import Circuits
from qtau.errors import InvalidTaskError

SPEC = {"openqasm2": "OpenQASM 2", "openqasm3": "OpenQASM 3"}


@attrs.frozen
class Located:
    """Where a parser stopped, and what it said."""

    line: int
    message: str
    parser: str


def check_qasm(source: str, text: str, fmt: str, circuits: Circuits) -> None:
    """Raise InvalidTaskError naming `source`, the line and the fix when `text` is malformed."""
    try:
        circuits.summary(text, fmt)
    except InvalidTaskError as err:
        line = _statement_line(text, str(err), err.value)
        where = f"{source}, line {line}" if line else source
        message = str(err).split(" (field ", 1)[0].split(" Fix: ", 1)[0]
        raise InvalidTaskError(f"FILE {where}: {message}", field="FILE", value=source,
                               fix=f"{err.fix} (in {source})" if err.fix else f"correct {where}") from err
    found: Located | None = None
    tried = set()
    for conv in sorted(circuits.graph.edges.get(fmt, ()), key=lambda c: c.cost):
        if conv.target in tried:
            continue
        tried.add(conv.target)
        try:
            conv.convert(text)
            return
        except Exception as err:  # a parser's refusal, or an SDK's own failure: see below
            located = locate(err, f"{conv.provider} plugin's {conv.target} reader")
            found = found or located
    if found is None:
        return  # no parser said where: not shown to be the file's fault, the run will tell
    lines = text.splitlines()
    shown = lines[found.line - 1].strip() if 0 < found.line <= len(lines) else ""
    raise InvalidTaskError(
        f"FILE {source}, line {found.line}: {SPEC.get(fmt, fmt)} syntax error: {found.message}"
        + (f" (line {found.line}: `{shown}`)" if shown else ""),
        field="FILE", value=source,
        fix=f"correct line {found.line} of {source} (or the statement before it, when it is the one left "
            f"unfinished) to {SPEC.get(fmt, fmt)} syntax; every installed OpenQASM reader refused it "
            f"({found.parser} first)",
    )


def locate(err: BaseException, parser: str) -> Located | None:
    """The line a parse error points at, from anywhere in its chain of causes: an ANTLR token
    (the reference OpenQASM 3 parser, used by Qiskit and Braket) or Qiskit's `<input>:LINE,COL:`."""
    seen: set[int] = set()
    queue: list[Any] = [err]
    while queue:
        current = queue.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        token = getattr(current, "offendingToken", None)
        if token is not None and getattr(token, "line", None):
            text = getattr(token, "text", "") or ""
            what = "the file ends too early" if text == "<EOF>" else f"unexpected `{text}`"
            return Located(int(token.line), what, parser)
        match = re.search(r"<input>:(\d+),(\d+):\s*(.*)", str(current), re.S)
        if match:
            return Located(int(match.group(1)), match.group(3).strip().strip("'\""), parser)
        queue.extend([current.__cause__, current.__context__, *current.args])
    return None


def _statement_line(text: str, message: str, value: Any) -> int | None:
    """The line of the statement a core-reader error quotes (`statement `...``), else the first line
    that starts with `value` (a gate name)."""
    match = re.search(r"statement `([^`]*)`", message)
    if match:
        wanted = " ".join(match.group(1).split())
        for number, line in enumerate(text.splitlines(), 1):
            if wanted and wanted in " ".join(line.split()):
                return number
    if isinstance(value, str) and value:
        pattern = re.compile(rf"^\s*{re.escape(value)}\b")
        for number, line in enumerate(text.splitlines(), 1):
            if pattern.match(line):
                return number
    return None
