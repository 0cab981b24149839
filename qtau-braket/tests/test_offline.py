"""Braket devices built offline for quotes (no AWS credentials, no SDK): every family executor's
device has a shipped width and a price from prices.json."""

import pytest
from qtau.backend import OFFLINE
from qtau_braket import names
from qtau_braket.offline import resources
from qtau_braket.plugin import BraketBackend
from qtau_braket.pricing import estimate


@pytest.mark.parametrize("executor", sorted(names.FAMILIES))
def test_every_family_executor_is_priced_offline(executor):
    [res] = resources(executor, {})
    assert res.metadata[OFFLINE] and res.remote and res.num_qubits > 1
    cost = estimate(res, {}, 100)
    assert cost.origin == "table" and cost.total(100) > 0


def test_local_simulators_and_unknown_devices_are_not_built_offline():
    backend = BraketBackend()
    assert backend.offline_resources("braket_local", {}) is None
    arn = "arn:aws:braket:us-east-1::device/qpu/newco/Prototype-9"
    assert resources("braket_device_arn", {"braket_device_arn": arn}) is None


def test_ionq_forte_price_is_the_tables():
    [res] = resources("braket_ionq", {})
    assert res.num_qubits == 36 and res.kind == "qpu"
    assert estimate(res, {}, 1000).total(1000) == pytest.approx(0.3 + 1000 * 0.08)
