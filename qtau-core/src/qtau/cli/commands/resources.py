"""`qtau resources [EXECUTOR...]`: the resources each executor offers with a default configuration.

Listing every executor (none named), one that cannot offer resources here because something is
missing (an SDK that cannot be installed beside the others, a server that is not running,
credentials, or a setting only a pilot description gives) is shown under "not available here"
with its fix; that is the state of the machine, not a failure, so the exit status stays 0. An
executor named on the command line that cannot list its resources, or a plugin that fails for any
other reason, exits 1.
"""

from __future__ import annotations

import sys

import attrs
import typer

from qtau.cli.commands.plugins import JSON_OPTION
from qtau.cli.exit_codes import EXIT_OK, EXIT_TASK_FAILED
from qtau.cli.output import error_line, print_json, print_table
from qtau.errors import AuthenticationError, BackendUnavailableError, ConfigurationError, QtauError
from qtau.plugins import default_host

EXECUTORS_ARGUMENT = typer.Argument(None, metavar="[EXECUTOR]...",
                                    help="Executors to list (default: every non-prefixed one).")

#: Errors that say what this machine lacks for an executor, not that anything is broken.
NOT_AVAILABLE = (ConfigurationError, AuthenticationError, BackendUnavailableError)


def register(app: typer.Typer) -> None:
    @app.command("resources")
    def resources(
        executors: list[str] | None = EXECUTORS_ARGUMENT,
        as_json: bool = JSON_OPTION,
    ) -> int:
        """What each executor offers: resource ids, kinds, qubits and circuit formats (executors not
        available here are listed with what to install or start)."""
        host = default_host()
        names = executors or [i.name for i in host.executors() if not i.prefix]
        found, errors, unavailable = [], [], []
        for executor in names:
            try:
                offered = host.resources(executor, {"executor": executor})
            except QtauError as err:
                entry = {"executor": executor, "error": type(err).__name__, "message": str(err)}
                (unavailable if not executors and isinstance(err, NOT_AVAILABLE) else errors).append(entry)
                continue
            found.extend({"executor": executor, **attrs.asdict(res)} for res in offered or [])
        prefixed = sorted(i.name + "*" for i in host.executors() if i.prefix)
        if as_json:
            print_json({"resources": found, "errors": errors, "unavailable": unavailable,
                        "prefixed_executors": prefixed})
        elif not host.names:
            print("No QTAU plugins installed, so no executors: pip install qtau-qiskit "
                  "(or qtau-braket, qtau-pennylane, qtau-ibmq)")
        else:
            for err in errors:
                print(error_line(f"{err['executor']}: {err['message']}"), file=sys.stderr)
            print_table(("executor", "resource", "kind", "qubits", "formats"),
                        [(r["executor"], r["id"], r["kind"], r["num_qubits"], ",".join(r["circuit_formats"]))
                         for r in found])
            if unavailable:
                print("\nNot available here (what to install or start):")
                for item in unavailable:
                    print(f"  {item['executor']}: {item['message']}")
            if prefixed and not executors:
                print(f"\nPrefixed executors (name one to list its resources): {', '.join(prefixed)}")
        return EXIT_TASK_FAILED if errors else EXIT_OK
