"""Cross-package tests: every plugin installed. Hosts are built explicitly, never autoloaded."""

import os
import tempfile

import pytest
from qtau.plugins import PluginHost


@pytest.fixture(scope="session", autouse=True)
def private_ray_tmpdir():
    # Each test run gets its own Ray temp dir, so it never joins or disturbs another program's Ray.
    path = tempfile.mkdtemp(prefix="qtau-ray-")
    os.environ.setdefault("RAY_TMPDIR", path)
    os.environ.pop("RAY_ADDRESS", None)
    yield path


@pytest.fixture(scope="session")
def qiskit_host() -> PluginHost:
    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    return host
