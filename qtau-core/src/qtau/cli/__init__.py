"""The `qtau` command: a typer application, loaded only when the command runs.

typer and rich are dependencies of qtau-core, so `pip install qtau-core` gives a working `qtau`.
`main()` is the console-script entry point; it imports nothing beyond the standard library until
typer and rich are known to import, so an environment where they were removed gets a one-line fix
instead of a traceback, and `import qtau` never imports typer or rich.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: Exit statuses of every command.
EXIT_OK, EXIT_TASK_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    missing = [name for name in ("typer", "rich") if not _importable(name)]
    if missing:
        print(f"error: the qtau command needs {' and '.join(missing)} (dependencies of qtau-core, not "
              "importable here). Fix: pip install --force-reinstall qtau-core", file=sys.stderr)
        return EXIT_USAGE
    from qtau.cli.app import run

    return run(list(sys.argv[1:] if argv is None else argv))


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True
