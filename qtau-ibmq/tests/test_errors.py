"""Credentials, network faults and bad names, offline.

No IBM endpoint is reachable here, so these tests point the real QiskitRuntimeService at
127.0.0.1: a local stub HTTP server that answers 401 (an IBM that refuses the key), one that
accepts connections and never answers (a hung network), and a closed port (no network). They
reach the stub as an HTTP proxy (HTTP(S)_PROXY), because the SDK derives its IAM host from the
API URL. The token never appears in an error, its traceback, a repr or a log record.
"""

import logging
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from qtau.errors import (
    AuthenticationError,
    BackendUnavailableError,
    ConfigurationError,
    UnknownExecutorError,
)
from qtau.secrets import Secret
from qtau_ibmq import backends, names
from qtau_ibmq.credentials import account_of

TOKEN = "qtau-test-api-key-0123456789abcdef"
CRN = "crn:v1:bluemix:public:quantum-computing:us-east:a/0123::"


class Refuse(BaseHTTPRequestHandler):
    def _deny(self):
        body = b'{"errorCode":"BXNIM0415E","errorMessage":"Provided API key could not be found."}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _deny

    def log_message(self, *args):
        pass


@pytest.fixture
def refusing_proxy(offline_env, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.setenv("HTTPS_PROXY", url)
    yield url
    server.shutdown()


@pytest.fixture
def silent_port(offline_env, monkeypatch):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)  # accepts, never answers
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.setenv("HTTPS_PROXY", url)
    yield url
    sock.close()


@pytest.fixture
def closed_port(offline_env, monkeypatch):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()  # nothing listens: connections are refused
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.setenv("HTTPS_PROXY", url)
    return url


def pilot(host, executor, **extra):
    from qtau.service import PilotComputeService

    pcs = PilotComputeService(execution_engine="local", plugins=host)
    try:
        return pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor, **extra.pop("quantum", {})},
                                 **extra})
    finally:
        pcs.close()


def assert_no_token(err: BaseException, caplog) -> None:
    text = "".join(traceback.format_exception(err))
    assert TOKEN not in text and TOKEN not in repr(err)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_missing_token_is_an_authentication_error_at_once(host, offline_env):
    started = time.monotonic()
    with pytest.raises(AuthenticationError) as info:
        pilot(host, "ibmq_brisbane", quantum={"account_file": str(offline_env / "none.json")})
    assert time.monotonic() - started < 5
    assert "IBMQX_TOKEN" in str(info.value) and "ibmq_fake_" in str(info.value)


def test_refused_token_is_an_authentication_error(host, refusing_proxy, caplog):
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    with pytest.raises(AuthenticationError) as info:
        pilot(host, "ibmq_brisbane", ibmqx_token=TOKEN, quantum={"url": "http://quantum.test", "instance": CRN})
    assert time.monotonic() - started < 10
    assert "refused" in str(info.value)
    assert_no_token(info.value, caplog)


def test_token_from_the_environment(host, refusing_proxy, monkeypatch, caplog):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
    with pytest.raises(AuthenticationError) as info:
        pilot(host, "ibmq_least_busy", quantum={"url": "http://quantum.test"})
    assert_no_token(info.value, caplog)


def test_no_network_is_backend_unavailable(host, closed_port, caplog):
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError) as info:
        pilot(host, "ibmq_brisbane", ibmqx_token=TOKEN)
    assert time.monotonic() - started < 10
    assert_no_token(info.value, caplog)


def test_hung_network_is_bounded_by_connect_timeout(host, silent_port, caplog):
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError, match="within 1 s"):
        pilot(host, "ibmq_brisbane", ibmqx_token=Secret(TOKEN), quantum={"connect_timeout": 1})
    assert time.monotonic() - started < 5


def test_account_repr_hides_the_token():
    account = account_of({"ibmqx_token": Secret(TOKEN)})
    assert TOKEN not in repr(account) and account.token.reveal() == TOKEN


def test_unknown_fake_lists_close_matches(host):
    with pytest.raises(UnknownExecutorError) as info:
        pilot(host, "ibmq_fake_manilla")
    assert "did you mean ibmq_fake_manila" in str(info.value)


def test_unknown_device_lists_close_matches(host):
    with pytest.raises(UnknownExecutorError) as info:
        pilot(host, "ibmq_brisbain", quantum={"channel": "local"})
    assert "ibmq_fake_brisbane" in str(info.value)


def fakes_without_readout() -> list[str]:
    """Fake backends whose snapshot has no measurement, in the installed qiskit-ibm-runtime (the
    newest releases added readout to some that had none, e.g. fake_almaden)."""
    return [n for n in backends.fake_names() if not backends.can_measure(backends.fake_backend(n))]


def test_fake_without_readout_cannot_be_a_pilot(host):
    missing = fakes_without_readout()
    if not missing:
        pytest.skip("this qiskit-ibm-runtime has no fake backend without readout")
    with pytest.raises(ConfigurationError, match="no measurement"):
        pilot(host, f"ibmq_{missing[0]}")


def test_bad_channel_and_timeout(host):
    with pytest.raises(ConfigurationError, match="channel"):
        pilot(host, "ibmq_brisbane", quantum={"channel": "ibm_quantum"})
    with pytest.raises(ConfigurationError, match="connect_timeout"):
        pilot(host, "ibmq_brisbane", quantum={"connect_timeout": 0})


def test_device_names_with_and_without_the_ibm_prefix():
    assert names.parse("ibmq_brisbane").candidates()[0] == "ibm_brisbane"
    assert names.parse("ibmq_ibm_brisbane").candidates() == ("ibm_brisbane",)
    assert names.parse("ibmq_brisbane").candidates(local=True)[0] == "fake_brisbane"
    assert names.parse("ibmq_fake_manila").kind == names.FAKE
    assert names.parse("ibmq_least_busy").kind == names.LEAST_BUSY
    with pytest.raises(UnknownExecutorError):
        names.parse("ibmq_")


def test_local_channel_resolves_both_spellings(host):
    one = pilot(host, "ibmq_brisbane", quantum={"channel": "local"}).resources
    two = pilot(host, "ibmq_ibm_brisbane", quantum={"channel": "local"}).resources
    assert [r.id for r in one] == [r.id for r in two] == ["ibmq:fake_brisbane"]


def test_least_busy_offers_every_backend_of_the_account(host):
    found = pilot(host, "ibmq_least_busy", quantum={"channel": "local"}).resources
    ids = {r.id for r in found}
    assert len(found) > 40 and {"ibmq:fake_manila", "ibmq:fake_brisbane", "ibmq:fake_fez"} <= ids
    assert not ids & {f"ibmq:{n}" for n in fakes_without_readout()}  # no readout in their snapshots


def test_qasm_simulator_warns_once(recwarn):
    backends._warned = False
    backends.resources("ibmq_qasm_simulator", {})
    backends.resources("ibmq_qasm_simulator", {})
    retired = [w for w in recwarn if "retired" in str(w.message)]
    assert len(retired) == 1


def test_ibm_sdk_debug_logging_leaves_http_client_alone(host, refusing_proxy, caplog):
    """ibm_cloud_sdk_core, at DEBUG, patches http.client for the whole process; QTAU undoes it."""
    import http.client

    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError):
        pilot(host, "ibmq_brisbane", ibmqx_token=TOKEN, quantum={"url": "http://quantum.test", "instance": CRN})
    assert http.client.HTTPConnection.debuglevel == 0
    assert "print" not in vars(http.client)


def test_settings_computed_with_numpy_are_valid():
    """Seeds, the connect timeout and pricing numbers given as numpy scalars are read as Python's
    numbers; a bad one is still refused."""
    import numpy as np
    from qtau_ibmq import pricing
    from qtau_ibmq.credentials import timeout_of
    from qtau_ibmq.executor import _options

    assert timeout_of({"connect_timeout": np.float32(2.5)}) == 2.5
    options = _options({"seed_simulator": np.int64(42), "seed_transpiler": np.int32(7)})
    assert (options["seed_simulator"], options["seed_transpiler"]) == (42, 7)
    assert type(options["seed_simulator"]) is int
    with pytest.raises(ConfigurationError, match="seed_simulator"):
        _options({"seed_simulator": np.float64(42)})
    with pytest.raises(ConfigurationError, match="connect_timeout"):
        timeout_of({"connect_timeout": np.float64(0)})
    assert pricing.settings({"pricing": {"per_second": np.float64(1.2)}})["per_second"] == 1.2
    with pytest.raises(ConfigurationError, match="pricing"):
        pricing.settings({"pricing": {"per_second": np.float64(-1)}})
