"""A progress bar for waits over many tasks: done, failed, running and rate, drawn with rich.

Shown by `PilotComputeService.wait_tasks` and `get_results` when `progress=True`, or, with the
default `progress=None`, when the wait covers at least `AUTO_MIN_TASKS` tasks and stderr is a
terminal or the code runs in a Jupyter kernel. `QTAU_PROGRESS=0` (or `1`) overrides the automatic
choice. When no bar is shown the wait is the engine's own call, untouched: nothing is polled,
fetched or imported, so the default costs nothing outside terminals and notebooks.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from qtau.errors import ConfigurationError
from qtau.types import Result

#: A wait over fewer tasks than this shows no bar unless asked (`progress=True`).
AUTO_MIN_TASKS = 2
#: How often the bar refreshes its counts, in seconds.
POLL_SECONDS = 0.2


def enabled(progress: bool | None, n_tasks: int) -> bool:
    """Whether a wait over `n_tasks` tasks shows a bar."""
    if progress is not None:
        if not isinstance(progress, bool):
            raise ConfigurationError(
                "progress must be True, False or None", field="progress", value=progress,
                fix="pass progress=True to always show the bar, False to never, None to decide by terminal",
            )
        return progress and n_tasks > 0
    if n_tasks < AUTO_MIN_TASKS:
        return False
    forced = os.environ.get("QTAU_PROGRESS", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    return (_in_notebook() or _stderr_is_terminal()) and _rich_installed()


def wait(engine: Any, handles: Sequence[Any], timeout: float | None,
         progress: bool | None = None) -> tuple[list[Any], list[Any]]:
    """`engine.wait(handles, timeout)`, with a bar when `enabled(progress, len(handles))`."""
    if not enabled(progress, len(handles)):
        return engine.wait(handles, timeout)
    return _wait_with_bar(engine, handles, timeout)


def wait_before_fetch(engine: Any, handles: Sequence[Any], timeout: float | None,
                      progress: bool | None = None) -> float | None:
    """Show the bar until `handles` are done (when enabled) and return the time left of `timeout`
    for fetching their values; returns `timeout` unchanged when no bar is shown."""
    if not enabled(progress, len(handles)):
        return timeout
    started = time.monotonic()
    _wait_with_bar(engine, handles, timeout)
    return None if timeout is None else max(timeout - (time.monotonic() - started), 0.0)


def _wait_with_bar(engine: Any, handles: Sequence[Any], timeout: float | None) -> tuple[list[Any], list[Any]]:
    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )
    except ImportError:
        raise ConfigurationError(
            "progress bars need rich", field="progress", value=True,
            fix="pip install rich (a dependency of qtau-core), or pass progress=False",
        ) from None
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    done: list[Any] = []
    pending = list(handles)
    failed = 0
    columns = (
        TextColumn("QTAU tasks"), BarColumn(), MofNCompleteColumn(),
        TextColumn("done, {task.fields[failed]} failed, {task.fields[running]} running, {task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        row = bar.add_task("tasks", total=len(handles), failed=0, running=len(pending), rate="- tasks/s")
        while pending:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            newly, pending = engine.wait(pending, POLL_SECONDS if left is None else min(POLL_SECONDS, left))
            if newly:
                done.extend(newly)
                failed += count_failed(engine, newly)
            elapsed = max(time.monotonic() - started, 1e-9)
            bar.update(row, completed=len(done), failed=failed, running=len(pending),
                       rate=f"{len(done) / elapsed:.1f} tasks/s")
        bar.refresh()  # the final counts, even where the live display refreshes asynchronously (Jupyter)
    return done, pending


def count_failed(engine: Any, finished: Sequence[Any]) -> int:
    """How many finished handles hold an error instead of a Result (their values are fetched)."""
    try:
        values = engine.get_many(list(finished), None)
    except Exception:  # noqa: BLE001 - a handle whose engine error is not a QtauError failed too
        values = []
        for handle in finished:
            try:
                values.append(engine.get(handle, None))
            except Exception as err:  # noqa: BLE001
                values.append(err)
    return sum(1 for value in values if not isinstance(value, Result))


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _rich_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("rich") is not None
