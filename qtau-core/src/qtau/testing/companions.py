"""The plugins a backend under test needs beside itself: found among the installed ones.

The conformance suite loads only the plugin under test, so that nothing else installed answers for
it. A backend whose test circuits are in another plugin's format (a Qiskit `QuantumCircuit` on a
backend that wraps a Qiskit `BackendV2`), or whose resources accept a format only another plugin
converts to, then needs that plugin too: its *companion*. When a suite leaves
`companion_plugins` unset, each installed plugin that recognises a test circuit the host does not,
or adds a missing conversion path from a test circuit to a resource's formats, is added (in
entry-point order, and only while something is still missing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib.metadata import entry_points
from typing import Any

from qtau import test_plugins
from qtau.circuits import Circuits, detect_format
from qtau.errors import QtauError
from qtau.plugins import GROUP, PluginHost


def unmet(host: PluginHost, circuits: Sequence[Any], accepted: Iterable[str]) -> int:
    """How many test circuits `host` cannot recognise, or cannot convert to any `accepted` format."""
    targets = sorted(set(accepted))
    graph = Circuits(host).graph
    missing = 0
    for circuit in circuits:
        try:
            fmt = detect_format(host, circuit)
        except QtauError:
            missing += 1
            continue
        if fmt not in targets and graph.path(fmt, targets) is None:
            missing += 1
    return missing


def find_companions(host: PluginHost, circuits: Sequence[Any], accepted: Iterable[str]) -> list[tuple[str, str]]:
    """`(name, module)` of the installed plugins that `host` (the plugin under test) needs to run
    `circuits` on resources accepting `accepted` formats; empty when it needs none."""
    accepted = tuple(accepted)
    left = unmet(host, circuits, accepted)
    found: list[tuple[str, str]] = []
    for ep in entry_points(group=GROUP):
        if left == 0:
            break
        module = ep.value.split(":")[0]
        if ep.name in host.names or test_plugins.hidden(getattr(ep, "dist", None)):
            continue
        trial = PluginHost.from_spec(host.spec())
        trial.strict = False
        for name, companion in found:
            trial.register_module(name, companion)
        trial.register_module(ep.name, module)
        if trial.failures:
            continue
        now = unmet(trial, circuits, accepted)
        if now < left:
            found.append((ep.name, module))
            left = now
    return found
