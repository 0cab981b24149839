"""`qtau run FILE...`: run circuits through QDREAMER and print (or export) the explained results.

Each FILE becomes one task; each `--executor` one pilot. Text output shows, per file, QDREAMER's
ranking, the chosen resource and the counts; `--json` prints one document with all of it;
`--plot PNG` writes the counts histograms. Exit status 1 when any task failed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import attrs
import typer

from qtau.cli.commands.plugins import JSON_OPTION
from qtau.cli.exit_codes import EXIT_OK, EXIT_TASK_FAILED
from qtau.cli.output import error_line, print_json
from qtau.cli.session import (
    ENGINE_OPTION,
    EXECUTOR_OPTION,
    FILES_ARGUMENT,
    MODE_OPTION,
    PLOT_OPTION,
    SHOTS_OPTION,
    Engine,
    checked_inputs,
    decided_ranking,
    start_service,
)
from qtau.errors import CircuitFunctionExitError, QtauError
from qtau.plotting import plot_results
from qtau.types import QuantumTask

BIT_ORDER = "bit 0 is the rightmost character of a counts key (qubit 0 rightmost)"


def explanation_json(explanation: Any) -> dict[str, Any] | None:
    if explanation is None:
        return None
    chosen = explanation.chosen
    return {"task_id": explanation.task_id, "policy": dict(explanation.policy),
            "chosen": chosen.resource_id if chosen else None, "rows": explanation.to_dicts()}


def print_choice(explanation: Any, result: Any) -> None:
    """`chosen resource: <id>` (the ranking's first row), and where the task ran when failover or
    a budget moved it elsewhere."""
    chosen = explanation.chosen.resource_id if explanation is not None and explanation.chosen else None
    print(f"chosen resource: {chosen or result.resource_id}")
    if chosen and result.resource_id != chosen:
        tries = ", ".join(f"{a.resource_id} {'ok' if a.ok else 'failed'}" for a in result.attempts)
        print(f"ran on: {result.resource_id} after failover (attempts: {tries})")


def result_json(result: Any) -> dict[str, Any]:
    timings = result.timings
    return {
        "task_id": result.task_id, "resource_id": result.resource_id, "executor": result.executor,
        "shots": result.shots, "counts": dict(sorted(result.counts.items())), "values": result.values,
        "cost": result.cost, "currency": result.currency,
        "timings": {"queued_s": timings.queued_s, "ran_s": timings.ran_s} if timings else None,
        "conversion_path": list(result.conversion_path),
        "attempts": [attrs.asdict(a) for a in result.attempts],
    }


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        files: list[str] = FILES_ARGUMENT,
        executor: list[str] | None = EXECUTOR_OPTION,
        shots: int = SHOTS_OPTION,
        engine: Engine = ENGINE_OPTION,
        mode: str = MODE_OPTION,
        as_json: bool = JSON_OPTION,
        plot: Path | None = PLOT_OPTION,
        progress: bool | None = typer.Option(None, "--progress/--no-progress",
                                             help="Progress bar over many circuits (default: on a terminal)."),
    ) -> int:
        """Run circuits through QDREAMER: ranking, chosen resource and counts for each FILE."""
        try:
            host, plot, inputs, executors = checked_inputs(files, executor, shots, mode, plot)
        except CircuitFunctionExitError as err:  # the user's function exited: a failed run, exit 1
            if as_json:
                print_json({"engine": engine.value, "mode": mode, "ok": False, "tasks": [],
                            "error": {"type": type(err).__name__, "message": str(err)}})
            else:
                print(error_line(str(err)), file=sys.stderr)
            return EXIT_TASK_FAILED
        with start_service(host, executors, engine, mode) as pcs:
            tasks = [QuantumTask(circuit=item.circuit, shots=shots) for item in inputs]
            outcomes: list[Any] = [None] * len(tasks)
            handles, submitted = [], []
            for i, task in enumerate(tasks):
                try:
                    handles.append(pcs.submit_quantum_task(task))
                    submitted.append(i)
                except QtauError as err:  # nothing fits this circuit: the task failed, the others run
                    outcomes[i] = err
            # Each task's own decision: tasks placed after others see those in flight.
            explanations = [decided_ranking(pcs, task) for task in tasks]
            for i, value in zip(submitted, pcs.get_results(handles, return_exceptions=True, progress=progress),
                                strict=True):
                outcomes[i] = value
        failed = [i for i, value in enumerate(outcomes) if isinstance(value, BaseException)]
        if as_json:
            print_json({
                "engine": engine.value, "mode": mode, "executors": executors, "bit_order": BIT_ORDER,
                "tasks": [{
                    "file": item.source, "circuit_format": item.circuit_format, "ok": i not in failed,
                    "ranking": explanation_json(explanations[i]),
                    "result": None if i in failed else result_json(outcomes[i]),
                    "error": {"type": type(outcomes[i]).__name__, "message": str(outcomes[i])} if i in failed else None,
                } for i, item in enumerate(inputs)],
            })
        else:
            for i, item in enumerate(inputs):
                print(f"== {item.source} ({item.circuit_format})")
                if explanations[i] is not None:
                    print(explanations[i])
                if i in failed:
                    print(error_line(f"{item.source}: {type(outcomes[i]).__name__}: {outcomes[i]}"), file=sys.stderr)
                    print("task failed (see stderr)\n")
                    continue
                result = outcomes[i]
                print_choice(explanations[i], result)
                print(f"counts (qubit 0 rightmost): {dict(sorted(result.get_counts().items()))}")
                if result.values is not None:
                    print(f"values: {result.values}")
                ran = f"{result.timings.ran_s * 1000:.1f} ms" if result.timings else "-"
                print(f"ran in {ran}; conversion path: {' -> '.join(result.conversion_path)}\n")
        if plot is not None:
            ok = [i for i in range(len(inputs)) if i not in failed]
            if ok:
                plot_results([outcomes[i] for i in ok], [f"{inputs[i].source} on {outcomes[i].resource_id}"
                                                         for i in ok], plot)
                print(f"plot written to {plot}", file=sys.stderr if as_json else sys.stdout)
            else:
                print(error_line("no plot written: every task failed"), file=sys.stderr)
        return EXIT_TASK_FAILED if failed else EXIT_OK
