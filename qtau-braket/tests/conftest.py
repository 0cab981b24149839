"""Shared fixtures: a plugin host holding only this plugin, and the offline Braket stub.

The stub (qtau_braket.testing.stub_server) is a real HTTP server on 127.0.0.1 that speaks the
Braket API and runs every submitted program on Braket's local simulator; S3 is moto's server.
No AWS endpoint is reachable from the tests, and none is mocked in-process: the plugin's own
boto3/Braket SDK code sends every request over HTTP.
"""

from __future__ import annotations

import pytest
from qtau.plugins import PluginHost
from qtau_braket import session
from qtau_braket.testing.stub_server import BraketStub

AWS_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
           "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION", "BRAKET_ENDPOINT", "BRAKET_DEVICE_ARN",
           "AMZN_BRAKET_TASK_RESULTS_S3_URI", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_BRAKET",
           "QTAU_BRAKET_PRICE_LIST_URL")


@pytest.fixture(autouse=True)
def clean_aws_env(monkeypatch, tmp_path):
    """No user credentials, config files or instance metadata: the tests see only what they set."""
    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("QTAU_CACHE_DIR", str(tmp_path / "qtau-cache"))  # learned waits: never the user's
    session.forget()
    yield
    session.forget()


@pytest.fixture(scope="session")
def stub():
    with BraketStub() as server:
        yield server


@pytest.fixture
def fresh_stub(stub):
    """The shared stub, with its faults reset after the test."""
    yield stub
    stub.reset()


@pytest.fixture(scope="module")
def host() -> PluginHost:
    found = PluginHost(strict=True)
    found.register_module("braket", "qtau_braket.plugin")
    return found
