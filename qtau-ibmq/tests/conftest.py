"""Shared helpers: Qiskit circuits and a plugin host holding only this plugin (never autoloaded)."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit
from qtau.plugins import PluginHost


def _bell() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def _x0() -> QuantumCircuit:
    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.measure([0, 1, 2], [0, 1, 2])
    return qc


@pytest.fixture(scope="module")
def host() -> PluginHost:
    found = PluginHost(strict=True)
    found.register_module("ibmq", "qtau_ibmq.plugin")
    found.register_module("qiskit", "qtau_qiskit.plugin")  # owns the `qiskit` circuit format
    return found


@pytest.fixture
def offline_env(monkeypatch, tmp_path):
    """No token in the environment and no saved account: the tests never see the user's credentials."""
    for name in ("IBMQX_TOKEN", "QISKIT_IBM_TOKEN", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    from qtau_ibmq import connect

    connect.forget()
    yield tmp_path
    connect.forget()


@pytest.fixture
def bell():
    return _bell


@pytest.fixture
def x0():
    return _x0


@pytest.fixture(autouse=True)
def private_qtau_cache(monkeypatch, tmp_path_factory):
    """QDREAMER's learned run times and waits never come from or go to the user's cache."""
    monkeypatch.setenv("QTAU_CACHE_DIR", str(tmp_path_factory.mktemp("qtau-cache")))

