"""`qtau resources [EXECUTOR...]`: the resources each executor offers with a default configuration."""

from __future__ import annotations

import sys

import attrs
import typer

from qtau.cli import EXIT_OK, EXIT_TASK_FAILED
from qtau.cli.commands.plugins import JSON_OPTION
from qtau.cli.output import error_line, print_json, print_table
from qtau.errors import QtauError
from qtau.plugins import default_host

EXECUTORS_ARGUMENT = typer.Argument(None, metavar="[EXECUTOR]...",
                                    help="Executors to list (default: every non-prefixed one).")


def register(app: typer.Typer) -> None:
    @app.command("resources")
    def resources(
        executors: list[str] | None = EXECUTORS_ARGUMENT,
        as_json: bool = JSON_OPTION,
    ) -> int:
        """What each executor offers: resource ids, kinds, qubits and circuit formats."""
        host = default_host()
        names = executors or [i.name for i in host.executors() if not i.prefix]
        found, errors = [], []
        for executor in names:
            try:
                offered = host.resources(executor, {"executor": executor})
            except QtauError as err:
                errors.append({"executor": executor, "error": type(err).__name__, "message": str(err)})
                continue
            found.extend({"executor": executor, **attrs.asdict(res)} for res in offered or [])
        prefixed = sorted(i.name + "*" for i in host.executors() if i.prefix)
        if as_json:
            print_json({"resources": found, "errors": errors, "prefixed_executors": prefixed})
        else:
            for err in errors:
                print(error_line(f"{err['executor']}: {err['message']}"), file=sys.stderr)
            print_table(("executor", "resource", "kind", "qubits", "formats"),
                        [(r["executor"], r["id"], r["kind"], r["num_qubits"], ",".join(r["circuit_formats"]))
                         for r in found])
            if prefixed and not executors:
                print(f"\nPrefixed executors (name one to list its resources): {', '.join(prefixed)}")
        return EXIT_TASK_FAILED if errors else EXIT_OK
