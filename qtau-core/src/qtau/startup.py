"""A service's engine start: at the first pilot, on the cluster that pilot names, and the check
that the service's plugins import where tasks run (RAY: on every node).

The check runs beside start-up and is settled before the first result is handed out (or when
the user calls `check_plugins()`), so creating a pilot never waits for a cluster's nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from qtau.engines.base import Engine
from qtau.errors import PluginError
from qtau.plugins import PluginHost


class EngineStart:
    def __init__(self, engine: Engine, host: PluginHost) -> None:
        self.engine = engine
        self.host = host
        self.started = False
        self._check: Callable[[float | None], list[str]] | None = None
        self._problems: list[str] = []

    def start(self, description: Mapping[str, Any]) -> Engine:
        """The started engine (the one `description` asks for, on the first call)."""
        if not self.started:
            self.engine = self.engine.for_pilot(description)
            self.engine.forms = self.host.compact_forms()
            self.engine.start()
            self.started = True
            self._check = self.engine.check_plugins(self.host.spec())
        return self.engine

    def check_plugins(self, timeout: float | None) -> None:
        """Raise PluginError if any of the plugins cannot be imported where tasks run."""
        check, self._check = self._check, None
        if check is not None:
            self._problems = check(timeout)
        if self._problems:
            raise PluginError(
                "QTAU plugins are missing where tasks run:\n  " + "\n  ".join(self._problems),
                plugin=",".join(self.host.names),
                fix="install the same qtau plugins on every node of the Ray cluster",
            )
