"""`qtau doctor`: versions (of QTAU's packages and, through `qtau_versions`, the SDKs each plugin
runs on), plugin imports, engines and optional extras, with what to install."""

from __future__ import annotations

import importlib.util
from typing import Any

import typer

from qtau.cli.commands.plugins import JSON_OPTION, load_failed, plugin_report, print_plugins
from qtau.cli.exit_codes import EXIT_OK, EXIT_TASK_FAILED
from qtau.cli.output import print_json, print_table
from qtau.dreamer.prices import stale_tables
from qtau.plugins import default_host, missing_plugins
from qtau.versions import package_versions

#: Optional parts of qtau-core: (module that must import, what it enables, how to install it).
EXTRAS = (
    ("ray", "ExecutionEngine.RAY", "pip install 'qtau-core[ray]'"),
    ("matplotlib", "Result.plot(), Explanation.plot(), qtau run --plot", "pip install 'qtau-core[plot]'"),
)


def doctor_report() -> dict[str, Any]:
    host = default_host()
    report = plugin_report(host)
    report["versions"] = package_versions()
    report["sdk_versions"], report["sdk_warnings"] = sdk_versions(host)
    report["import_problems"] = missing_plugins(host.spec())
    report["extras"] = {module: {"installed": importlib.util.find_spec(module) is not None, "enables": what,
                                 "install": how} for module, what, how in EXTRAS}
    report["price_warnings"] = price_warnings(host)
    report["ok"] = not load_failed(report) and not report["import_problems"]
    return report


def price_warnings(host: Any) -> list[str]:
    """Shipped price tables older than 180 days, or that a plugin could not list."""
    tables, warnings = [], []
    for provider, backend in sorted(host.backends().items()):
        try:
            tables.extend(backend.price_tables())
        except Exception as err:  # one plugin's broken table never hides the others
            warnings.append(f"{provider} could not list its price tables: {type(err).__name__}: {err}")
    return warnings + list(stale_tables(tables))


def sdk_versions(host: Any) -> tuple[dict[str, dict[str, str]], list[str]]:
    """`{plugin: {package: version}}` from every plugin's `qtau_versions` hook, and a warning for
    each plugin whose answer failed or was not a mapping of names to versions."""
    found: dict[str, dict[str, str]] = {}
    warnings = []
    for impl in host.pm.hook.qtau_versions.get_hookimpls():
        try:
            answer = impl.function()
            found[impl.plugin_name] = {str(name): str(version) for name, version in dict(answer).items()}
        except Exception as err:  # one plugin's broken hook never hides the others' versions
            warnings.append(f"{impl.plugin_name} could not list its SDK versions: {type(err).__name__}: {err}")
    return dict(sorted(found.items())), warnings


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor(as_json: bool = JSON_OPTION) -> int:
        """Check package versions, that plugins import, and which engines and extras are available."""
        report = doctor_report()
        if as_json:
            print_json(report)
        else:
            print_table(("package", "version"), list(report["versions"].items()))
            if report["sdk_versions"]:
                print()
                print_table(("plugin", "SDK package", "version"),
                            [(plugin, name, version) for plugin, sdks in report["sdk_versions"].items()
                             for name, version in sdks.items()])
            print()
            print_plugins(report)
            for problem in report["import_problems"]:
                print(f"cannot import {problem}")
            for warning in report["sdk_warnings"] + report["price_warnings"]:
                print(f"warning: {warning}")
            print()
            print_table(("extra", "status", "enables"),
                        [(m, "installed" if e["installed"] else f"missing: {e['install']}", e["enables"])
                         for m, e in report["extras"].items()])
        return EXIT_OK if report["ok"] else EXIT_TASK_FAILED
