"""Shot and memory limits of PennyLane resources (qtau_pennylane.limits): simulators on this host
state the state they hold and the samples PennyLane keeps; braket.aws.qubit states the device's
published shot limit and no memory."""

import pytest
from qtau import resource_limits as limits
from qtau_pennylane.catalog import resources


@pytest.mark.parametrize(("executor", "config", "model"), [
    ("pennylane_default", {}, "statevector"),
    ("pennylane_default", {"noise": {"depolarizing_1q": 0.01}}, "density_matrix"),
    ("pennylane_lightning", {"device": "lightning.qubit"}, "statevector"),
    ("pennylane_braket", {"backend": "braket_dm"}, "density_matrix"),
])
def test_local_devices_state_their_memory(executor, config, model):
    [res] = resources(executor, config)
    assert res.metadata["memory_model"] == model and res.metadata["max_shots"] == limits.LOCAL_MAX_SHOTS
    assert res.metadata["bytes_per_sample"] == 8
    assert res.metadata["max_memory_bytes"] == limits.host_memory()[0]


def test_samples_count_against_the_memory():
    [res] = resources("pennylane_default", {"memory": 2**30})
    assert limits.breaches(res.metadata, 20, 1_000_000) == []  # 16 MiB of state, 160 MB of samples
    [breach] = limits.breaches(res.metadata, 20, 10_000_000)  # 1.6 GB of samples
    assert breach.field == "num_qubits" and "1.0 GiB" in breach.reason


@pytest.mark.parametrize(("arn", "shots"), [
    ("arn:aws:braket:::device/quantum-simulator/amazon/sv1", 100_000),
    ("arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1", 10_000),
])
def test_braket_aws_devices_state_their_published_shots(arn, shots):
    found = resources("pennylane_braket", {"device": "braket.aws.qubit", "braket_device_arn": arn})
    [res] = [r for r in found if r.metadata.get("arn")]
    assert res.metadata["max_shots"] == shots and "memory_model" not in res.metadata


def test_an_unknown_aws_device_states_no_shot_limit():
    arn = "arn:aws:braket:us-east-1::device/qpu/newco/Prototype-9"
    [res] = resources("pennylane_braket", {"device": "braket.aws.qubit", "braket_device_arn": arn})
    assert "max_shots" not in res.metadata
