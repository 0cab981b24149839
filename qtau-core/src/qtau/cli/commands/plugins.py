"""`qtau plugins`: installed plugins, their versions, the executors they serve, and load errors."""

from __future__ import annotations

from typing import Any

import attrs
import typer

from qtau.cli.exit_codes import EXIT_OK, EXIT_TASK_FAILED
from qtau.cli.output import print_json, print_table
from qtau.plugins import PluginHost, default_host

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of a table.")


def plugin_report(host: PluginHost) -> dict[str, Any]:
    infos = host.executors()
    plugins = []
    for name, module in host.spec().plugins:
        served = sorted(f"{i.name}*" if i.prefix else i.name for i in infos if i.provider == name)
        plugins.append({"name": name, "version": host.versions.get(name, "") or None, "module": module,
                        "executors": served})
    return {"plugins": plugins, "failures": [attrs.asdict(f) for f in host.failures]}


def print_plugins(report: dict[str, Any]) -> None:
    rows = [(p["name"], p["version"] or "-", p["module"], ", ".join(p["executors"]) or "-")
            for p in report["plugins"]]
    if rows:
        print_table(("plugin", "version", "module", "executors"), rows)
    else:
        print("No QTAU plugins installed: pip install qtau-qiskit (or qtau-braket, ...)")
    for f in report["failures"]:
        print(f"FAILED {f['plugin']} during {f['stage']}: {f['error_type']}: {f['message']}")


def load_failed(report: dict[str, Any]) -> bool:
    return any(f["stage"] == "load" for f in report["failures"])


def register(app: typer.Typer) -> None:
    @app.command("plugins")
    def plugins(as_json: bool = JSON_OPTION) -> int:
        """Installed plugins, versions, executors and load errors (exit 1 if one failed to load)."""
        report = plugin_report(default_host())
        print_json(report) if as_json else print_plugins(report)
        return EXIT_TASK_FAILED if load_failed(report) else EXIT_OK
