"""Cost from the published price table (with overrides) and the queue of real devices.

A real device's status needs IBM; no local part of qiskit-ibm-runtime reports a queue, so the
device-status test stands a small stub in for IBMBackend (status() with pending_jobs) and lends
it FakeBrisbane's real Target for the noise. Everything else uses the real plugin code.
"""

import types

import pytest
from qtau.errors import ConfigurationError
from qtau.types import Resource
from qtau_ibmq import backends, pricing
from qtau_ibmq.credentials import account_of


def device(name="ibm_test", **meta):
    return Resource(id=f"ibmq:{name}", provider="ibmq", executor="ibmq_least_busy", kind="qpu", num_qubits=127,
                    circuit_formats=("qiskit",), metadata={"backend": name, "source": "runtime", **meta})


def test_pay_as_you_go_is_the_default(host):
    cost = host.cost(device(), {}, 1000)
    assert cost.currency == "USD" and cost.per_second == pytest.approx(1.60)
    # 2 s per task + 1000 shots x 250 us, at 1.60 USD/s
    assert cost.total(1000) == pytest.approx(1.60 * (2.0 + 0.25))
    assert cost.total(4000) > cost.total(1000)
    assert "pay_as_you_go" in cost.source


def test_backend_rep_delay_sets_the_shot_time():
    cost = pricing.estimate(device(rep_delay_s=0.0005), {}, 1000)
    assert cost.total(1000) == pytest.approx(1.60 * (2.0 + 0.5))


def test_plan_and_rate_overrides():
    flex = pricing.estimate(device(), {"pricing": {"plan": "flex"}}, 1000)
    assert flex.per_second == pytest.approx(1.20)
    assert pricing.estimate(device(), {"pricing": {"plan": "open"}}, 1000).total(1000) == 0
    custom = pricing.estimate(device(), {"pricing": {"per_second": 2.0, "currency": "EUR", "shot_s": 0.001}}, 1000)
    assert custom.currency == "EUR" and custom.total(1000) == pytest.approx(2.0 * (2.0 + 1.0))


@pytest.mark.parametrize("bad", [{"plan": "gold"}, {"per_second": -1}, {"discount": 0.5}, "cheap"])
def test_bad_pricing_is_a_configuration_error(bad):
    with pytest.raises(ConfigurationError, match="pricing"):
        pricing.settings({"pricing": bad})


@pytest.mark.filterwarnings("ignore:ibmq_qasm_simulator")
def test_fakes_and_the_simulator_are_free(host):
    for executor in ("ibmq_fake_manila", "ibmq_qasm_simulator"):
        [res] = backends.resources(executor, {})
        cost = host.cost(res, {}, 1000)
        assert cost.total(1000) == 0


def test_device_queue_and_noise_reach_the_hooks(host, monkeypatch):
    fake = backends.fake_backend("fake_brisbane")
    stub = types.SimpleNamespace(
        name="ibm_test", target=fake.target, num_qubits=127,
        status=lambda: types.SimpleNamespace(pending_jobs=12, operational=True, status_msg="active"),
    )
    config = {"ibmqx_token": "x" * 20, "pricing": {"seconds_per_queued_job": 10}}
    monkeypatch.setitem(backends._devices, (account_of(config), "ibm_test"), stub)
    res = device()
    status = host.status(res, config)
    assert status.online and status.queue_depth == 12 and status.estimated_wait_s == 120
    prof = host.noise(res, config)
    assert "live calibration of ibm_test" in prof.source and 0 < prof.two_qubit_error < 0.05


def test_device_resources_are_qpus():
    # The runtime's BackendConfiguration holds default_rep_delay in seconds (it converts the
    # microseconds of the backend's data), as the fake's own configuration shows.
    fake = backends.fake_backend("fake_manila")
    assert fake.configuration().default_rep_delay == pytest.approx(250e-6)
    stub = types.SimpleNamespace(name="ibm_test", target=fake.target, num_qubits=5,
                                 configuration=lambda: types.SimpleNamespace(default_rep_delay=250e-6))
    res = backends.resource_for(stub, "ibmq_test", account_of({}))
    assert res.kind == "qpu" and res.id == "ibmq:ibm_test" and res.metadata["rep_delay_s"] == pytest.approx(250e-6)
    assert res.metadata["gate_seconds"]["2q"] == pytest.approx(
        sum(p.duration for p in fake.target["cx"].values()) / len(fake.target["cx"]))
    assert set(res.native_gates) >= {"cx", "rz", "sx", "x", "measure"} and res.coupling_map


def test_rep_delay_is_read_in_seconds_as_the_runtime_configuration_gives_it():
    # fake_kolkata's conf JSON says 99.99 (microseconds); BackendConfiguration converts it to seconds.
    assert backends._rep_delay_s(backends.fake_backend("fake_kolkata")) == pytest.approx(1e-4)
