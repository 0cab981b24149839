"""Shot and memory limits of Braket resources (qtau.resource_limits): local simulators state the
memory their state needs against this host's; AWS devices state the shot limit GetDevice reports
(the offline stub serves realistic shot ranges) or, offline, the published one."""

import pytest
from qtau import resource_limits as limits
from qtau.dreamer.candidates import Candidate, Shape
from qtau.dreamer.ranking import Plan
from qtau.types import CircuitSummary
from qtau_braket import local, offline


def resource(host, stub, executor):
    [found] = host.resources(executor, {"executor": executor, **stub.config()})
    return found


def reasons(res, width, shots):
    summary = CircuitSummary(num_qubits=width, gate_counts={"h": width}, num_measured=width)
    plan = Plan([Candidate(res, {}, None, None, None)], Shape(summary, "braket", ("h",), width, shots),
                lambda fmt, r: ("braket",))
    return plan.reasons[0]


@pytest.mark.parametrize(("executor", "model", "width"), [("braket_local", "statevector", 26),
                                                          ("braket_local_dm", "density_matrix", 13)])
def test_local_simulators_state_their_memory(executor, model, width):
    [res] = local.resources(executor, {})
    assert res.metadata["memory_model"] == model and res.metadata["max_shots"] == limits.LOCAL_MAX_SHOTS
    assert res.metadata["max_memory_bytes"] == limits.host_memory()[0]
    assert res.metadata["bytes_per_sample"] == 8
    assert reasons(res, width, 1000) == ""


def test_the_pilot_memory_bounds_a_local_simulator():
    [res] = local.resources("braket_local_dm", {"memory": 2**30})
    # 13 qubits as a density matrix: 16 x 4^13 bytes = 1 GiB, plus the samples: over 1 GiB.
    assert "1.0 GiB (1073741824 bytes) of the pilot's memory setting" in reasons(res, 13, 1000)
    assert reasons(res, 12, 1000) == ""


@pytest.mark.parametrize(("executor", "shots"), [("braket_sv1", 100_000), ("braket_dm1", 100_000),
                                                 ("braket_tn1", 1_000), ("braket_ionq", 10_000),
                                                 ("braket_iqm", 20_000)])
def test_offline_devices_state_their_published_shot_limit(executor, shots):
    [res] = offline.resources(executor, {})
    assert res.metadata["max_shots"] == shots and "memory_model" not in res.metadata
    assert reasons(res, 2, shots) == "" and f"maximum of {shots} shots" in reasons(res, 2, shots + 1)


def test_sv1_offline_refuses_35_qubits_and_accepts_34():
    [res] = offline.resources("braket_sv1", {})
    assert reasons(res, 34, 100) == "" and "needs 35 qubits, has 34" in reasons(res, 35, 100)


@pytest.mark.parametrize(("executor", "shots"), [("braket_sv1", 100_000), ("braket_ionq", 5_000),
                                                 ("braket_rigetti", 50_000)])
def test_aws_devices_state_the_shot_limit_get_device_reports(host, fresh_stub, executor, shots):
    res = resource(host, fresh_stub, executor)
    assert res.metadata["max_shots"] == res.metadata["shots_range"][1] == shots
    assert "memory_model" not in res.metadata
