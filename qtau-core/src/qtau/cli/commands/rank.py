"""`qtau rank FILE...`: QDREAMER's explained ranking of the pilots' resources for each circuit.

Nothing runs: this shows which resource QDREAMER would choose and why (every term, every
rejection). Exit status 1 when some circuit has no feasible resource.
"""

from __future__ import annotations

from pathlib import Path

import typer

from qtau.cli.commands.plugins import JSON_OPTION
from qtau.cli.commands.run import explanation_json
from qtau.cli.exit_codes import EXIT_OK, EXIT_TASK_FAILED
from qtau.cli.output import print_json
from qtau.cli.session import (
    ENGINE_OPTION,
    EXECUTOR_OPTION,
    FILES_ARGUMENT,
    MODE_OPTION,
    SHOTS_OPTION,
    Engine,
    checked_inputs,
    start_service,
)
from qtau.types import QuantumTask

RANK_PLOT_OPTION = typer.Option(None, "--plot", metavar="PNG", dir_okay=False,
                                help="Write the score terms of the first FILE's candidates to this file.")


def register(app: typer.Typer) -> None:
    @app.command("rank")
    def rank(
        files: list[str] = FILES_ARGUMENT,
        executor: list[str] | None = EXECUTOR_OPTION,
        shots: int = SHOTS_OPTION,
        engine: Engine = ENGINE_OPTION,
        mode: str = MODE_OPTION,
        as_json: bool = JSON_OPTION,
        plot: Path | None = RANK_PLOT_OPTION,
    ) -> int:
        """Show QDREAMER's ranking (every term and rejection) for each FILE, without running it."""
        host, plot, inputs, executors = checked_inputs(files, executor, shots, mode, plot)
        with start_service(host, executors, engine, mode) as pcs:
            explanations = [pcs.qdreamer.explain(QuantumTask(circuit=item.circuit, shots=shots)) for item in inputs]
        if as_json:
            print_json({"engine": engine.value, "mode": mode, "executors": executors,
                        "rankings": [{"file": item.source, **explanation_json(e)}
                                     for item, e in zip(inputs, explanations, strict=True)]})
        else:
            for item, explanation in zip(inputs, explanations, strict=True):
                print(f"== {item.source} ({item.circuit_format})")
                print(explanation)
                print()
        if plot is not None:
            explanations[0].plot(plot)
            if not as_json:
                print(f"plot written to {plot}")
        return EXIT_OK if all(e.chosen for e in explanations) else EXIT_TASK_FAILED
