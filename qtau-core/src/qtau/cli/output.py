"""How commands print: rich tables on a terminal, plain aligned text when piped, JSON on request.

Tables written to a pipe or file keep every cell on one line (no wrapping at 80 columns), so
scripts can parse them; `--json` output is one JSON document on stdout and nothing else.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any


def error_line(message: str, fix: str | None = None) -> str:
    """`error: <message> Fix: <fix>` (QtauError messages already carry their fix)."""
    text = message.strip()
    if fix and "Fix:" not in text:
        text = f"{text.rstrip('.')}. Fix: {fix}"
    return f"error: {text}"


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    # Piped output is never wrapped, so every row stays one line for grep and scripts.
    return Console(file=stream, highlight=False, soft_wrap=not terminal, width=None if terminal else 10_000,
                   emoji=False, markup=False)


def print_table(header: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    if sys.stdout.isatty():
        from rich.table import Table

        table = Table(*header, title=title, title_justify="left", show_lines=False)
        for row in rows:
            table.add_row(*(str(cell) for cell in row))
        console().print(table)
        return
    if title:
        print(title)
    cells = [tuple(header)] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(r[c]) for r in cells) for c in range(len(header))]
    for row in cells:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def print_json(document: Any) -> None:
    """One JSON document on stdout; values JSON cannot hold (numpy arrays, sets) become lists or text."""
    print(json.dumps(document, indent=2, default=_plain))


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
