"""Cost from the shipped price table, and the optional, bounded refresh from a price list."""

from __future__ import annotations

import socket
import time

import pytest
from qtau.errors import ConfigurationError
from qtau.types import Resource
from qtau_braket import pricing


def res(arn: str, kind: str) -> Resource:
    return Resource(id=f"braket:{arn}", provider="braket", executor="braket_device_arn", kind=kind, num_qubits=8,
                    circuit_formats=("braket",), metadata={"arn": arn, "region": "us-east-1"})


IONQ = res("arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1", "qpu")
SV1 = res("arn:aws:braket:::device/quantum-simulator/amazon/sv1", "simulator")


@pytest.fixture(autouse=True)
def forget_refresh():
    pricing._refreshed.clear()
    yield
    pricing._refreshed.clear()


def test_qpu_price_per_task_and_shot():
    cost = pricing.estimate(IONQ, {}, 1000)
    assert (cost.per_task, cost.per_shot, cost.currency) == (0.30, 0.08, "USD")
    assert cost.total(1000) == pytest.approx(80.30)


def test_simulator_price_per_minute_with_minimum():
    cost = pricing.estimate(SV1, {}, 100)
    assert cost.per_second == pytest.approx(0.075 / 60) and cost.estimated_seconds == 3.0
    assert cost.total(100) == pytest.approx(0.075 / 20)


def test_local_is_free(host):
    [local] = host.resources("braket_local", {})
    assert host.cost(local, {}, 1000).total(1000) == 0


def test_overrides_and_bad_overrides():
    assert pricing.estimate(IONQ, {"pricing": {"per_shot": 0.01}}, 100).per_shot == 0.01
    with pytest.raises(ConfigurationError, match="pricing"):
        pricing.estimate(IONQ, {"pricing": {"per_shot": -1}}, 100)


def test_refresh_from_price_list(stub):
    cost = pricing.estimate(IONQ, {"braket_price_list_url": stub.price_list_url}, 1000)
    assert (cost.per_task, cost.per_shot) == (0.29, 0.07) and "Price List" in cost.source


def test_unreachable_price_list_keeps_table_and_is_bounded():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)  # accepts, never answers
    try:
        started = time.monotonic()
        pricing.REFRESH_TIMEOUT_S, old = 0.5, pricing.REFRESH_TIMEOUT_S
        try:
            url = f"http://127.0.0.1:{sock.getsockname()[1]}/index.json"
            cost = pricing.estimate(IONQ, {"braket_price_list_url": url}, 10)
        finally:
            pricing.REFRESH_TIMEOUT_S = old
        assert time.monotonic() - started < 3
        assert cost.per_shot == 0.08 and "prices.json" in cost.source
    finally:
        sock.close()


def test_settings_computed_with_numpy_are_valid():
    """Pricing overrides, timeouts, retries and local parallelism given as numpy scalars (the
    plugin alone with the newest numpy, a dependency of Braket's SDK) are read as Python's numbers;
    a bad one is still refused."""
    import numpy as np
    from qtau_braket.settings import settings_for

    cost = pricing.estimate(IONQ, {"pricing": {"per_shot": np.float64(0.01), "per_task": np.int64(0)}}, 100)
    assert cost.per_shot == 0.01 and type(cost.per_shot) is float
    aws = settings_for({"connect_timeout_s": np.float32(2.5), "max_retries": np.int64(1)}, "us-east-1")
    assert (aws.connect_timeout_s, aws.max_retries) == (2.5, 1) and type(aws.max_retries) is int
    with pytest.raises(ConfigurationError, match="max_retries"):
        settings_for({"max_retries": np.float64(1)}, "us-east-1")
    with pytest.raises(ConfigurationError, match="pricing"):
        pricing.estimate(IONQ, {"pricing": {"per_shot": np.float64(-1)}}, 100)
