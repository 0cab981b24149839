"""`qtau quote FILE`: price, expected wait and estimated fidelity of an OpenQASM file on every
resource of the named executors, and what QDREAMER would choose; nothing is submitted."""

from __future__ import annotations

import json

import typer

from qtau.cli import EXIT_OK
from qtau.cli.commands.plugins import JSON_OPTION
from qtau.cli.output import print_json
from qtau.cli.session import EXECUTOR_OPTION, MODE_OPTION, SHOTS_OPTION, check_count, check_mode
from qtau.plugins import default_host

SPLIT_OPTION = typer.Option(False, "--split", help="Quote the task split over interchangeable resources.")


def register(app: typer.Typer) -> None:
    @app.command("quote")
    def quote(
        file: str = typer.Argument(..., help="An OpenQASM 2 or 3 file."),
        executor: list[str] | None = EXECUTOR_OPTION,
        shots: int = SHOTS_OPTION,
        mode: str = MODE_OPTION,
        split: bool = SPLIT_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> int:
        """Quote FILE on each executor's resources (price with its source, wait, fidelity) without submitting."""
        from qtau.dreamer.quote import quote_file

        check_count(shots, "--shots", 1, "1000, for example")
        check_mode(mode)
        found = quote_file(file, executor or [], shots=shots, mode=mode, split=split, host=default_host())
        if as_json:
            print_json(json.loads(json.dumps(found.to_dict(), default=str)))
        else:
            print(found)
        return EXIT_OK
