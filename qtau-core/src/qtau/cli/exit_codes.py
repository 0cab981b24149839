"""Exit statuses of every `qtau` command: 0 ok, 1 a task failed, 2 bad usage.

A module of its own so the typer application and its commands read them without importing the
package's entry point (`qtau.cli.main`), which imports the application.
"""

#: Exit statuses of every command.
EXIT_OK, EXIT_TASK_FAILED, EXIT_USAGE = 0, 1, 2
