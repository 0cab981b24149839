"""Plain-text tables: one renderer for every table QTAU prints (explanations, CLI listings)."""

from __future__ import annotations

from collections.abc import Sequence


def render(head: Sequence[str], rows: Sequence[Sequence[str]], title: str = "") -> str:
    """Left-aligned columns, two spaces apart, trailing spaces stripped; `title` on its own line."""
    lines = [tuple(head), *(tuple(r) for r in rows)]
    widths = [max(len(row[c]) for row in lines) for c in range(len(head))]
    out = [title] if title else []
    for row in lines:
        out.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(out)
