"""Shared fixtures: one plugin host and one LOCAL service per pilot config, reused across tests.

PennyLane and device construction take seconds; services are cached for the whole session so
each device is built once.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from qtau.plugins import PluginHost

# QDREAMER's learned run times (dreamer/runtime_model.py) never come from or go to the user's cache.
os.environ["QTAU_CACHE_DIR"] = tempfile.mkdtemp(prefix="qtau-runtime-models-")

# --import-mode=importlib puts no test folder on sys.path; the shared circuits live beside this file.
sys.path.insert(0, str(Path(__file__).parent))


def make_host(*companions: tuple[str, str]) -> PluginHost:
    host = PluginHost(strict=True)
    host.register_module("pennylane", "qtau_pennylane.plugin")
    for name, module in companions:
        host.register_module(name, module)
    return host


@pytest.fixture(scope="session")
def host() -> PluginHost:
    return make_host()


@pytest.fixture(scope="session")
def services(host):
    """`services(executor, **quantum)`: a LOCAL service with one pilot, made once per config."""
    from qtau.service import PilotComputeService

    made: dict = {}

    def get(executor: str, **quantum):
        key = (executor, repr(sorted(quantum.items())))
        if key not in made:
            pcs = PilotComputeService(execution_engine="local", plugins=host)
            pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor, **quantum}})
            made[key] = pcs
        return made[key]

    yield get
    for pcs in made.values():
        pcs.close()


def run(pcs, circuit, **task):
    from qtau import QuantumTask

    return pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=circuit, **task)), timeout=120)
