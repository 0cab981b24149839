"""Options shared by the commands that run circuits, and the service they start."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import typer

from qtau.cli.inputs import check_executors, check_plot_path, load_circuit
from qtau.dreamer.config import PRESETS, DreamerConfig
from qtau.errors import QtauError
from qtau.plugins import PluginHost, default_host
from qtau.service import PilotComputeService
from qtau.validation import finite_number


class Engine(str, Enum):
    local = "local"
    ray = "ray"


ENGINE_OPTION = typer.Option(Engine.local, "--engine", help="Where tasks run: in this process or on Ray.")
MODE_OPTION = typer.Option("balanced", "--mode", help=f"QDREAMER optimization mode: {', '.join(PRESETS)}.")
SHOTS_OPTION = typer.Option(1000, "--shots", help="Shots per circuit (at least 1).")
EXECUTOR_OPTION = typer.Option(
    None, "--executor", "-e", metavar="NAME",
    help="Executor to make a pilot for; repeat for several (default: every installed local simulator).",
)
PLOT_OPTION = typer.Option(None, "--plot", metavar="PNG", dir_okay=False,
                           help="Write a figure to this file (needs qtau-core[plot]).")
FILES_ARGUMENT = typer.Argument(..., metavar="FILE...",
                                help="OpenQASM 2/3 files, or module.py:function returning a circuit.")


def check_count(value: int, option: str, low: int, example: str) -> int:
    """An integer option's value, at least `low` (qtau.validation's message names the option and value)."""
    finite_number(value, option, low=low, integer=True, fix=f"pass {option} {example}")
    return value


def check_mode(mode: str) -> str:
    DreamerConfig.parse({"optimization_mode": mode})
    return mode


def start_service(host: PluginHost, executors: list[str], engine: Engine, mode: str, *, echo: bool = False):
    """A PilotComputeService with one pilot per executor and QDREAMER in `mode` (closed on error)."""
    pcs = PilotComputeService(execution_engine=engine.value, plugins=host)
    try:
        for executor in executors:
            pilot = pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
            if echo:
                print(f"pilot {pilot.name}: {executor} -> {', '.join(r.id for r in pilot.resources)}")
        # The printed ranking of each task is the one its placement was decided by.
        pcs.initialize_dreamer({"optimization_mode": mode}).remember_decisions()
    except BaseException:
        pcs.close()
        raise
    return pcs


def decided_ranking(pcs: Any, task: Any) -> Any:
    """The Explanation `task`'s placement was decided by; for a task that was not placed (nothing
    fits it), the ranking that rejected it (None when even that cannot be built)."""
    decided = pcs.qdreamer.decision(task.task_id)
    if decided is not None:
        return decided
    try:
        return pcs.qdreamer.explain(task)
    except QtauError:
        return None


def plot_path(path: Path | None) -> Path | None:
    return check_plot_path(path)


def checked_inputs(files: list[str], executor: list[str] | None, shots: int, mode: str, plot: Any) -> tuple:
    """What `run` and `rank` check before starting a service, in one place: (host, plot path,
    loaded circuits, executors). Bad usage raises a QtauError naming the option."""
    check_count(shots, "--shots", 1, "1000, for example")
    host = default_host()
    plot = plot_path(plot)
    inputs = [load_circuit(source, host) for source in files]
    executors = check_executors(host, executor)
    check_mode(mode)
    return host, plot, inputs, executors
