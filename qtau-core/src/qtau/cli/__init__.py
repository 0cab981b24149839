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

from qtau.cli.exit_codes import EXIT_OK, EXIT_TASK_FAILED, EXIT_USAGE

__all__ = ["EXIT_OK", "EXIT_TASK_FAILED", "EXIT_USAGE", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    missing = [name for name in ("typer", "rich") if not _importable(name)]
    if missing:
        print(f"error: the qtau command needs {' and '.join(missing)} (dependencies of qtau-core, not "
              "importable here). Fix: pip install --force-reinstall qtau-core", file=sys.stderr)
        return EXIT_USAGE
    # Imported here, after the check, on purpose: `import qtau.cli` stays free of typer and rich,
    # and a missing one is a one-line fix, not a traceback (the one import of a qtau module inside
    # a function that tests/test_layers.py allows).
    from qtau.cli.app import run

    return run(list(sys.argv[1:] if argv is None else argv))


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True
