"""Pilot-Quantum's IBMQExecutor: IBM backends through QTAU's `ibmq_*` executors.

Without a token (`token`/`ibmqx_token` in the config, or IBMQX_TOKEN) a backend runs as its
offline fake (`ibmq_montreal` -> `fake_montreal`), which is a simulator, as Pilot-Quantum said.
"""

from __future__ import annotations

import os
from typing import Any

from pilot.executors.base_executor import BaseExecutor


class IBMQExecutor(BaseExecutor):
    """Config: `backend` (fake_quebec, ibm_brisbane...), `token`, `shots`."""

    def token(self) -> Any:
        return self.config.get("token") or self.config.get("ibmqx_token") or os.environ.get("IBMQX_TOKEN")

    def quantum_section(self) -> dict[str, Any]:
        section: dict[str, Any] = {"executor": "ibmq"}
        if self.config.get("backend"):
            section["backend"] = self.config["backend"]
        if self.token():
            section["ibmqx_token"] = self.token()
        return section

    def is_simulator(self) -> bool:
        """True for a fake backend or without a token; otherwise the device's own answer."""
        if not self.token() or "fake" in str(self.config.get("backend", "")):
            return True
        try:
            return super().is_simulator()
        except Exception as err:  # no connection: Pilot-Quantum treated the backend as a simulator
            self.logger.warning("IBM Quantum unreachable (%s); treating %s as a simulator", err, self.name)
            return True
