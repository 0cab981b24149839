"""`qtau jobs`: the tasks, attempts and spend a service recorded in its working directory's journal.

Read-only, so it works beside the service that is writing the journal. Loads no plugin.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from qtau.cli.commands.plugins import JSON_OPTION
from qtau.cli.exit_codes import EXIT_OK
from qtau.cli.output import print_json, print_table
from qtau.cli.session import check_count
from qtau.journal import Journal


class State(str, Enum):
    submitted = "submitted"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


DIR_OPTION = typer.Option(Path("."), "--dir", help="The service's working_directory (default: here).")
STATE_OPTION = typer.Option(None, "--state", help="Only tasks in this state.")
LIMIT_OPTION = typer.Option(None, "--limit", help="Show at most this many tasks, oldest first.")


def task_json(task: Any) -> dict[str, Any]:
    last = task.last_attempt
    return {
        "task_id": task.task_id, "state": task.state, "handed_out": task.handed_out,
        "submitted_at": task.submitted_at, "attempts": len(task.attempts),
        "last_resource": last.resource_id if last else None, "job_ref": last.job_ref if last else None,
        "cost": sum(a.cost or 0.0 for a in task.attempts),
        "currency": next((a.currency for a in task.attempts if a.currency), None),
    }


def register(app: typer.Typer) -> None:
    @app.command("jobs")
    def jobs(
        directory: Path = DIR_OPTION,
        state: State | None = STATE_OPTION,
        limit: int | None = LIMIT_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> int:
        """Tasks, attempts and spend recorded in a working directory's journal."""
        if limit is not None:
            check_count(limit, "--limit", 1, "20, for example")
        with Journal.open(str(directory), readonly=True) as journal:
            records = journal.tasks(state=state.value if state else None, limit=limit)
            spend = journal.spend()
        if as_json:
            print_json({"directory": str(directory), "tasks": [task_json(t) for t in records], "spend": spend})
            return EXIT_OK
        rows = []
        for task in records:
            row = task_json(task)
            job = "-" if row["job_ref"] is None else json.dumps(row["job_ref"])[:60]
            cost = f"{row['cost']:g} {row['currency'] or ''}".strip() if row["cost"] else "-"
            rows.append((row["task_id"], row["state"], "yes" if row["handed_out"] else "no", row["attempts"],
                         row["last_resource"] or "-", job, cost,
                         datetime.fromtimestamp(row["submitted_at"]).isoformat(timespec="seconds")))
        if rows:
            print_table(("task", "state", "handed out", "attempts", "last resource", "job", "cost", "submitted"), rows)
        else:
            print(f"no tasks in the journal of {directory}")
        if spend:
            print("spent: " + ", ".join(f"{amount:g} {currency}" for currency, amount in sorted(spend.items())))
        return EXIT_OK
