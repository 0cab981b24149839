"""Shot and memory limits of PennyLane resources (qtau_pennylane.limits): simulators on this host
state the state they hold and the samples PennyLane keeps; braket.aws.qubit states the device's
published shot limit and no memory."""

import os

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
    assert breach.field == "shots" and "1.0 GiB" in breach.reason and "of them samples" in breach.reason
    assert breach.value == 10_000_000 and "fewer shots" in breach.fix


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


def fake_nvidia_smi(folder, mib):
    """A stand-in `nvidia-smi` executable on PATH (no GPU here): prints what the real one prints
    for `--query-gpu=memory.total --format=csv,noheader,nounits`, and the arguments it got."""
    tool = folder / "nvidia-smi"
    tool.write_text(f"#!/bin/sh\necho \"$@\" > {folder}/args\necho {mib}\n")
    tool.chmod(0o755)


def test_lightning_gpu_states_the_gpus_memory(tmp_path, monkeypatch):
    from qtau.resource_limits import gpu_memory
    from qtau_pennylane.catalog import _resource
    from qtau_pennylane.limits import with_limits

    fake_nvidia_smi(tmp_path, 81559)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,0")
    assert gpu_memory() == 81559 * 1024**2 and "--id=1" in (tmp_path / "args").read_text()
    res = with_limits(_resource("lightning.gpu", "pennylane_lightning", gpu=True), {})
    assert res.metadata["max_memory_bytes"] == 81559 * 1024**2
    assert res.metadata["memory_source"] == "the GPU's memory (nvidia-smi)"
    assert limits.breaches(res.metadata, 32, 1000) == []  # 64 GiB of state on an 80 GB GPU
    assert limits.breaches(res.metadata, 33, 1000)[0].field == "num_qubits"  # 128 GiB
    pinned = with_limits(_resource("lightning.gpu", "pennylane_lightning", gpu=True), {"memory": 2**30})
    assert pinned.metadata["max_memory_bytes"] == 2**30


def test_without_nvidia_smi_lightning_gpu_states_only_its_shots(tmp_path, monkeypatch):
    from qtau_pennylane.catalog import _resource
    from qtau_pennylane.limits import with_limits

    monkeypatch.setenv("PATH", str(tmp_path))
    res = with_limits(_resource("lightning.gpu", "pennylane_lightning", gpu=True), {})
    assert res.metadata["max_shots"] == limits.LOCAL_MAX_SHOTS and "max_memory_bytes" not in res.metadata
