"""How the `qtau` command says why one of several equally scored resources was chosen."""

from __future__ import annotations

from typing import Any

#: QDREAMER's tie-break (qtau.dreamer.ranking; docs/dreamer.md, "Ties"), in the words the CLI prints.
TIE_RULE = ("fewer tasks in flight first, then the earlier candidate (pilots in the order they were "
            "created, each pilot's resources in its plugin's order)")


def tie_note(explanation: Any) -> str | None:
    """A line naming the resources that tie with the chosen one and the rule that chose it, or
    None when the chosen resource scored strictly best (or nothing was chosen)."""
    if explanation is None or explanation.chosen is None:
        return None
    best = explanation.chosen.score
    tied = [row.resource_id for row in explanation.rows if row.feasible and row.score == best]
    if len(tied) < 2:
        return None
    return (f"tie: {', '.join(tied)} all score {best:.4f}; {tied[0]} won by QDREAMER's tie-break: "
            f"{TIE_RULE}")
