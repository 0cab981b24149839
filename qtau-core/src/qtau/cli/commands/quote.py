"""`qtau quote FILE`: price, expected wait and estimated fidelity of a circuit (an OpenQASM file or
module.py:function, read as `qtau run` reads it) on every resource of the executors, and what
QDREAMER would choose; nothing is submitted.

Works offline for any executor whose plugin ships its prices: where credentials are missing (or
with `--offline`), the resources come from the plugin's shipped data and the shipped price table,
and the output says, per executor, which source was used (`qtau.cli.quoting.quote_circuit`).
"""

from __future__ import annotations

import json

import typer

from qtau.cli.commands.plugins import JSON_OPTION
from qtau.cli.exit_codes import EXIT_OK
from qtau.cli.inputs import check_executors, load_circuit
from qtau.cli.output import print_json
from qtau.cli.quoting import quote_circuit
from qtau.cli.session import MODE_OPTION, SHOTS_OPTION, check_count, check_mode
from qtau.plugins import default_host

SPLIT_OPTION = typer.Option(False, "--split", help="Quote the task split over interchangeable resources.")
QUOTE_EXECUTOR_OPTION = typer.Option(
    None, "--executor", "-e", metavar="NAME",
    help="Executor to quote; repeat for several (default: every installed local simulator). Without "
         "credentials, remote executors are quoted offline from the plugin's shipped price table.",
)
OFFLINE_OPTION = typer.Option(False, "--offline",
                              help="Quote from the plugins' shipped price tables even where credentials are set.")


def register(app: typer.Typer) -> None:
    @app.command("quote")
    def quote(
        file: str = typer.Argument(..., help="An OpenQASM 2 or 3 file, or module.py:function returning a circuit."),
        executor: list[str] | None = QUOTE_EXECUTOR_OPTION,
        shots: int = SHOTS_OPTION,
        mode: str = MODE_OPTION,
        split: bool = SPLIT_OPTION,
        offline: bool = OFFLINE_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> int:
        """Quote FILE on each executor's resources (price with its source, wait, fidelity) without submitting."""
        check_count(shots, "--shots", 1, "1000, for example")
        check_mode(mode)
        host = default_host()
        # As `run` reads FILE: OpenQASM (a malformed file exits 2 naming the line) or module.py:function.
        circuit = load_circuit(file, host).circuit
        executors = check_executors(host, executor)
        found = quote_circuit(circuit, executors, shots=shots, mode=mode, split=split, host=host, offline=offline)
        if as_json:
            print_json(json.loads(json.dumps(found.to_dict(), default=str)))
        else:
            print(found)
        return EXIT_OK
