"""The typer application: global options, the command registry, and how errors become exit codes.

Adding a command: write `qtau/cli/commands/<name>.py` with a `register(app)` function that
decorates its command with `@app.command()`, and add the module's name to `COMMANDS`. Commands
return an exit status (`EXIT_OK`, `EXIT_TASK_FAILED`); raising a `QtauError` for bad input makes
the command print `error: <message> Fix: <fix>` and exit 2.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence

import typer

from qtau.cli.exit_codes import EXIT_OK, EXIT_TASK_FAILED, EXIT_USAGE
from qtau.cli.output import error_line
from qtau.errors import QtauError
from qtau.versions import package_versions

#: Command modules under qtau.cli.commands, in the order `qtau --help` lists them.
COMMANDS = ("demo", "run", "rank", "quote", "plugins", "resources", "doctor", "jobs")

app = typer.Typer(
    name="qtau", help="Run quantum circuits on any installed backend; QDREAMER picks the best one.",
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
)


class State:
    """Options given before the command, read by `run` when an error escapes."""

    debug = False


def _show_version(value: bool) -> None:
    if value:
        for dist, version in package_versions().items():
            print(f"{dist} {version}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                 help="Show the version of qtau-core and of each installed plugin, then exit."),
    debug: bool = typer.Option(False, "--debug", help="Show the Python traceback of an error."),
) -> None:
    State.debug = debug


for _name in COMMANDS:
    importlib.import_module(f"qtau.cli.commands.{_name}").register(app)


def run(argv: Sequence[str]) -> int:
    """Run the command line `argv`; return its exit status (0 ok, 1 a task failed, 2 bad usage)."""
    command = typer.main.get_command(app)
    State.debug = "--debug" in argv
    try:
        status = command.main(args=list(argv), prog_name="qtau", standalone_mode=False)
    except typer.Exit as err:
        return err.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except Exception as err:
        if not _is_usage_error(err):
            return _failed(err)
        if type(err).__name__ == "NoArgsIsHelpError":
            print(err.ctx.get_help() if getattr(err, "ctx", None) else "", file=sys.stderr)
            return EXIT_USAGE
        print(error_line(err.format_message(), f"see `{_help_for(err)}` for the valid options"), file=sys.stderr)
        return EXIT_USAGE
    return status if isinstance(status, int) else EXIT_OK


def _is_usage_error(err: BaseException) -> bool:
    """Click's usage errors (typer vendors click in recent versions, so matched by shape, not class)."""
    return callable(getattr(err, "format_message", None)) and hasattr(err, "exit_code") and not isinstance(err, QtauError)


def _help_for(err: BaseException) -> str:
    ctx = getattr(err, "ctx", None)
    if ctx is not None and ctx.parent is not None:
        return f"qtau {ctx.info_name} --help"
    return "qtau --help"


def _failed(err: BaseException) -> int:
    if isinstance(err, QtauError):
        if State.debug:
            traceback.print_exception(err)
        print(error_line(str(err)), file=sys.stderr)
        return EXIT_USAGE
    # A bug or an SDK failure outside any task: say so, keep the traceback optional.
    if State.debug:
        traceback.print_exception(err)
    print(error_line(f"unexpected {type(err).__name__}: {err}", "rerun with --debug for the traceback, and report it"),
          file=sys.stderr)
    return EXIT_TASK_FAILED
